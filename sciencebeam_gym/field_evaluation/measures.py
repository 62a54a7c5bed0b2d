"""How an extracted field is judged against the publisher's: text normalisation, three matching
measures, and precision / recall / F1 over counted items (a single text is a list of one).

    >>> SOFT.matches("Deep learning for PDFs.", "deep learning for PDF")
    True

The measures follow the conventions of GROBID's end-to-end benchmark and ScienceBeam Judge (see
doc/extract-evaluation.md): strict equality, Levenshtein similarity >= 0.8 ("soft") and
Ratcliff/Obershelp similarity >= 0.95, the last two on normalised text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

SOFT_THRESHOLD = 0.8
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")  # punctuation, symbols, whitespace
RATCLIFF_OBERSHELP_THRESHOLD = 0.95


def strict_text(text: str) -> str:
    """NFKC-normalised text with runs of whitespace made one space: only layout is forgiven
    (line breaks, ligature glyphs), never case or punctuation."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def normalise_text(text: str) -> str:
    """NFKC-normalised, case-folded text without punctuation, symbols or whitespace."""
    return _NOT_ALPHANUMERIC.sub("", unicodedata.normalize("NFKC", text).casefold())


def strict_similarity(expected: str, actual: str) -> float:
    """1.0 when the strict texts are equal, else 0.0."""
    return 1.0 if strict_text(expected) == strict_text(actual) else 0.0


def levenshtein_similarity(expected: str, actual: str) -> float:
    """1 - edit distance / length of the longer text, on normalised text (1.0 for two empties)."""
    return Levenshtein.normalized_similarity(normalise_text(expected), normalise_text(actual))


def ratcliff_obershelp_similarity(expected: str, actual: str) -> float:
    """Ratcliff/Obershelp (gestalt) similarity of the normalised texts: twice the matched
    characters over the total. difflib's SequenceMatcher is that algorithm; its `autojunk`
    heuristic is turned off because it ignores frequent letters in texts over 200 characters."""
    return _ratcliff_obershelp(normalise_text(expected), normalise_text(actual))


def _ratcliff_obershelp(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class Measure:
    """A way to decide whether two texts match: a similarity and the threshold it must reach."""

    name: str
    similarity: Callable[[str, str], float]
    threshold: float

    def matches(self, expected: str, actual: str) -> bool:
        return self.similarity(expected, actual) >= self.threshold


STRICT = Measure("strict", strict_similarity, 1.0)
SOFT = Measure("soft", levenshtein_similarity, SOFT_THRESHOLD)
RATCLIFF_OBERSHELP = Measure(
    "ratcliff_obershelp", ratcliff_obershelp_similarity, RATCLIFF_OBERSHELP_THRESHOLD
)
MEASURES = (STRICT, SOFT, RATCLIFF_OBERSHELP)
MEASURES_BY_NAME = {measure.name: measure for measure in MEASURES}


@dataclass(frozen=True)
class Counts:
    """Items expected (publisher), extracted (actual) and matched one-to-one between them."""

    expected: int
    actual: int
    matched: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.expected + other.expected, self.actual + other.actual, self.matched + other.matched
        )

    @property
    def precision(self) -> float | None:
        """Share of extracted items that match; None when nothing was extracted."""
        return self.matched / self.actual if self.actual else None

    @property
    def recall(self) -> float | None:
        """Share of expected items that were matched; None when nothing was expected."""
        return self.matched / self.expected if self.expected else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (0 when either side is empty, None when both)."""
        total = self.expected + self.actual
        return 2 * self.matched / total if total else None


def match_matrix(
    measure: Measure, expected: Sequence[str], actual: Sequence[str]
) -> list[list[bool]]:
    """matrix[i][j]: does actual item j match expected item i under the measure."""
    if not expected or not actual:
        return [[False] * len(actual) for _ in expected]
    if measure is STRICT:
        left = [strict_text(text) for text in expected]
        right = [strict_text(text) for text in actual]
        return [[a == b for b in right] for a in left]
    left = [normalise_text(text) for text in expected]
    right = [normalise_text(text) for text in actual]
    if measure is SOFT:
        # rapidfuzz compares all pairs in C; reference lists reach 100 x 100 pairs.
        scores = process.cdist(left, right, scorer=Levenshtein.normalized_similarity)
        return [[bool(score >= measure.threshold) for score in row] for row in scores.tolist()]
    if measure is RATCLIFF_OBERSHELP:
        # The Indel similarity (2 x longest common subsequence / total length) bounds the
        # Ratcliff/Obershelp one from above, since matched blocks form a common subsequence:
        # rapidfuzz rules most pairs out in C, difflib checks the few left.
        bounds = process.cdist(left, right, scorer=Indel.normalized_similarity).tolist()
        return [
            [
                bound >= measure.threshold and _ratcliff_obershelp(a, b) >= measure.threshold
                for b, bound in zip(right, row, strict=True)
            ]
            for a, row in zip(left, bounds, strict=True)
        ]
    return [[measure.similarity(a, b) >= measure.threshold for b in right] for a in left]


def maximum_matching(matrix: list[list[bool]]) -> list[tuple[int, int]]:
    """The largest set of (expected, actual) pairs that match, each item used at most once.

    Kuhn's augmenting paths, written here because the only library with an assignment solver
    (scipy) is not a dependency and the lists are small (tens of items)."""
    owner: dict[int, int] = {}  # actual item -> expected item it is matched with

    def augment(row: int, seen: set[int]) -> bool:
        for column, is_match in enumerate(matrix[row]):
            if is_match and column not in seen:
                seen.add(column)
                if column not in owner or augment(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    for row in range(len(matrix)):
        augment(row, set())
    return sorted((row, column) for column, row in owner.items())


def list_counts(measure: Measure, expected: Sequence[str], actual: Sequence[str]) -> Counts:
    """Counts of a list field: every item may match at most one item of the other side."""
    matched = len(maximum_matching(match_matrix(measure, expected, actual)))
    return Counts(len(expected), len(actual), matched)


def text_counts(measure: Measure, expected: str, actual: str) -> Counts:
    """Counts of a single-text field: one item on each side that has text."""
    return list_counts(measure, [expected] if expected else [], [actual] if actual else [])


def count_agreement(expected: int, actual: int) -> Counts:
    """How well an item count agrees, as Counts: as many items match as the smaller side has."""
    return Counts(expected, actual, min(expected, actual))


def unique_items(items: Sequence[str]) -> list[str]:
    """Items without repeats (same normalised text), first occurrence kept; for fields that are
    sets, such as an author listed twice."""
    seen: set[str] = set()
    result = []
    for item in items:
        key = normalise_text(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
