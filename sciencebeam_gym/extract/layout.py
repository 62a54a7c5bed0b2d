"""A page's text layer as labelled lines and blocks in reading order.

The rules, in the order they run (each has its own function):
1. `page_words`: each word of the text layer gets a box (its glyphs horizontally, its line's full
   height vertically, as training pages were painted) and is cut into runs of normal and raised
   glyphs (superscripts: affiliation marks, footnote signs).
2. `vote_word_labels`: each word takes the class painted on most of its box; background wins
   unless a class covers at least `MIN_WORD_SHARE` of it (a vote, not one pixel).
3. `label_lines`: a line (text-layer lines on one row joined) whose characters are mostly
   (`LINE_MAJORITY`) of one class takes that class as a whole (stray words follow their line);
   other lines are cut where the class changes.
4. `group_blocks`: a line joins a block of its class when it sits just below the block's last
   line (gap under `BLOCK_GAP_HEIGHTS` line heights), overlaps it horizontally and has a similar
   font size (line height within `FONT_RATIO`), or continues the block's last line on the same
   row, whatever its size (the text layer cuts a line at a superscript); otherwise it starts a
   block.
5. `reading_order`: blocks that reach across two blocks that are side by side span the page
   (titles, centred author lists); they cut the page into bands; inside a band, blocks that
   overlap horizontally form a column; columns are read left to right, each top to bottom.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sciencebeam_gym.generate.pdf import PageText

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in points from the top-left

MIN_WORD_SHARE = 0.25
LINE_MAJORITY = 0.6
BLOCK_GAP_HEIGHTS = 1.0
FONT_RATIO = 1.3
OPEN_BLOCKS = 8
# Pieces of one row further apart than this many line heights are in different columns.
COLUMN_GAP_HEIGHTS = 2.0
# A glyph whose bottom is this share of the line height above the line's baseline is raised.
RAISED_HEIGHTS = 0.2
# Glyphs that can be marks when raised: letters, digits and these; dashes, quotes, operators
# sit high by their shape, not because they are superscripts.
MARK_GLYPHS = frozenset(",;*#\u2020\u2021\u00a7\u00b6\u2016\u2217")


@dataclass
class LaidWord:
    """A word of the text layer: text, box, line, and its runs of (text, raised) glyphs."""

    text: str
    box: Box
    line: int
    runs: tuple[tuple[str, bool], ...]
    label: str = ""

    @property
    def plain(self) -> str:
        """The word without its raised glyphs."""
        return "".join(text for text, raised in self.runs if not raised)


@dataclass
class Line:
    """Words of one text line with one class; `height` (the line's height) stands for font size."""

    words: list[LaidWord]
    label: str
    page: int

    @cached_property
    def box(self) -> Box:  # the words do not change once the line is made
        return _union(w.box for w in self.words)

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Block:
    """Lines of one class that belong together (a title, a paragraph, a reference list)."""

    label: str
    page: int
    lines: list[Line] = field(default_factory=list)
    box: Box = (np.inf, np.inf, -np.inf, -np.inf)

    def add(self, line: Line) -> None:
        """Append a line; the block's box grows with it (kept, not recomputed: speed)."""
        self.lines.append(line)
        self.box = _union((self.box, line.box))

    @property
    def height(self) -> float:
        # statistics.median: a few lines, far quicker than numpy's
        return statistics.median(line.height for line in self.lines)

    @property
    def words(self) -> list[LaidWord]:
        return [w for line in self.lines for w in line.words]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


def _union(boxes) -> Box:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


# --- 1. words ---------------------------------------------------------------------------------


def page_words(page: PageText) -> list[LaidWord]:
    """The page's words with boxes, lines and raised runs (rule 1)."""
    baselines = _line_baselines(page)
    words = []
    for word in page.words:
        glyphs = page.glyph_boxes[word.glyph_start : word.glyph_end]
        line = int(page.glyph_lines[word.glyph_start])
        line_box = page.line_boxes[line]
        box = (float(glyphs[:, 0].min()), float(line_box[1]), float(glyphs[:, 2].max()))
        box = (*box, float(line_box[3]))
        runs = _runs(word.text, glyphs, baselines[line], line_box[3] - line_box[1])
        runs = tuple((clean_text(text), raised) for text, raised in runs)
        words.append(LaidWord(clean_text(word.text), box, line, runs))
    return words


def clean_text(text: str) -> str:
    """Text fit for XML: UTF-16 surrogate pairs (as the text layer gives characters beyond the
    basic plane) joined into their character; lone surrogates and control characters dropped."""
    if text.isprintable():
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(c for c in joined if c.isprintable() and c != "\ufffd")


def _line_baselines(page: PageText) -> np.ndarray:
    """Per line, where most of its ink sits: the glyph bottom (to half a point) with the most
    glyph height on it, the lower one on a tie; neither descenders (p, g) nor a few small
    superscripts move it."""
    count = len(page.line_boxes)
    baselines = page.line_boxes[:, 3].copy() if count else np.zeros(0)
    bottoms = np.round(page.glyph_boxes[:, 3] * 2) / 2
    heights = page.glyph_boxes[:, 3] - page.glyph_boxes[:, 1]
    for line in range(count):
        members = page.glyph_lines == line
        if members.any():
            values, inverse = np.unique(bottoms[members], return_inverse=True)
            weights = np.bincount(inverse, weights=heights[members])
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


# --- 2. word votes ------------------------------------------------------------------------------


def vote_word_labels(
    words: list[LaidWord],
    class_map: np.ndarray,
    page_size: tuple[float, float],
    labels_by_value: dict[int, str],
) -> None:
    """Set each word's label from the classes painted under its box (rule 2)."""
    height, width = class_map.shape
    scale_x, scale_y = width / page_size[0], height / page_size[1]
    for word in words:
        x0, top, x1, bottom = word.box
        left = min(max(int(x0 * scale_x), 0), width - 1)
        upper = min(max(int(top * scale_y), 0), height - 1)
        right = max(int(np.ceil(x1 * scale_x)), left + 1)
        lower = max(int(np.ceil(bottom * scale_y)), upper + 1)
        values = class_map[upper:lower, left:right].ravel()
        counts = np.bincount(values, minlength=1)
        counts[0] = 0
        best = int(counts.argmax())
        share = counts[best] / max(values.size, 1)
        word.label = labels_by_value.get(best, "") if share >= MIN_WORD_SHARE else ""


# --- 3. lines -----------------------------------------------------------------------------------


def label_lines(words: list[LaidWord], page: int) -> list[Line]:
    """Labelled lines (rule 3), in text-layer order; unlabelled words are left out."""
    lines: list[Line] = []
    for members in _by_line(words):
        label = _majority_label(members)
        if label:
            lines.append(Line([_relabel(w, label) for w in members], label, page))
            continue
        for run in _label_runs(members):
            if run[0].label:
                lines.append(Line(run, run[0].label, page))
    return lines


def _by_line(words: list[LaidWord]) -> list[list[LaidWord]]:
    """Words by visual line: text-layer lines, with consecutive ones on the same row joined
    (the text layer cuts a line at a superscript, the line vote must not)."""
    groups: dict[int, list[LaidWord]] = {}
    for word in words:
        groups.setdefault(word.line, []).append(word)
    rows: list[list[LaidWord]] = []
    for group in groups.values():
        if rows and _same_row(rows[-1][-1].box, group[0].box):
            rows[-1].extend(group)
        else:
            rows.append(group)
    return rows


def _same_row(left: Box, right: Box) -> bool:
    """Whether `right` goes on `left`'s row: overlapping vertically, just right of it."""
    height = max(min(left[3] - left[1], right[3] - right[1]), 1e-3)
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    gap = right[0] - left[2]
    return overlap >= 0.5 * height and -0.5 * height <= gap <= COLUMN_GAP_HEIGHTS * height


def _majority_label(words: list[LaidWord]) -> str:
    weights: dict[str, int] = {}
    for word in words:
        weights[word.label] = weights.get(word.label, 0) + len(word.text)
    label, weight = max(weights.items(), key=lambda item: item[1])
    return label if label and weight >= LINE_MAJORITY * sum(weights.values()) else ""


def _relabel(word: LaidWord, label: str) -> LaidWord:
    word.label = label
    return word


def _label_runs(words: list[LaidWord]) -> list[list[LaidWord]]:
    runs: list[list[LaidWord]] = []
    for word in words:
        if runs and runs[-1][-1].label == word.label:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


# --- 4. blocks ----------------------------------------------------------------------------------


def group_blocks(lines: list[Line]) -> list[Block]:
    """Blocks of lines (rule 4); a line may join any of the last `OPEN_BLOCKS` blocks of its
    class, so a text layer that reads two columns line by line still gives one block per column."""
    blocks: list[Block] = []
    open_blocks: dict[str, list[Block]] = {}
    for line in lines:
        recent = open_blocks.setdefault(line.label, [])
        block = next((b for b in reversed(recent) if _continues(b, line)), None)
        if block is None:
            block = Block(line.label, line.page)
            blocks.append(block)
            recent.append(block)
            del recent[:-OPEN_BLOCKS]
        block.add(line)
    return blocks


def _continues(block: Block, line: Line) -> bool:
    if block.label != line.label or block.page != line.page:
        return False
    last = block.lines[-1].box
    box = line.box
    height = max(block.lines[-1].height, line.height, 1e-3)
    gap = box[1] - last[3]
    beside = 0 <= box[0] - last[2] <= COLUMN_GAP_HEIGHTS * height
    same_row = abs(box[1] - last[1]) < 0.5 * height and beside
    below = -0.5 * height <= gap <= BLOCK_GAP_HEIGHTS * height
    overlaps = min(box[2], last[2]) > max(box[0], last[0])
    if same_row:
        return True
    if not (below and overlaps):
        return False
    block_height = block.height
    return max(line.height, block_height) <= FONT_RATIO * max(min(line.height, block_height), 1e-3)


# --- 5. reading order ---------------------------------------------------------------------------


def reading_order(blocks: list[Block]) -> list[Block]:
    """The blocks of one page in reading order (rule 5)."""
    spans = _spanning_mask(blocks)
    spanning = sorted((b for b, s in zip(blocks, spans, strict=True) if s), key=lambda b: b.box[1])
    bands: list[list[Block]] = [[] for _ in range(len(spanning) + 1)]
    for block, is_spanning in zip(blocks, spans, strict=True):
        if not is_spanning:
            bands[sum(1 for s in spanning if s.box[1] <= block.box[1])].append(block)
    ordered: list[Block] = []
    for index, band in enumerate(bands):
        ordered.extend(_columns_in_order(band))
        if index < len(spanning):
            ordered.append(spanning[index])
    return ordered


def _overlap_x(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0])


def _spanning_mask(blocks: list[Block]) -> list[bool]:
    """Per block, whether two blocks it overlaps horizontally lie side by side (no overlap)."""
    if not blocks:
        return []
    boxes = np.array([b.box for b in blocks], dtype=np.float64)
    x0, x1 = boxes[:, 0], boxes[:, 2]
    overlaps = np.minimum(x1[:, None], x1[None, :]) > np.maximum(x0[:, None], x0[None, :])
    np.fill_diagonal(overlaps, False)
    result = []
    for row in overlaps:
        order = np.argsort(x0[row], kind="stable")
        starts, ends = x0[row][order], x1[row][order]
        # side by side: some block starts right of everything before it ends
        reach = np.maximum.accumulate(ends)[:-1]
        result.append(bool(np.any(starts[1:] >= reach)))
    return result


def _columns_in_order(blocks: list[Block]) -> list[Block]:
    """Columns (blocks joined by horizontal overlap, one sweep from the left) left to right,
    each top to bottom."""
    columns: list[list[Block]] = []
    reach = -np.inf
    for block in sorted(blocks, key=lambda b: b.box[0]):
        if not columns or block.box[0] >= reach:
            columns.append([])
        columns[-1].append(block)
        reach = max(reach, block.box[2]) if len(columns[-1]) > 1 else block.box[2]
    return [b for c in columns for b in sorted(c, key=lambda b: b.box[1])]


def page_blocks(
    page: PageText,
    class_map: np.ndarray,
    labels_by_value: dict[int, str],
    page_number: int,
) -> list[Block]:
    """Rules 1-5 on one page: its labelled blocks in reading order."""
    words = page_words(page)
    vote_word_labels(words, class_map, (page.width, page.height), labels_by_value)
    return reading_order(group_blocks(label_lines(words, page_number)))
