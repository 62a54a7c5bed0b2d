"""Paint matched fields into a label image (grey k = class key k), and the coloured overlay.

Painting convention: each text line of a matched block is a rectangle from its first to its last
glyph horizontally and spanning the full line height vertically; consecutive lines of a block
are stretched to meet halfway, so a paragraph becomes one solid region.

Page text that no field claims (each run of consecutive unclaimed words of the text layer) is
then painted the same way with UNKNOWN_KEY, only where the label is still background: the loss
and the metrics ignore it, instead of learning that text is background.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from PIL import Image

from sciencebeam_gym.color_map import UNKNOWN_KEY, ColorMap
from sciencebeam_gym.document.text_layer import PageText
from sciencebeam_gym.generate.align import FieldMatch

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom in points
# Lines of one block further apart than this share of a line's height are left apart.
MAX_LINE_GAP_HEIGHTS = 0.8
# How overlays show unknown text: diagonal stripes of this grey, every HATCH_PERIOD pixels.
UNKNOWN_OVERLAY_COLOR = (128, 128, 128)
HATCH_PERIOD = 6


def block_rectangles(page: PageText, first_word: int, last_word: int) -> list[Rect]:
    """One rectangle per text line of the words first_word..last_word, lines made to touch."""
    extents: dict[int, list[float]] = {}
    for word in page.words[first_word : last_word + 1]:
        boxes = page.glyph_boxes[word.glyph_start : word.glyph_end]
        lines = page.glyph_lines[word.glyph_start : word.glyph_end]
        for box, line in zip(boxes, lines, strict=True):
            extent = extents.setdefault(int(line), [box[0], box[2]])
            extent[0] = min(extent[0], box[0])
            extent[1] = max(extent[1], box[2])
    rects = [
        [x0, page.line_boxes[line][1], x1, page.line_boxes[line][3]]
        for line, (x0, x1) in extents.items()
    ]
    return [tuple(rect) for rect in _make_lines_touch(rects)]


def _make_lines_touch(rects: list[list[float]]) -> list[list[float]]:
    """Top to bottom, each line and the nearest line below it that overlaps it horizontally
    are stretched to meet halfway when the gap between them is small (see MAX_LINE_GAP_HEIGHTS).

    The lines are kept sorted by their (current) top, and a line's search stops where a gap
    would be too wide, so a block of thousands of lines costs O(n log n) rather than n^2.
    """
    rects = sorted(rects, key=lambda r: (r[1], r[0]))
    by_top = [(r[1], i) for i, r in enumerate(rects)]  # sorted, ties in list order
    for index, upper in enumerate(rects):
        below = _nearest_below(rects, by_top, index)
        if below is None:
            continue
        lower = rects[below]
        gap = lower[1] - upper[3]
        height = min(upper[3] - upper[1], lower[3] - lower[1])
        if 0 < gap <= MAX_LINE_GAP_HEIGHTS * height:
            middle = (upper[3] + lower[1]) / 2
            upper[3] = middle
            del by_top[bisect.bisect_left(by_top, (lower[1], below))]
            bisect.insort(by_top, (middle, below))
            lower[1] = middle
    return rects


def _nearest_below(rects: list[list[float]], by_top: list[tuple[float, int]], index: int):
    """The index of the line with the lowest top at or below rects[index]'s top that overlaps it
    horizontally (the first in list order among equal tops); None when there is none close
    enough to be stretched to."""
    upper = rects[index]
    reach = upper[3] + MAX_LINE_GAP_HEIGHTS * (upper[3] - upper[1])
    position = bisect.bisect_left(by_top, (upper[1], -1))
    while position < len(by_top):
        top, other = by_top[position]
        if top > reach:  # a gap beyond this is too wide for any line found further on
            return None
        rect = rects[other]
        if other != index and min(rect[2], upper[2]) > max(rect[0], upper[0]):
            return other
        position += 1
    return None


def unclaimed_word_runs(page: PageText, matches: list[FieldMatch]) -> list[tuple[int, int]]:
    """(first, last) word ranges of the page that no match's word spans cover."""
    claimed = np.zeros(len(page.words), dtype=bool)
    for match in matches:
        for first, last in match.word_spans:
            claimed[first : last + 1] = True
    runs = []
    start = None
    for index, taken in enumerate([*claimed.tolist(), True]):
        if not taken and start is None:
            start = index
        elif taken and start is not None:
            runs.append((start, index - 1))
            start = None
    return runs


def _paint_block(
    label: np.ndarray, page: PageText, span: tuple[int, int], key: int, only_background: bool
) -> None:
    """Paint the rectangles of the words span[0]..span[1] (see `block_rectangles`) with `key`."""
    height, width = label.shape
    scale_x = width / page.width
    scale_y = height / page.height
    for x0, top, x1, bottom in block_rectangles(page, *span):
        left = max(0, math.floor(x0 * scale_x))
        right = min(width, math.ceil(x1 * scale_x))
        upper = max(0, math.floor(top * scale_y))
        lower = min(height, math.ceil(bottom * scale_y))
        area = label[upper:lower, left:right]
        if only_background:
            area[area == 0] = key
        else:
            area[...] = key


def paint_label_image(
    page: PageText,
    matches: list[FieldMatch],
    keys_by_label: dict[str, int],
    size: tuple[int, int],
    unknown_key: int | None = UNKNOWN_KEY,
) -> np.ndarray:
    """A (height, width) uint8 label image of the page at `size` (the rendered image's size).

    Text no field claims gets `unknown_key` where no field is painted (None: background).
    """
    width, height = size
    label = np.zeros((height, width), dtype=np.uint8)
    for match in matches:
        key = keys_by_label[match.field.label]
        for span in match.word_spans:
            _paint_block(label, page, span, key, only_background=False)
    if unknown_key is not None:
        for span in unclaimed_word_runs(page, matches):
            _paint_block(label, page, span, unknown_key, only_background=True)
    return label


def paint_rotated_label_image(
    page: PageText,
    matches: list[FieldMatch],
    keys_by_label: dict[str, int],
    size: tuple[int, int],
    rotation: int,
    unknown_key: int | None = UNKNOWN_KEY,
) -> np.ndarray:
    """The label image of a page shown turned by `rotation` degrees clockwise (its /Rotate):
    painted upright, where the text boxes are, then turned like the rendered image."""
    turns = (rotation // 90) % 4
    upright = size if turns % 2 == 0 else (size[1], size[0])
    label = paint_label_image(page, matches, keys_by_label, upright, unknown_key)
    return np.ascontiguousarray(np.rot90(label, k=-turns))


def hatch_mask(shape: tuple[int, int]) -> np.ndarray:
    """(height, width) bool: diagonal stripes two pixels wide, HATCH_PERIOD pixels apart."""
    rows, columns = np.indices(shape)
    return (rows + columns) % HATCH_PERIOD < 2


def overlay_image(
    page_image: Image.Image, label: np.ndarray, color_map: ColorMap, alpha: float = 0.45
) -> Image.Image:
    """The page with each labelled pixel tinted in its class colour, and unknown text hatched
    in grey (a visual check)."""
    page = np.asarray(page_image.convert("RGB"), dtype=np.float32)
    colours = color_map.label_image_to_rgb(label).astype(np.float32)
    painted = ((label > 0) & (label != UNKNOWN_KEY))[..., None]
    blended = np.where(painted, (1 - alpha) * page + alpha * colours, page)
    hatched = ((label == UNKNOWN_KEY) & hatch_mask(label.shape))[..., None]
    blended = np.where(hatched, np.array(UNKNOWN_OVERLAY_COLOR, dtype=np.float32), blended)
    return Image.fromarray(blended.round().astype(np.uint8), "RGB")
