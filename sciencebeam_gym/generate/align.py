"""Find the XML fields' text on a page: fuzzy, in reading order, each page word used once.

Both sides are cut into the same normalised tokens (`text.tokenise`). For every field, the longest
common subsequence of its tokens and the page's tokens (rapidfuzz, bit-parallel) gives matches in
reading order; matches are cut into runs where the page skips a whole line or more than a few
tokens, and a run is kept when it is dense enough. Runs of all fields then compete: the run with
the most matched tokens claims its page tokens first, and a field that lost tokens is aligned
again against what is left. Inside a kept run, field tokens the ordered match missed (reordered
names, initials) are counted by bag matching. To keep the ordered match from pairing a block's
words with copies scattered over the page, a field is aligned only against page regions that
share a few tokens in a row with it (whole page for short fields and author lists).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from sciencebeam_gym.document.jats import Field
from sciencebeam_gym.document.text import STOPWORDS, tokenise
from sciencebeam_gym.document.text_layer import PageText

MAX_GAP_TOKENS = 5  # unmatched page tokens allowed between two matches of one run
STOPWORD_REACH = 3  # a matched stop word counts when a matched content word is this close
MIN_RUN_TOKENS = 8  # a run of a long field needs this many tokens (or MIN_RUN_SHARE of it)
MIN_RUN_SHARE = 0.2
LONG_FIELD_TOKENS = 20  # a run of a field this long must hold one of its ends ...
MIDDLE_RUN_SHARE = 0.4  # ... unless it matches this share of the field
END_SLACK_TOKENS = 4
MIN_DENSITY = 0.5  # matched tokens / page tokens in a run
MARGIN_FRACTION = 0.15  # top and bottom share of the page that counts as margin
FUZZY_TOKEN_SCORE = 80  # rapidfuzz ratio for a field token to stand for a near-equal page token
FUZZY_TOKEN_LENGTH = 6  # ... when it has at least this many letters ("dent" is not "end")
BAG_REACH = 2  # page tokens beside a run of a "group" field searched for reordered tokens
MAX_REALIGN = 4  # times a field is aligned again after losing page tokens to other fields
_HYPHENS = ("-", "\u2010", "\u2011", "\u00ad")


@dataclass(frozen=True)
class PageToken:
    key: str
    first_word: int
    last_word: int
    line: int


@dataclass
class FieldMatch:
    """Where a field was found: painted word ranges and token coverage."""

    field: Field
    tokens: int
    matched: int = 0
    word_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.word_spans)


@dataclass(frozen=True)
class _Run:
    field_index: int
    page_start: int  # page token range, inclusive
    page_end: int
    matches: tuple[tuple[int, int], ...]  # (field token, page token)

    @property
    def score(self) -> int:
        return len(self.matches)


def page_tokens(
    page: PageText, vocabulary: set[str] | frozenset[str] = frozenset()
) -> list[PageToken]:
    """The page's tokens in reading order; a word hyphenated over a line break is joined when
    the joined form is a word of the XML (`vocabulary`), so "Mother-to-" + "Child" stays apart."""
    tokens: list[PageToken] = []
    for index, word in enumerate(page.words):
        line = int(page.glyph_lines[word.glyph_start])
        for key in tokenise(word.text):
            tokens.append(PageToken(key, index, index, line))
    return _join_hyphenated(page, tokens, vocabulary)


def _join_hyphenated(
    page: PageText, tokens: list[PageToken], vocabulary: set[str] | frozenset[str]
) -> list[PageToken]:
    """Join two neighbouring word tokens into one when the XML spells them as one word: a word
    hyphenated over a line break ("dis-" + "charge"), or written apart ("Key words")."""
    result: list[PageToken] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if following is not None and _joins(page, token, following, vocabulary):
            joined = token.key + following.key
            result.append(PageToken(joined, token.first_word, following.last_word, token.line))
            position += 2
            continue
        result.append(token)
        position += 1
    return result


def _joins(
    page: PageText, token: PageToken, following: PageToken, vocabulary: set[str] | frozenset[str]
) -> bool:
    if following.first_word != token.last_word + 1:
        return False
    if not (token.key.isalpha() and following.key.isalpha()):
        return False
    if token.key + following.key not in vocabulary:
        return False
    if following.line != token.line:
        return page.words[token.last_word].text.endswith(_HYPHENS)
    # apart on one line: only when one part alone is no word of the XML
    return token.key not in vocabulary or following.key not in vocabulary


class _Aligner:
    """The state of one page's alignment: token ids, which page tokens are taken."""

    def __init__(self, page: PageText, fields: list[Field], page_index: int):
        self.page = page
        self.fields = fields
        self.page_index = page_index
        self.field_tokens = [tokenise(_field_text(f, page_index)) for f in fields]
        vocabulary = {token for tokens in self.field_tokens for token in tokens}
        self.tokens = page_tokens(page, vocabulary)
        self.ids: dict[str, int] = {}
        self.page_ids = np.array([self._id(t.key) for t in self.tokens], dtype=np.int64)
        self.page_vocabulary = sorted({t.key for t in self.tokens})
        self.used = np.zeros(len(self.tokens), dtype=bool)
        self.in_margin = self._margin_mask()
        self.line_tokens = self._tokens_by_line()
        self.field_used = [set() for _ in fields]  # field token positions already matched
        self.field_ids = [self._field_ids(tokens) for tokens in self.field_tokens]
        self.numeric_ids = {i for key, i in self.ids.items() if key.isdigit()}

    def _id(self, key: str) -> int:
        return self.ids.setdefault(key, len(self.ids) + 1)

    def _field_ids(self, tokens: list[str]) -> list[int]:
        ids = []
        known = self.ids
        for token in tokens:
            if token in known:
                ids.append(known[token])
                continue
            near = None
            if len(token) >= FUZZY_TOKEN_LENGTH and token.isalpha() and self.page_vocabulary:
                near = process.extractOne(
                    token, self.page_vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_TOKEN_SCORE
                )
            ids.append(known[near[0]] if near else self._id(token))
        return ids

    def _margin_mask(self) -> np.ndarray:
        top = MARGIN_FRACTION * self.page.height
        bottom = (1 - MARGIN_FRACTION) * self.page.height
        boxes = self.page.line_boxes
        return np.array(
            [boxes[t.line][3] <= top or boxes[t.line][1] >= bottom for t in self.tokens], dtype=bool
        )

    def _standalone_numbers_or_all(self, wanted: np.ndarray) -> np.ndarray:
        """Tokens that are a whole word made of digits (a page number stands alone), or every
        token when none of the `wanted` tokens is such a word."""
        standalone = np.array(
            [
                t.first_word == t.last_word and self.page.words[t.first_word].text.isdigit()
                for t in self.tokens
            ],
            dtype=bool,
        )
        return standalone if (standalone & wanted).any() else np.ones_like(standalone)

    def _tokens_by_line(self) -> dict[int, list[int]]:
        by_line: dict[int, list[int]] = {}
        for position, token in enumerate(self.tokens):
            by_line.setdefault(token.line, []).append(position)
        return by_line

    def runs_for(self, field_index: int) -> list[_Run]:
        """Candidate runs of one field against the page tokens still free."""
        options = self.fields[field_index].options
        field_ids = list(self.field_ids[field_index])
        for position in self.field_used[field_index]:
            field_ids[position] = -1_000_000 - position  # matches nothing
        if not field_ids or not len(self.tokens):
            return []
        available = ~self.used
        if "margin" in options:
            available &= self.in_margin
        if "page_number" in options:
            available &= self._standalone_numbers_or_all(
                available & np.isin(self.page_ids, field_ids)
            )
        page_ids = np.where(available, self.page_ids, -np.arange(1, len(self.tokens) + 1))
        matches: list[tuple[int, int]] = []
        whole_page = len(field_ids) <= 12 or "group" in options
        for start, end in _seed_windows(field_ids, page_ids, self.numeric_ids, whole_page):
            for op in Indel.opcodes(field_ids, page_ids[start:end].tolist()):
                if op.tag == "equal":
                    matches.extend(
                        (op.src_start + k, start + op.dest_start + k)
                        for k in range(op.src_end - op.src_start)
                    )
        matches = self._anchored(field_index, sorted(matches, key=lambda m: m[1]))
        runs = [
            _Run(field_index, group[0][1], group[-1][1], tuple(group))
            for group in self._split(matches)
        ]
        return [run for run in runs if self._acceptable(run)]

    def _anchored(self, field_index: int, matches: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Matches without stop words that stand alone: a "the" or "of" matched inside a foreign
        line next to no other matched word would chain a block across that line."""
        tokens = self.field_tokens[field_index]
        anchors = [p for f, p in matches if tokens[f] not in STOPWORDS]
        if not anchors:
            return matches
        anchors_array = np.array(anchors)
        kept = []
        for f, p in matches:
            if tokens[f] not in STOPWORDS:
                kept.append((f, p))
                continue
            nearest = np.abs(anchors_array - p).min()
            if nearest <= STOPWORD_REACH:
                kept.append((f, p))
        return kept

    def _split(self, matches: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        groups: list[list[tuple[int, int]]] = []
        for match in matches:
            if groups and not self._breaks(groups[-1][-1][1], match[1]):
                groups[-1].append(match)
            else:
                groups.append([match])
        return groups

    def _breaks(self, previous: int, current: int) -> bool:
        """Whether two matched page tokens are too far apart to be one block."""
        if current - previous - 1 > MAX_GAP_TOKENS:
            return True
        first_line = self.tokens[previous].line
        last_line = self.tokens[current].line
        # a whole line in between with no match of this run: a different block
        return last_line - first_line > 1 and any(
            first_line < self.tokens[p].line < last_line for p in range(previous + 1, current)
        )

    def _acceptable(self, run: _Run) -> bool:
        total = len(self.field_tokens[run.field_index])
        extra, start, end = self.complete(run)
        score = run.score + extra
        # a long field needs more evidence: a few common words are not enough to place it
        minimum = min(total, max(3, min(MIN_RUN_TOKENS, math.ceil(MIN_RUN_SHARE * total))))
        if (
            run.score < min(minimum, 2 if total < 12 else 3)
            or score < minimum
            or score / (end - start + 1) < MIN_DENSITY
        ):
            return False
        if not self._has_content_words(run):
            return False
        if (
            total >= LONG_FIELD_TOKENS
            and score < MIDDLE_RUN_SHARE * total
            and not self._at_an_end(run)
        ):
            return False
        options = self.fields[run.field_index].options
        if "line" in options:
            return self._fills_lines(run)
        if "line_start" in options:
            return self._starts_line(run)
        return True

    def _has_content_words(self, run: _Run) -> bool:
        """At least two words that are not stop words matched (or all the field has)."""
        tokens = self.field_tokens[run.field_index]
        available = sum(1 for t in tokens if t not in STOPWORDS)
        matched = sum(1 for f, _ in run.matches if tokens[f] not in STOPWORDS)
        return matched >= min(2, available)

    def _at_an_end(self, run: _Run) -> bool:
        """Whether a run holds the start or the end of its field: a long block that a page or
        column break cut shows one of its ends, while a few sentences from its middle are
        more likely a paraphrase elsewhere on the page (a biography box, a highlight)."""
        total = len(self.field_tokens[run.field_index])
        first = min(f for f, _ in run.matches)
        last = max(f for f, _ in run.matches)
        return first < END_SLACK_TOKENS or last >= total - END_SLACK_TOKENS

    def _starts_line(self, run: _Run) -> bool:
        """True when the run is the start of its line (a caption's "Figure 1", not a mention)."""
        start = run.page_start
        return start == 0 or self.tokens[start - 1].line != self.tokens[start].line

    def _fills_lines(self, run: _Run) -> bool:
        """True when every line the run touches holds nothing but the run (and numbering)."""
        lines = {self.tokens[p].line for p in range(run.page_start, run.page_end + 1)}
        for line in lines:
            for position in self.line_tokens[line]:
                inside = run.page_start <= position <= run.page_end
                if not inside and not _is_numbering(self.tokens[position].key):
                    return False
        return True

    def _whole_lines(self, start: int, end: int) -> tuple[int, int]:
        """A heading's span grown to the free numbering on its lines ("1.", "II.")."""
        first_line = self.line_tokens[self.tokens[start].line]
        last_line = self.line_tokens[self.tokens[end].line]
        while start > first_line[0] and not self.used[start - 1]:
            start -= 1
        while end < last_line[-1] and not self.used[end + 1]:
            end += 1
        return start, end

    def priority(self, run: _Run) -> tuple[int, float, float]:
        """Best first: most matched tokens; among equals the larger share of its field (a DOI
        before a reference that cites the same journal), then the larger print (a title before
        its copy in a citation box)."""
        share = run.score / len(self.field_tokens[run.field_index])
        lines = {self.tokens[p].line for _, p in run.matches}
        boxes = self.page.line_boxes[sorted(lines)]
        height = float(np.median(boxes[:, 3] - boxes[:, 1]))
        return -run.score, -share, -height

    def overlaps(self, run: _Run) -> bool:
        """Whether page tokens of the run were taken, or field tokens it matched were already
        placed elsewhere (a field shown twice, e.g. an author named again below, counts once)."""
        used = self.field_used[run.field_index]
        return bool(self.used[run.page_start : run.page_end + 1].any()) or any(
            f in used for f, _ in run.matches
        )

    def extend(self, run: _Run) -> _Run:
        """Grow a run over neighbouring page tokens that continue the field exactly.

        The ordered match may have paired a run's first or last words with copies elsewhere on
        the page; taking the exact neighbours back keeps a block whole.
        """
        field_ids = self.field_ids[run.field_index]
        taken = self.field_used[run.field_index] | {f for f, _ in run.matches}
        matches = list(run.matches)
        field_position, page_position = matches[0][0] - 1, run.page_start - 1
        while (
            field_position >= 0
            and page_position >= 0
            and field_position not in taken
            and not self.used[page_position]
            and self.page_ids[page_position] == field_ids[field_position]
        ):
            matches.insert(0, (field_position, page_position))
            field_position, page_position = field_position - 1, page_position - 1
        field_position, page_position = matches[-1][0] + 1, run.page_end + 1
        while (
            field_position < len(field_ids)
            and page_position < len(self.tokens)
            and field_position not in taken
            and not self.used[page_position]
            and self.page_ids[page_position] == field_ids[field_position]
        ):
            matches.append((field_position, page_position))
            field_position, page_position = field_position + 1, page_position + 1
        return _Run(run.field_index, matches[0][1], matches[-1][1], tuple(matches))

    def complete(self, run: _Run) -> tuple[int, int, int]:
        """Field tokens the ordered match missed but found, in any order, among the free page
        tokens of the run or just beside it (reordered names, initials): (count, start, end)."""
        taken = self.field_used[run.field_index] | {f for f, _ in run.matches}
        matched_pages = {p for _, p in run.matches}
        missing = [t for i, t in enumerate(self.field_tokens[run.field_index]) if i not in taken]
        if not missing:
            return 0, run.page_start, run.page_end
        reach = BAG_REACH if "group" in self.fields[run.field_index].options else 0
        start = run.page_start
        while start > 0 and run.page_start - start < reach and not self.used[start - 1]:
            start -= 1
        end = run.page_end
        while end + 1 < len(self.tokens) and end - run.page_end < reach and not self.used[end + 1]:
            end += 1
        positions = [
            p for p in range(start, end + 1) if p not in matched_pages and not self.used[p]
        ]
        found = _bag_positions(missing, [self.tokens[p].key for p in positions])
        hits = [positions[k] for k in found]
        inside = [p for p in hits if run.page_start <= p <= run.page_end]
        # tokens beside the run count only when they sit next to it (no gap left behind)
        new_start, new_end = run.page_start, run.page_end
        for p in sorted((p for p in hits if p < run.page_start), reverse=True):
            if p == new_start - 1 or all(q in hits for q in range(p, new_start)):
                new_start = p
        for p in sorted(p for p in hits if p > run.page_end):
            if p == new_end + 1 or all(q in hits for q in range(new_end + 1, p + 1)):
                new_end = p
        outside = [
            p for p in hits if new_start <= p < run.page_start or run.page_end < p <= new_end
        ]
        return len(inside) + len(outside), new_start, new_end

    def accept(self, run: _Run, match: FieldMatch) -> None:
        run = self.extend(run)
        extra, start, end = self.complete(run)
        if "line" in self.fields[run.field_index].options:
            start, end = self._whole_lines(start, end)
        self.used[start : end + 1] = True
        self.field_used[run.field_index].update(f for f, _ in run.matches)
        match.matched = min(match.tokens, match.matched + run.score + extra)
        match.word_spans.append((self.tokens[start].first_word, self.tokens[end].last_word))


SEED_LENGTH = 3  # tokens in a row that mark where a field may be on the page


def _seed_windows(
    field_ids: list[int], page_ids: np.ndarray, numeric_ids: set[int], whole_page: bool
) -> list[tuple[int, int]]:
    """Page token ranges worth aligning a field against: around runs of SEED_LENGTH tokens in a
    row shared with the field (numbers such as affiliation marks skipped), so each occurrence
    is aligned on its own and the ordered match cannot pair a block's words with copies
    scattered over the page. Without any shared run, the whole page when `whole_page`."""
    field_words = [(j, t) for j, t in enumerate(field_ids) if t not in numeric_ids]
    page_words = [(i, t) for i, t in enumerate(page_ids.tolist()) if t not in numeric_ids]
    size = min(SEED_LENGTH, len(field_words))
    page_count = len(page_ids)
    if size == 0:  # numbers only (a page number): no words to anchor on
        return [(0, page_count)]
    grams: dict[tuple[int, ...], list[int]] = {}
    for k in range(len(field_words) - size + 1):
        key = tuple(t for _, t in field_words[k : k + size])
        grams.setdefault(key, []).append(field_words[k][0])
    slack = min(MAX_GAP_TOKENS, len(field_ids)) + len(field_ids) // 10
    windows: list[list[int]] = []
    for k in range(len(page_words) - size + 1):
        key = tuple(t for _, t in page_words[k : k + size])
        i = page_words[k][0]
        for j in grams.get(key, ()):
            start = max(0, i - j - slack)
            end = min(page_count, i + (len(field_ids) - j) + slack)
            windows.append([start, end])
    if not windows:
        return [(0, page_count)] if whole_page else []
    windows.sort()
    merged = [windows[0]]
    for start, end in windows[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _is_numbering(key: str) -> bool:
    return key.isdigit() or len(key) == 1 or key in {"ii", "iii", "iv", "vi", "vii", "viii", "ix"}


def _bag_positions(field_keys: list[str], page_keys: list[str]) -> list[int]:
    """Indexes of page tokens that field tokens find regardless of order (an initial stands for
    a name)."""
    free: dict[str, list[int]] = {}
    for index, key in enumerate(page_keys):
        free.setdefault(key, []).append(index)
    found = []
    for key in field_keys:
        for candidate in (key, key[0] if key.isalpha() else None):
            if candidate and free.get(candidate):
                found.append(free[candidate].pop(0))
                break
    return found


def _field_text(item: Field, page_index: int) -> str:
    """The text to look for; a page number field counts on from the first page's number."""
    if "page_number" in item.options:
        text = item.text.strip()
        return str(int(text) + page_index) if text.isdigit() else text
    return item.text


def align_fields(page: PageText, fields: list[Field], page_index: int = 0) -> list[FieldMatch]:
    """Match every field against the page (page_index 0 is the first page); one result per field."""
    aligner = _Aligner(page, fields, page_index)
    results = [
        FieldMatch(f, len(tokens)) for f, tokens in zip(fields, aligner.field_tokens, strict=True)
    ]
    if not aligner.tokens:
        return results
    queue: list[tuple[int, float, float, int, int, _Run]] = []
    counter = 0
    for index in range(len(fields)):
        for run in aligner.runs_for(index):
            counter += 1
            heapq.heappush(queue, (*aligner.priority(run), counter, 0, run))
    while queue:
        *_priority, attempts, run = heapq.heappop(queue)
        if not aligner.overlaps(run):
            aligner.accept(run, results[run.field_index])
            continue
        if attempts >= MAX_REALIGN:
            continue
        # Tokens were taken meanwhile: align this field again on what is left.
        for new_run in aligner.runs_for(run.field_index):
            if not aligner.overlaps(new_run):
                counter += 1
                priority = aligner.priority(new_run)
                heapq.heappush(queue, (*priority, counter, attempts + 1, new_run))
    return results
