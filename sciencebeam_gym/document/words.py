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
- Reading order (`reading_order` of boxes, `words_in_reading_order`): boxes that reach across
  two boxes lying side by side span the page (titles, centred author lists) and cut it into
  bands; inside a band, boxes that overlap horizontally form a column; columns are read left to
  right, each top to bottom. The text layer's own order is the producer's content stream, which
  some publishers write title last.

The work is O(G log G) in the page's glyphs.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.document.text_layer import NO_FONT, Font, PageText, line_starts

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in points from the top-left

BLOCK_GAP_HEIGHTS = 1.0
FONT_RATIO = 1.3
# Pieces of one row further apart than this many line heights are in different columns.
COLUMN_GAP_HEIGHTS = 2.0
# Share of a block's width it may reach past a column's edge and still be of its column (an
# author line a little past the gutter).
GUTTER_SLACK = 0.1
# class_shares reads box by box while the boxes cover at most this many times the class map
SHARES_BY_BOX = 2
# pages with more blocks than this are ordered without the slack (pairs would be quadratic)
MAX_PAIRED_BOXES = 1000
# A glyph whose bottom is this share of the line height above the line's baseline is raised.
RAISED_HEIGHTS = 0.2
# Glyphs that can be marks when raised: letters, digits and these; dashes, quotes, operators
# sit high by their shape, not because they are superscripts.
MARK_GLYPHS = frozenset(",;*#\u2020\u2021\u00a7\u00b6\u2016\u2217")


@dataclass
class PageWord:
    """A word of the text layer: text, box, line, runs of (text, raised) glyphs, font, size,
    block; `label` is the class a stage gives it (empty: none), `start` whether it begins an
    instance of that class (an affiliation, a reference: the word labeller says so)."""

    text: str
    box: Box
    line: int
    runs: tuple[tuple[str, bool], ...]
    font: Font = NO_FONT
    size: float = 0.0
    block: int = 0
    label: str = ""
    start: bool = False

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
        # statistics.median: a word's few glyphs, where numpy's median costs 80 us a call
        return float(statistics.median(heights.tolist()))
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


def word_pixel_boxes(
    words: list[PageWord], map_shape: tuple[int, int], page_size: tuple[float, float]
) -> np.ndarray:
    """(W, 4) int: each word's box on a class map of `map_shape` (rows, columns) laid over the
    page (`page_size` in points): left, upper, right, lower, at least one pixel each way."""
    height, width = map_shape
    if not words:
        return np.zeros((0, 4), dtype=np.int64)
    boxes = np.array([w.box for w in words], dtype=np.float64)
    scale_x, scale_y = width / page_size[0], height / page_size[1]
    left = np.clip((boxes[:, 0] * scale_x).astype(np.int64), 0, width - 1)
    upper = np.clip((boxes[:, 1] * scale_y).astype(np.int64), 0, height - 1)
    right = np.minimum(np.maximum(np.ceil(boxes[:, 2] * scale_x).astype(np.int64), left + 1), width)
    lower = np.minimum(
        np.maximum(np.ceil(boxes[:, 3] * scale_y).astype(np.int64), upper + 1), height
    )
    return np.stack([left, upper, right, lower], axis=1)


def class_shares(
    words: list[PageWord], class_map: np.ndarray, page_size: tuple[float, float], classes: int
) -> np.ndarray:
    """(W, classes + 1) float32: per word the share of its box (`word_pixel_boxes`) painted with
    each value 0..classes of the class map (0: background). Read box by box while the boxes
    cover at most `SHARES_BY_BOX` times the map, else from summed-area tables (bounded whatever
    the boxes)."""
    class_map = np.asarray(class_map)
    boxes = word_pixel_boxes(words, class_map.shape, page_size)
    if not len(boxes):
        return np.zeros((0, classes + 1), dtype=np.float32)
    values = np.minimum(class_map.astype(np.int64), classes + 1)  # other values: one extra bin
    left, upper, right, lower = boxes.T
    area = (right - left) * (lower - upper)
    if area.sum() <= SHARES_BY_BOX * values.size:
        counts = _counts_by_box(values, boxes, classes + 2)
    else:
        counts = _counts_by_table(values, boxes, classes + 2)
    return (counts[:, : classes + 1] / area[:, None].astype(np.float32)).astype(np.float32)


def _counts_by_box(values: np.ndarray, boxes: np.ndarray, bins: int) -> np.ndarray:
    """Per box the count of each value under it, read box by box: what a page of words costs
    (their boxes cover a small part of the map)."""
    counts = np.empty((len(boxes), bins), dtype=np.int64)
    for index, (left, upper, right, lower) in enumerate(boxes.tolist()):
        counts[index] = np.bincount(values[upper:lower, left:right].ravel(), minlength=bins)
    return counts


def _counts_by_table(values: np.ndarray, boxes: np.ndarray, bins: int) -> np.ndarray:
    """`_counts_by_box` from summed-area tables, one per value: O(pixels x values + boxes x
    values) whatever the boxes cover (a page of many large boxes)."""
    one_hot = (values[None] == np.arange(bins)[:, None, None]).astype(np.int32)
    table = np.zeros((bins, values.shape[0] + 1, values.shape[1] + 1), np.int32)
    table[:, 1:, 1:] = one_hot.cumsum(1).cumsum(2)
    left, upper, right, lower = boxes.T
    counts = table[:, lower, right] - table[:, upper, right] - table[:, lower, left]
    return (counts + table[:, upper, left]).T.astype(np.int64)


def reading_order(boxes: list[Box]) -> list[int]:
    """The indices of a page's boxes (blocks) in reading order (see the module docstring)."""
    spans = _spanning_mask(boxes)
    spanning = sorted((i for i, s in enumerate(spans) if s), key=lambda i: boxes[i][1])
    tops = [boxes[i][1] for i in spanning]
    bands: list[list[int]] = [[] for _ in range(len(spanning) + 1)]
    for index, is_spanning in enumerate(spans):
        if not is_spanning:
            bands[bisect.bisect_right(tops, boxes[index][1])].append(index)
    ordered: list[int] = []
    for number, band in enumerate(bands):
        ordered.extend(_columns_in_order(boxes, band))
        if number < len(spanning):
            ordered.append(spanning[number])
    return ordered


def _spanning_mask(boxes: list[Box]) -> list[bool]:
    """Per box, whether two boxes it overlaps horizontally lie side by side (no overlap,
    `GUTTER_SLACK` of a box's width into the next column not counted). Comparing every pair
    is quadratic, so pages of more than `MAX_PAIRED_BOXES` boxes (a page of single glyphs) use
    `_spanning_mask_without_slack`, O(n log n)."""
    if not boxes:
        return []
    if len(boxes) > MAX_PAIRED_BOXES:
        return _spanning_mask_without_slack(boxes)
    array = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    x0, x1 = array[:, 0], array[:, 2]
    slack = GUTTER_SLACK * (x1 - x0)
    overlap = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    overlaps = overlap > np.minimum(slack[:, None], slack[None, :])
    np.fill_diagonal(overlaps, False)
    result = []
    for row in overlaps:
        order = np.argsort(x0[row], kind="stable")
        starts, ends = x0[row][order], x1[row][order]
        # side by side: some box starts right of everything before it ends
        reach = np.maximum.accumulate(ends)[:-1]
        result.append(bool(np.any(starts[1:] >= reach - slack[row][order][1:])))
    return result


def _spanning_mask_without_slack(boxes: list[Box]) -> list[bool]:
    """`_spanning_mask` with no slack, in O(n log n): a box spans when some boxes lie wholly
    left of a point inside it and others wholly right of it, none across it.

    Such a point g is where another box ends (g = x1 of some box) and which no box but this one
    crosses (x0 < g < x1); that box is the only one whose x1 is beyond g among those starting
    before g, so it is found from sorted ends and a running maximum, and it spans when some box
    starts in [g, its x1)."""
    array = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    x0, x1 = array[:, 0], array[:, 2]
    wide = np.flatnonzero(x1 > x0)  # a box of no width overlaps nothing
    order = wide[np.argsort(x0[wide], kind="stable")]
    starts, ends = x0[order], x1[order]
    sorted_ends = np.sort(ends)
    cuts = np.unique(sorted_ends)
    begun = np.searchsorted(starts, cuts, side="left")  # boxes with x0 < g
    crossing = begun - np.searchsorted(sorted_ends, cuts, side="right")  # and x1 > g
    cuts, begun = cuts[crossing == 1], begun[crossing == 1]
    # the crossing box: the one reaching furthest among those begun before g
    reach = np.maximum.accumulate(ends)
    furthest = np.maximum.accumulate(np.where(ends == reach, np.arange(len(ends)), 0))
    crosser = furthest[begun - 1]
    right_of_cut = np.searchsorted(starts, ends[crosser], side="left") - begun
    result = np.zeros(len(boxes), dtype=bool)
    result[order[crosser[right_of_cut > 0]]] = True
    return result.tolist()


def _columns_in_order(boxes: list[Box], indices: list[int]) -> list[int]:
    """Columns (boxes joined by horizontal overlap, one sweep from the left) left to right,
    each top to bottom; a box reaching `GUTTER_SLACK` of its width into the next column does
    not join the columns."""
    columns: list[list[int]] = []
    reach = -np.inf
    for index in sorted(indices, key=lambda i: boxes[i][0]):
        x0, _, x1, _ = boxes[index]
        if not columns or x0 >= reach - GUTTER_SLACK * (x1 - x0):
            columns.append([])
        columns[-1].append(index)
        reach = max(reach, x1) if len(columns[-1]) > 1 else x1
    return [i for column in columns for i in sorted(column, key=lambda i: boxes[i][1])]


def words_in_reading_order(words: list[PageWord]) -> list[int]:
    """The indices of a page's words in reading order: its text blocks (`block`) ordered by
    `reading_order`, each block's words in text-layer order."""
    members: dict[int, list[int]] = {}
    for index, word in enumerate(words):
        members.setdefault(word.block, []).append(index)
    keys = list(members)
    boxes = [union(words[i].box for i in members[key]) for key in keys]
    return [i for position in reading_order(boxes) for i in members[keys[position]]]
