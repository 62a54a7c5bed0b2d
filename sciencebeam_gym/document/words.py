"""A page's words as every stage reads them: box, line, block, font and raised glyphs.

    words = page_words(extract_page_text(page))   # in text-layer order

- A word's box spans its glyphs horizontally and its line's full height vertically (as training
  pages are painted), and the word is cut into runs of normal and raised glyphs (superscripts:
  affiliation marks, footnote signs).
- Its font is its first glyph's (name, bold, italic); its size is the median full height of its
  glyphs, which grows with the font size whatever the PDF's text matrix says.
- Blocks, without any class: a line joins the block of the line before it when it sits just
  below it (gap under `BLOCK_GAP_HEIGHTS` line heights), overlaps it horizontally and has a
  similar size (within `FONT_RATIO`), or continues it on the same row.

The work is O(G log G) in the page's glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.document.text_layer import NO_FONT, Font, PageText, line_starts

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in points from the top-left

BLOCK_GAP_HEIGHTS = 1.0
FONT_RATIO = 1.3
# Pieces of one row further apart than this many line heights are in different columns.
COLUMN_GAP_HEIGHTS = 2.0
# A glyph whose bottom is this share of the line height above the line's baseline is raised.
RAISED_HEIGHTS = 0.2
# Glyphs that can be marks when raised: letters, digits and these; dashes, quotes, operators
# sit high by their shape, not because they are superscripts.
MARK_GLYPHS = frozenset(",;*#\u2020\u2021\u00a7\u00b6\u2016\u2217")


@dataclass
class PageWord:
    """A word of the text layer: text, box, line, runs of (text, raised) glyphs, font, size,
    block; `label` is the class a stage gives it (empty: none)."""

    text: str
    box: Box
    line: int
    runs: tuple[tuple[str, bool], ...]
    font: Font = NO_FONT
    size: float = 0.0
    block: int = 0
    label: str = ""

    @property
    def plain(self) -> str:
        """The word without its raised glyphs."""
        return "".join(text for text, raised in self.runs if not raised)

    @property
    def raised(self) -> bool:
        """Whether any of its glyphs is raised."""
        return any(raised for _, raised in self.runs)


def page_words(page: PageText) -> list[PageWord]:
    """The page's words with boxes, lines, raised runs, fonts and blocks."""
    baselines = line_baselines(page)
    words = []
    for word in page.words:
        glyphs = page.glyph_boxes[word.glyph_start : word.glyph_end]
        line = int(page.glyph_lines[word.glyph_start])
        line_box = page.line_boxes[line]
        box = (float(glyphs[:, 0].min()), float(line_box[1]), float(glyphs[:, 2].max()))
        box = (*box, float(line_box[3]))
        runs = _runs(word.text, glyphs, baselines[line], line_box[3] - line_box[1])
        runs = tuple((clean_text(text), raised) for text, raised in runs)
        font = page.fonts[word.font] if word.font < len(page.fonts) else NO_FONT
        size = _word_size(page, word.glyph_start, word.glyph_end, line_box)
        words.append(PageWord(clean_text(word.text), box, line, runs, font, size))
    assign_blocks(words)
    return words


def _word_size(page: PageText, start: int, end: int, line_box) -> float:
    heights = page.glyph_heights[start:end]
    if heights.size:
        return float(np.median(heights))
    return float(line_box[3] - line_box[1])


def clean_text(text: str) -> str:
    """Text fit for XML: UTF-16 surrogate pairs (as the text layer gives characters beyond the
    basic plane) joined into their character; lone surrogates and control characters dropped."""
    if text.isprintable():
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(c for c in joined if c.isprintable() and c != "\ufffd")


def line_baselines(page: PageText) -> np.ndarray:
    """Per line, where most of its ink sits: the glyph bottom (to half a point) with the most
    glyph height on it, the lower one on a tie; neither descenders (p, g) nor a few small
    superscripts move it. One sort of each line's glyphs."""
    baselines = page.line_boxes[:, 3].copy() if len(page.line_boxes) else np.zeros(0)
    if not page.glyph_lines.size:
        return baselines
    bottoms = np.round(page.glyph_boxes[:, 3] * 2) / 2
    heights = page.glyph_boxes[:, 3] - page.glyph_boxes[:, 1]
    starts = line_starts(page.glyph_lines)
    ends = [*starts[1:].tolist(), len(page.glyph_lines)]
    for start, end in zip(starts.tolist(), ends, strict=True):
        values, inverse = np.unique(bottoms[start:end], return_inverse=True)
        weights = np.bincount(inverse, weights=heights[start:end])
        line = int(page.glyph_lines[start])
        baselines[line] = float(values[len(values) - 1 - weights[::-1].argmax()])
    return baselines


def _runs(text: str, glyphs: np.ndarray, baseline: float, height: float):
    """Runs of (text, raised); one plain run when the glyphs cannot be matched to characters."""
    if len(text) != len(glyphs):
        return ((text, False),)
    high = (glyphs[:, 3] < baseline - RAISED_HEIGHTS * height).tolist()
    if not any(high):
        return ((text, False),)
    runs: list[list] = []
    for char, is_high in zip(text, high, strict=True):
        raised = is_high and (char.isalnum() or char in MARK_GLYPHS)
        if runs and runs[-1][1] == raised:
            runs[-1][0] += char
        else:
            runs.append([char, raised])
    return tuple((t, r) for t, r in runs)


def union(boxes) -> Box:
    """The smallest box holding all the boxes."""
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def continues_block(last: Box, box: Box, last_height: float, height: float) -> bool:
    """Whether a line (`box`, `height`) continues a block whose last line is `last` (of the
    block's size `last_height`): on the same row just right of it, or just below it,
    overlapping it, in a similar size."""
    line_height = max(last[3] - last[1], box[3] - box[1], 1e-3)
    gap = box[1] - last[3]
    beside = 0 <= box[0] - last[2] <= COLUMN_GAP_HEIGHTS * line_height
    if abs(box[1] - last[1]) < 0.5 * line_height and beside:
        return True
    below = -0.5 * line_height <= gap <= BLOCK_GAP_HEIGHTS * line_height
    overlaps = min(box[2], last[2]) > max(box[0], last[0])
    if not (below and overlaps):
        return False
    return max(height, last_height) <= FONT_RATIO * max(min(height, last_height), 1e-3)


def assign_blocks(words: list[PageWord]) -> None:
    """Set each word's `block`: text-layer lines grouped as `continues_block` says, in order."""
    block = -1
    last_box: Box | None = None
    last_height = 0.0
    for members in _lines(words):
        box = union(w.box for w in members)
        height = box[3] - box[1]
        if last_box is None or not continues_block(last_box, box, last_height, height):
            block += 1
        for word in members:
            word.block = block
        last_box, last_height = box, height


def _lines(words: list[PageWord]) -> list[list[PageWord]]:
    lines: list[list[PageWord]] = []
    for word in words:
        if lines and lines[-1][-1].line == word.line:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines
