"""The features of a page's words: one function, `page_features`, at training and at extraction.

Each word gets a dict of named features (crfsuite's item format: a string value is the feature
`name=value` with weight 1, a float is the feature `name` with that weight, True a flag). The
names, grouped as the sequence labellers of this field (GROBID's header model, CERMINE's zone
classifier) group them:

Lexical (the word, lower-cased, edge punctuation stripped: `lexicon.key`)
  w        the word itself                p3 / s3   its first / last three letters
  shape    the letters as X x d, runs collapsed ("Smith1" -> Xxd, "10.1186/s" -> d.d/x)
  case     upper / title / lower / mixed / none
  num      year / d1-2 (a short number: a mark, a label) / digits / hasdigit
  label    [n] / n. / n) / n : a reference or affiliation label's forms
  flags    inst (institution word), country, head (heading word), month, email, url, doi,
           stop (a stop word), end (its last character when it is . , ; or :)
Typographic (sizes are relative to the page's body size: the size most characters have)
  rs       the word's size bucket: xs < 0.75 <= s < 0.9 <= n < 1.1 <= l < 1.3 <= xl < 1.7 <= xxl
  bold, italic, raised (a raised glyph: a mark), allraised, bodyfont (the page's main font),
  fnew     its font differs from the word before's
Geometric (in tenths of the page unless said)
  x / y    the word's left edge and its line's middle (y in twentieths)
  col      left / right / span: its line left of, right of, or across the page's middle
  inline   first / last / mid / only: its place in its line
  inblock  first / last / mid / only: its line's place in its block
  gap      the space above its line in line heights: 0 / s (< 0.5) / m (< 1.5) / l / jump (no
           line just above: a column or block start)
  indent   in / out / 0: its line's left edge against its block's
  pg       1 / 2 / 3+ (page number); ppos: first / early / late / last (its share of the pages)
Line and block aggregates
  lrs, lwid (line width), lwords (word count bucket), lbold (all / some / none), lcaps,
  lfirst (what opens the line: a raised mark, a label, a digit, a capital), lend (its last
  character), linst / lemail / lcountry / lhead / lyear (the line holds one), lmax (the line is
  set in the page's largest size), bl (block lines bucket), binst / bemail (the block holds
  one), bhead (the block opens with a heading word)
  pl: / nl:  the line before's and the line after's lrs, lfirst, lend, lwords and gap
The vision model's classes under the word (`painted`, from the painted class map)
  pc       the class painted on most of its box (bg: background); pv:<class> the share of each
           class covering at least a tenth of it; lpc the class most of its line is painted
Window
  -2: / -1: / +1: / +2: the neighbours' w, shape, rs, bold and pc; bos / eos at the page's ends

The words come in `reading_sequence` order (reading order, the same at training and extraction).

`FEATURE_VERSION` changes whenever a feature's name or meaning does: a word model saved with
another version is refused at load.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.document.words import PageWord, union, words_in_reading_order
from sciencebeam_gym.words import lexicon

FEATURE_VERSION = 1
NO_PAINTED = "bg"
WINDOW = (-2, -1, 1, 2)
WINDOW_FEATURES = ("w", "shape", "rs", "bold", "pc")
LINE_WINDOW_FEATURES = ("lrs", "lfirst", "lend", "lwords", "gap")
PAINTED_MIN_SHARE = 0.1
_SHAPE_RUNS = re.compile(r"(.)\1+")
_LABEL_FORMS = (
    (re.compile(r"^\[\d{1,3}\][.,]?$"), "[n]"),
    (re.compile(r"^\d{1,3}\.$"), "n."),
    (re.compile(r"^\(?\d{1,3}\)$"), "n)"),
    (re.compile(r"^\d{1,3}$"), "n"),
)
_SIZE_BUCKETS = ((0.75, "xs"), (0.9, "s"), (1.1, "n"), (1.3, "l"), (1.7, "xl"))


@dataclass(frozen=True)
class PageInfo:
    """What the features know of the page beyond its words."""

    width: float
    height: float
    number: int = 1  # 1-based
    pages: int = 1  # the document's page count


def size_bucket(ratio: float) -> str:
    for limit, name in _SIZE_BUCKETS:
        if ratio < limit:
            return name
    return "xxl"


def word_shape(text: str) -> str:
    shape = "".join(
        "X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c for c in text
    )
    return _SHAPE_RUNS.sub(r"\1", shape)[:8]


def word_case(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "none"
    if all(c.isupper() for c in letters):
        return "upper" if len(letters) > 1 else "title"
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return "title"
    return "lower" if all(c.islower() for c in letters) else "mixed"


def number_kind(key: str) -> str:
    if lexicon.YEAR.match(key):
        return "year"
    if key.isdigit():
        return "d1-2" if len(key) <= 2 else "digits"
    return "hasdigit" if any(c.isdigit() for c in key) else ""


def label_form(text: str) -> str:
    for pattern, name in _LABEL_FORMS:
        if pattern.match(text):
            return name
    return ""


def lexical_features(word: PageWord) -> dict:
    """The word's own lexical features (see the module docstring)."""
    return dict(_lexical_features(word.plain or word.text, word.text))


# Words repeat (a page of 800 words holds some 400 distinct ones, an article's pages many of the
# same): their features are computed once per process.
@functools.lru_cache(maxsize=1 << 16)
def _lexical_features(text: str, raw: str) -> dict:
    key = lexicon.key(text)
    features: dict = {"w": key, "shape": word_shape(text), "case": word_case(text)}
    if len(key) > 3:
        features["p3"], features["s3"] = key[:3], key[-3:]
    number = number_kind(key)
    if number:
        features["num"] = number
    form = label_form(text)
    if form:
        features["label"] = form
    flags = (
        ("inst", key in lexicon.INSTITUTION_WORDS),
        ("country", key in lexicon.COUNTRY_WORDS),
        ("head", key in lexicon.HEADING_WORDS),
        ("month", key in lexicon.MONTH_WORDS),
        ("email", bool(lexicon.EMAIL.search(raw))),
        ("url", bool(lexicon.URL.search(raw))),
        ("doi", bool(lexicon.DOI.search(raw))),
    )
    features.update((name, True) for name, present in flags if present)
    if text and text[-1] in ".,;:":
        features["end"] = text[-1]
    return features


@dataclass
class _Line:
    """A text-layer line: its words (indices), box, size, and what it holds."""

    indices: list[int]
    box: tuple[float, float, float, float]
    size: float
    block: int


def _body(words: list[PageWord]) -> tuple[float, str]:
    """The size (to half a point) and font name most characters of the page have."""
    sizes: Counter = Counter()
    fonts: Counter = Counter()
    for word in words:
        sizes[round(word.size * 2) / 2] += len(word.text)
        fonts[word.font.name] += len(word.text)
    size = sizes.most_common(1)[0][0] if sizes else 1.0
    return max(size, 1e-3), fonts.most_common(1)[0][0] if fonts else ""


def _lines(words: list[PageWord]) -> list[_Line]:
    groups: dict[int, list[int]] = {}
    for index, word in enumerate(words):
        groups.setdefault(word.line, []).append(index)
    lines = []
    for indices in groups.values():
        sizes = sorted(words[i].size for i in indices)
        box = union(words[i].box for i in indices)
        lines.append(_Line(indices, box, sizes[len(sizes) // 2], words[indices[0]].block))
    return lines


def _gap(previous: _Line | None, line: _Line) -> str:
    if previous is None:
        return "jump"
    height = max(line.box[3] - line.box[1], 1e-3)
    overlaps = min(previous.box[2], line.box[2]) > max(previous.box[0], line.box[0])
    gap = (line.box[1] - previous.box[3]) / height
    if not overlaps or gap < -0.5 or gap > 4:
        return "jump"
    return "0" if gap < 0.1 else "s" if gap < 0.5 else "m" if gap < 1.5 else "l"


def _bucket(value: int, limits: Sequence[int]) -> str:
    for limit in limits:
        if value <= limit:
            return str(limit)
    return f">{limits[-1]}"


def _line_opening(word: PageWord) -> str:
    if word.runs and word.runs[0][1]:
        return "raised"
    form = label_form(word.text)
    if form:
        return form
    if word.text[:1].isdigit():
        return "digit"
    return "cap" if word.text[:1].isupper() else "other"


def line_features(
    words: list[PageWord], lexical: list[dict], page: PageInfo, body: tuple[float, str]
) -> list[dict]:
    """Per word, the features of its line, its neighbouring lines and its block (see the
    module docstring)."""
    lines = _lines(words)
    block_lines: dict[int, list[_Line]] = {}
    for line in lines:
        block_lines.setdefault(line.block, []).append(line)
    block_facts = {b: _block_facts(members, words, lexical) for b, members in block_lines.items()}
    largest = max(line.size for line in lines)
    per_line = []
    previous = None
    middle = page.width / 2
    for line in lines:
        members = block_lines[line.block]
        features = _one_line(line, words, lexical, page, body[0])
        features["gap"] = _gap(previous, line)
        left = min(m.box[0] for m in members)
        indent = (line.box[0] - left) / max(line.box[3] - line.box[1], 1e-3)
        features["indent"] = "in" if indent > 0.8 else "0"
        features["inblock"] = _place(members.index(line), len(members))
        span = line.box[0] < middle < line.box[2]
        features["col"] = "span" if span else "left" if line.box[2] <= middle else "right"
        if line.size >= 0.95 * largest:
            features["lmax"] = True
        features.update(block_facts[line.block])
        per_line.append(features)
        previous = line
    result: list[dict] = [{} for _ in words]
    for number, (line, features) in enumerate(zip(lines, per_line, strict=True)):
        features = {**features, **_neighbour_lines(per_line, number)}
        for position, index in enumerate(line.indices):
            result[index] = {**features, "inline": _place(position, len(line.indices))}
    return result


def _neighbour_lines(per_line: list[dict], number: int) -> dict:
    """The line before's and the line after's size, opening, end and gap (pl: / nl:)."""
    features = {}
    for prefix, other in (("pl:", number - 1), ("nl:", number + 1)):
        if 0 <= other < len(per_line):
            for name in LINE_WINDOW_FEATURES:
                value = per_line[other].get(name)
                if value:
                    features[prefix + name] = value
    return features


def _place(position: int, count: int) -> str:
    if count == 1:
        return "only"
    return "first" if position == 0 else "last" if position == count - 1 else "mid"


def _one_line(line: _Line, words, lexical, page: PageInfo, body_size: float) -> dict:
    members = [words[i] for i in line.indices]
    flags = [lexical[i] for i in line.indices]
    bold = sum(w.font.bold for w in members)
    letters = "".join(c for w in members for c in w.text if c.isalpha())
    features: dict = {
        "lrs": size_bucket(line.size / body_size),
        "lwid": str(min(int(10 * (line.box[2] - line.box[0]) / page.width), 9)),
        "lwords": _bucket(len(members), (1, 2, 4, 8, 15)),
        "lbold": "all" if bold == len(members) else "some" if bold else "none",
        "lfirst": _line_opening(members[0]),
        "lend": members[-1].text[-1:] if members[-1].text[-1:] in ".,;:" else "",
        "y": str(min(int(20 * (line.box[1] + line.box[3]) / 2 / page.height), 19)),
    }
    if letters and letters.isupper() and len(letters) > 1:
        features["lcaps"] = True
    for name, flag in (("linst", "inst"), ("lemail", "email"), ("lcountry", "country")):
        if any(flag in f for f in flags):
            features[name] = True
    if any(f.get("num") == "year" for f in flags):
        features["lyear"] = True
    if len(members) <= 3 and any("head" in f for f in flags):
        features["lhead"] = True
    return features


def _block_facts(lines: list[_Line], words, lexical) -> dict:
    indices = [i for line in lines for i in line.indices]
    facts: dict = {"bl": _bucket(len(lines), (1, 2, 5, 10))}
    if any("inst" in lexical[i] for i in indices):
        facts["binst"] = True
    if any("email" in lexical[i] for i in indices):
        facts["bemail"] = True
    if "head" in lexical[indices[0]]:
        facts["bhead"] = True
    return facts


def typographic_features(words: list[PageWord], body: tuple[float, str]) -> list[dict]:
    """Per word: size against the body's, bold, italic, raised, font change."""
    body_size, body_font = body
    result = []
    previous_font = None
    for word in words:
        features: dict = {"rs": size_bucket(word.size / body_size)}
        for name, present in (
            ("bold", word.font.bold),
            ("italic", word.font.italic),
            ("raised", word.raised),
            ("allraised", word.raised and not word.plain),
            ("bodyfont", word.font.name == body_font),
            ("fnew", previous_font is not None and word.font != previous_font),
        ):
            if present:
                features[name] = True
        previous_font = word.font
        result.append(features)
    return result


def painted_features(
    words: list[PageWord], shares: np.ndarray, labels: Sequence[str]
) -> list[dict]:
    """Per word, the vision model's classes under it: `shares` is (W, 1 + classes), column 0
    background, column k the class `labels[k - 1]` (document.words.class_shares)."""
    names = [NO_PAINTED, *labels]
    best = shares.argmax(axis=1).tolist()
    result = []
    for row, top in zip(shares.tolist(), best, strict=True):
        features: dict = {"pc": names[top]}
        for value, share in enumerate(row):
            if value and share >= PAINTED_MIN_SHARE:
                features[f"pv:{names[value]}"] = round(share, 2)
        result.append(features)
    by_line: dict[int, Counter] = {}
    for word, top in zip(words, best, strict=True):
        by_line.setdefault(word.line, Counter())[names[top]] += len(word.text)
    for word, features in zip(words, result, strict=True):
        features["lpc"] = by_line[word.line].most_common(1)[0][0]
    return result


def page_features(
    words: list[PageWord],
    page: PageInfo,
    painted: np.ndarray | None = None,
    painted_labels: Sequence[str] = (),
) -> list[dict]:
    """The features of every word of a page, in the words' order: the one function the word
    model is trained and applied with. `painted` (optional): the class shares under each word
    (`document.words.class_shares` of the vision model's class map), whose classes 1.. are
    `painted_labels`; without it the painted features are left out."""
    if not words:
        return []
    body = _body(words)
    lexical = [lexical_features(w) for w in words]
    typographic = typographic_features(words, body)
    lines = line_features(words, lexical, page, body)
    pg = str(page.number) if page.number <= 2 else "3+"
    share = page.number / max(page.pages, 1)
    ppos = "first" if page.number == 1 else "early" if share <= 0.5 else "late"
    ppos = "last" if page.number == page.pages and page.pages > 1 else ppos
    features = []
    for word, own, style, line in zip(words, lexical, typographic, lines, strict=True):
        x = str(min(int(10 * word.box[0] / page.width), 9))
        features.append({**own, **style, **line, "x": x, "pg": pg, "ppos": ppos})
    if painted is not None:
        for item, extra in zip(
            features, painted_features(words, painted, painted_labels), strict=True
        ):
            item.update(extra)
    return with_window(features)


def reading_sequence(words: list[PageWord]) -> list[int]:
    """The order the word model reads a page's words in, at training and at extraction alike:
    reading order (`document.words.words_in_reading_order`), not the text layer's, which some
    producers write title last; the same layout then gives the same sequence."""
    return words_in_reading_order(words)


def with_window(features: list[dict]) -> list[dict]:
    """Each word's features with its neighbours' `WINDOW_FEATURES` (prefixed by their offset)."""
    count = len(features)
    result = []
    for index, own in enumerate(features):
        item = dict(own)
        for offset in WINDOW:
            other = index + offset
            if 0 <= other < count:
                prefix = f"{offset:+d}:"
                neighbour = features[other]
                for name in WINDOW_FEATURES:
                    if name in neighbour:
                        item[prefix + name] = neighbour[name]
        if index == 0:
            item["bos"] = True
        if index == count - 1:
            item["eos"] = True
        result.append(item)
    return result
