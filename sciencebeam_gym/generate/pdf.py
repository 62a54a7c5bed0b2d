"""PDF pages: read a page's text layer as glyphs, words and lines (`pdf_render` opens and
renders the documents).

Coordinates are PDF points with the origin at the top-left of the page's crop box (y grows down),
so they scale to the rendered image by `dpi / 72`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from sciencebeam_gym.generate.text import LINE_BREAK_HYPHENS

_WORD_BREAKS = frozenset(" \t\r\n\f\v\u00a0\u2000\u2001\u2002\u2003\u2009\u200a\u202f")
_LINE_BREAKS = frozenset("\r\n")
# A gap wider than this many line heights inside a line starts a new line segment (a column gap).
_COLUMN_GAP_LINE_HEIGHTS = 2.0


@dataclass(frozen=True)
class Word:
    """A whitespace-separated word: its text and the range of its glyphs."""

    text: str
    glyph_start: int
    glyph_end: int


@dataclass
class PageText:
    """The text layer of one page, in points from the top-left corner."""

    width: float
    height: float
    glyph_boxes: np.ndarray  # (G, 4) float: x0, top, x1, bottom (tight glyph boxes)
    glyph_lines: np.ndarray  # (G,) int: the line each glyph belongs to
    line_boxes: np.ndarray  # (L, 4) float: x0, top, x1, bottom (full line height)
    words: list[Word]

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


def extract_page_text(page: pdfium.PdfPage) -> PageText:
    """Glyphs with boxes, words and lines of a page's text layer (empty for a scanned page)."""
    left, _bottom, right, top = _page_origin(page)
    textpage = page.get_textpage()
    boxes: list[tuple[float, float, float, float]] = []
    loose_boxes: list[tuple[float, float, float, float]] = []
    lines: list[int] = []
    words: list[Word] = []
    word_chars: list[str] = []
    word_start = 0
    line = -1
    pending_line_break = True

    def end_word() -> None:
        nonlocal word_chars, word_start
        if word_chars:
            words.append(Word("".join(word_chars), word_start, len(boxes)))
        word_chars = []
        word_start = len(boxes)

    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index) or 32)
        if char in _WORD_BREAKS or (ord(char) < 32 and char not in LINE_BREAK_HYPHENS):
            end_word()
            pending_line_break = pending_line_break or char in _LINE_BREAKS
            continue
        x0, y0, x1, y1 = textpage.get_charbox(index)
        lx0, ly0, lx1, ly1 = textpage.get_charbox(index, loose=True)
        tight = (x0 - left, top - y1, x1 - left, top - y0)
        loose = (lx0 - left, top - ly1, lx1 - left, top - ly0)
        if not loose[3] > loose[1] or loose[3] - loose[1] > 4 * max(tight[3] - tight[1], 1.0):
            loose = (tight[0], tight[1] - 0.2 * (tight[3] - tight[1]), tight[2], tight[3])
        if pending_line_break or not loose_boxes or _is_new_line(loose_boxes[-1], loose):
            if word_chars and not pending_line_break and not _continues_word(word_chars):
                end_word()
            line += 1
            pending_line_break = False
        if char in LINE_BREAK_HYPHENS and char != "-":
            char = "\u00ad"  # a line-break hyphen: kept as a glyph, dropped from the word's text
        boxes.append(tight)
        loose_boxes.append(loose)
        lines.append(line)
        word_chars.append(char)
    end_word()
    textpage.close()

    glyph_boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    glyph_lines = np.array(lines, dtype=np.int64)
    line_boxes = _line_boxes(np.array(loose_boxes, dtype=np.float64).reshape(-1, 4), glyph_lines)
    words = [Word(w.text.replace("\u00ad", ""), w.glyph_start, w.glyph_end) for w in words]
    words = [w for w in words if w.text]
    return PageText(
        width=right - left,
        height=top - _bottom,
        glyph_boxes=glyph_boxes,
        glyph_lines=glyph_lines,
        line_boxes=line_boxes,
        words=words,
    )


def _continues_word(word_chars: list[str]) -> bool:
    """A word that ends in a line-break hyphen marker continues on the next line."""
    return word_chars[-1] in LINE_BREAK_HYPHENS and word_chars[-1] != "-"


def _line_boxes(loose_boxes: np.ndarray, glyph_lines: np.ndarray) -> np.ndarray:
    count = int(glyph_lines.max()) + 1 if glyph_lines.size else 0
    result = np.zeros((count, 4), dtype=np.float64)
    for line in range(count):
        members = loose_boxes[glyph_lines == line]
        if members.size:
            result[line] = (
                members[:, 0].min(),
                members[:, 1].min(),
                members[:, 2].max(),
                members[:, 3].max(),
            )
    return result
