"""A page's text layer: glyphs with their boxes, whitespace-separated words with their font, and
lines (`document.pdf` opens and renders the documents; `document.words` lays the words out).

Coordinates are PDF points with the origin at the top-left of the page's crop box (y grows down),
so they scale to the rendered image by `dpi / 72`. The work is linear in the number of glyphs,
except pdfium's own grouping of text objects (quadratic in them), so a page of more than
`limits.MAX_PAGE_TEXT_OBJECTS` is refused before pdfium reads its text, and one of more than
`limits.MAX_PAGE_GLYPHS` glyphs before they are read.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.limits import check_glyph_count, check_text_object_count
from sciencebeam_gym.document.text import LINE_BREAK_HYPHENS

_WORD_BREAKS = frozenset(" \t\r\n\f\v\u00a0\u2000\u2001\u2002\u2003\u2009\u200a\u202f")
_LINE_BREAKS = frozenset("\r\n")
# A gap wider than this many line heights inside a line starts a new line segment (a column gap).
_COLUMN_GAP_LINE_HEIGHTS = 2.0


# pdfium's font flags (PDF 32000 table 123) and the weight from which a font is bold.
_FLAG_ITALIC = 1 << 6
_FLAG_FORCE_BOLD = 1 << 18
_BOLD_WEIGHT = 600
# Style in a font's name, where the flags do not say it: "Times-Bold", "MyriadPro-CondIt",
# "AdvTT3f84ef53.B", "Arial,BoldItalic".
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|[-,.+]B(d)?$|-Bd|-Bl?k", re.IGNORECASE)
_ITALIC_NAME = re.compile(r"italic|oblique|slant|[-,.]I$|It$|-It\b|Ital", re.IGNORECASE)
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")


@dataclass(frozen=True)
class Font:
    """A word's font: its name without the subset prefix, and its style."""

    name: str
    bold: bool
    italic: bool


NO_FONT = Font("", False, False)


@dataclass(frozen=True)
class Word:
    """A whitespace-separated word: its text, the range of its glyphs, its font (an index into
    `PageText.fonts`, from its first glyph)."""

    text: str
    glyph_start: int
    glyph_end: int
    font: int = 0


@dataclass
class PageText:
    """The text layer of one page, in points from the top-left corner."""

    width: float
    height: float
    glyph_boxes: np.ndarray  # (G, 4) float: x0, top, x1, bottom (tight glyph boxes)
    glyph_lines: np.ndarray  # (G,) int: the line each glyph belongs to
    line_boxes: np.ndarray  # (L, 4) float: x0, top, x1, bottom (full line height)
    words: list[Word]
    # (G,) float: the glyph's full height (ascent to descent), which grows with its font size
    glyph_heights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fonts: list[Font] = field(default_factory=lambda: [NO_FONT])

    @property
    def has_text(self) -> bool:
        return bool(self.words)

    def word_lines(self, word_index: int) -> list[int]:
        word = self.words[word_index]
        return sorted(set(self.glyph_lines[word.glyph_start : word.glyph_end].tolist()))


def _page_origin(page: pdfium.PdfPage) -> tuple[float, float, float, float]:
    """The visible page box (crop box, or the media box, inherited ones included)."""
    left, bottom, right, top = page.get_bbox()
    return left, bottom, right, top


def _is_new_line(previous: tuple[float, ...], loose: tuple[float, ...]) -> bool:
    """Whether a glyph (loose box) leaves the line of the previous glyph's loose box."""
    prev_top, prev_bottom = previous[1], previous[3]
    top, bottom = loose[1], loose[3]
    overlap = min(prev_bottom, bottom) - max(prev_top, top)
    height = max(min(prev_bottom - prev_top, bottom - top), 1e-3)
    if overlap < 0.5 * height:
        return True
    line_height = max(prev_bottom - prev_top, bottom - top)
    moved_back = loose[0] < previous[0] - 0.5 * line_height
    jumped = loose[0] - previous[2] > _COLUMN_GAP_LINE_HEIGHTS * line_height
    return bool(moved_back or jumped)


class _FontReader:
    """The fonts of a text page's glyphs, each distinct one kept once."""

    def __init__(self, textpage: pdfium.PdfTextPage):
        self.textpage = textpage
        self.fonts: list[Font] = [NO_FONT]
        self._index: dict[tuple[str, int, int], int] = {}
        self._name = ctypes.create_string_buffer(256)
        self._flags = ctypes.c_int()

    def font_of(self, glyph: int) -> int:
        """The index in `fonts` of the font of the text page's glyph `glyph`."""
        length = pdfium_c.FPDFText_GetFontInfo(
            self.textpage.raw, glyph, self._name, len(self._name), ctypes.byref(self._flags)
        )
        if not length:
            return 0
        weight = pdfium_c.FPDFText_GetFontWeight(self.textpage.raw, glyph)
        key = (self._name.value.decode("utf-8", "replace"), self._flags.value, weight)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.fonts)
            self.fonts.append(font_from_info(*key))
        return index


def font_from_info(raw_name: str, flags: int, weight: int) -> Font:
    """A Font from pdfium's name, flags and weight (-1 when unknown), the name filling in."""
    name = _SUBSET_PREFIX.sub("", raw_name)
    bold = bool(flags & _FLAG_FORCE_BOLD) or weight >= _BOLD_WEIGHT or bool(_BOLD_NAME.search(name))
    italic = bool(flags & _FLAG_ITALIC) or bool(_ITALIC_NAME.search(name))
    return Font(name, bold, italic)


@dataclass
class _Glyphs:
    """What the reading of a page collects, glyph by glyph."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    loose: list[tuple[float, float, float, float]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    word_chars: list[str] = field(default_factory=list)
    word_start: int = 0
    word_font: int = 0

    def end_word(self) -> None:
        if self.word_chars:
            text = "".join(self.word_chars)
            self.words.append(Word(text, self.word_start, len(self.boxes), self.word_font))
        self.word_chars = []
        self.word_start = len(self.boxes)


def _glyph_boxes(textpage, index: int, left: float, top: float):
    """The tight and the loose box of a glyph, top-left based; a loose box that is missing or
    absurdly tall (some fonts' metrics) is the tight box with a little room above."""
    x0, y0, x1, y1 = textpage.get_charbox(index)
    lx0, ly0, lx1, ly1 = textpage.get_charbox(index, loose=True)
    tight = (x0 - left, top - y1, x1 - left, top - y0)
    loose = (lx0 - left, top - ly1, lx1 - left, top - ly0)
    if not loose[3] > loose[1] or loose[3] - loose[1] > 4 * max(tight[3] - tight[1], 1.0):
        loose = (tight[0], tight[1] - 0.2 * (tight[3] - tight[1]), tight[2], tight[3])
    return tight, loose


def extract_page_text(page: pdfium.PdfPage, max_glyphs: int | None = None) -> PageText:
    """Glyphs with boxes, words and lines of a page's text layer (empty for a scanned page);
    LimitError (document.limits) for a page of more than `max_glyphs` glyphs (default
    MAX_PAGE_GLYPHS) or of more than MAX_PAGE_TEXT_OBJECTS text objects, before they are read."""
    left, bottom, right, top = _page_origin(page)
    check_text_object_count(count_text_objects(page, limits.MAX_PAGE_TEXT_OBJECTS + 1))
    textpage = page.get_textpage()
    try:
        check_glyph_count(textpage.count_chars(), max_glyphs)
        glyphs, fonts = _read_glyphs(textpage, left, top)
    finally:
        textpage.close()
    glyph_lines = np.array(glyphs.lines, dtype=np.int64)
    loose_boxes = np.array(glyphs.loose, dtype=np.float64).reshape(-1, 4)
    words = [
        Word(w.text.replace("\u00ad", ""), w.glyph_start, w.glyph_end, w.font) for w in glyphs.words
    ]
    return PageText(
        width=right - left,
        height=top - bottom,
        glyph_boxes=np.array(glyphs.boxes, dtype=np.float64).reshape(-1, 4),
        glyph_lines=glyph_lines,
        line_boxes=_line_boxes(loose_boxes, glyph_lines),
        words=[w for w in words if w.text],
        glyph_heights=loose_boxes[:, 3] - loose_boxes[:, 1],
        fonts=fonts,
    )


def count_text_objects(page: pdfium.PdfPage, stop_at: int) -> int:
    """The text objects of a page, counted up to `stop_at` (cheap: the page's text layer is not
    built, which for a page of many objects costs the square of their number)."""
    count = 0
    for index in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        kind = pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page.raw, index))
        count += kind == pdfium_c.FPDF_PAGEOBJ_TEXT
        if count >= stop_at:
            break
    return count


def _read_glyphs(textpage, left: float, top: float) -> tuple[_Glyphs, list[Font]]:
    """Every glyph of the text page in text-layer order, cut into words and lines."""
    glyphs = _Glyphs()
    fonts = _FontReader(textpage)
    line = -1
    pending_line_break = True
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index) or 32)
        if char in _WORD_BREAKS or (ord(char) < 32 and char not in LINE_BREAK_HYPHENS):
            glyphs.end_word()
            pending_line_break = pending_line_break or char in _LINE_BREAKS
            continue
        tight, loose = _glyph_boxes(textpage, index, left, top)
        if pending_line_break or not glyphs.loose or _is_new_line(glyphs.loose[-1], loose):
            if glyphs.word_chars and not pending_line_break and not _continues_word(glyphs):
                glyphs.end_word()
            line += 1
            pending_line_break = False
        if not glyphs.word_chars:
            glyphs.word_font = fonts.font_of(index)
        if char in LINE_BREAK_HYPHENS and char != "-":
            char = "\u00ad"  # a line-break hyphen: kept as a glyph, dropped from the word's text
        glyphs.boxes.append(tight)
        glyphs.loose.append(loose)
        glyphs.lines.append(line)
        glyphs.word_chars.append(char)
    glyphs.end_word()
    return glyphs, fonts.fonts


def _continues_word(glyphs: _Glyphs) -> bool:
    """A word that ends in a line-break hyphen marker continues on the next line."""
    return glyphs.word_chars[-1] in LINE_BREAK_HYPHENS and glyphs.word_chars[-1] != "-"


def line_starts(glyph_lines: np.ndarray) -> np.ndarray:
    """The index of each line's first glyph: glyphs come line after line, and every line has
    one, so the lines are runs of the sorted `glyph_lines`."""
    if not glyph_lines.size:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.diff(glyph_lines, prepend=-1))


def _line_boxes(loose_boxes: np.ndarray, glyph_lines: np.ndarray) -> np.ndarray:
    """Per line the union of its glyphs' loose boxes, in one pass over the glyphs."""
    if not glyph_lines.size:
        return np.zeros((0, 4), dtype=np.float64)
    starts = line_starts(glyph_lines)
    return np.stack(
        [
            np.minimum.reduceat(loose_boxes[:, 0], starts),
            np.minimum.reduceat(loose_boxes[:, 1], starts),
            np.maximum.reduceat(loose_boxes[:, 2], starts),
            np.maximum.reduceat(loose_boxes[:, 3], starts),
        ],
        axis=1,
    )
