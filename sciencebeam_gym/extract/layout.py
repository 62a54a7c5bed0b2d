"""A page's text layer as labelled lines and blocks in reading order.

The rules, in the order they run (each has its own function):
1. `page_words` (document.words): each word of the text layer gets a box (its glyphs
   horizontally, its line's full height vertically, as training pages were painted), its font,
   and is cut into runs of normal and raised glyphs (affiliation marks, footnote signs).
2. `vote_word_labels`: each word takes the class painted on most of its box; background wins
   unless a class covers at least `MIN_WORD_SHARE` of it (a vote, not one pixel).
3. `label_lines`: a line (text-layer lines on one row joined) whose characters are mostly
   (`LINE_MAJORITY`) of one class takes that class as a whole (stray words follow their line);
   other lines are cut where the class changes.
4. `group_blocks`: a line joins a block of its class when `document.words.continues_block`
   says so: just below the block's last line, overlapping it, in a similar font size, or on the
   same row (the text layer cuts a line at a superscript); otherwise it starts a block.
5. `reading_order`: blocks that reach across two blocks that are side by side span the page
   (titles, centred author lists); they cut the page into bands; inside a band, blocks that
   overlap horizontally form a column; columns are read left to right, each top to bottom.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sciencebeam_gym.document.text_layer import PageText
from sciencebeam_gym.document.words import (
    COLUMN_GAP_HEIGHTS,
    Box,
    PageWord,
    continues_block,
    page_words,
    union,
)

MIN_WORD_SHARE = 0.25
LINE_MAJORITY = 0.6
OPEN_BLOCKS = 8


@dataclass
class Line:
    """Words of one text line with one class; `height` (the line's height) stands for font size."""

    words: list[PageWord]
    label: str
    page: int

    @cached_property
    def box(self) -> Box:  # the words do not change once the line is made
        return union(w.box for w in self.words)

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
        self.box = union((self.box, line.box))

    @property
    def height(self) -> float:
        # statistics.median: a few lines, far quicker than numpy's
        return statistics.median(line.height for line in self.lines)

    @property
    def words(self) -> list[PageWord]:
        return [w for line in self.lines for w in line.words]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


# --- 2. word votes ------------------------------------------------------------------------------


def vote_word_labels(
    words: list[PageWord],
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


def label_lines(words: list[PageWord], page: int) -> list[Line]:
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


def _by_line(words: list[PageWord]) -> list[list[PageWord]]:
    """Words by visual line: text-layer lines, with consecutive ones on the same row joined
    (the text layer cuts a line at a superscript, the line vote must not)."""
    groups: dict[int, list[PageWord]] = {}
    for word in words:
        groups.setdefault(word.line, []).append(word)
    rows: list[list[PageWord]] = []
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


def _majority_label(words: list[PageWord]) -> str:
    weights: dict[str, int] = {}
    for word in words:
        weights[word.label] = weights.get(word.label, 0) + len(word.text)
    label, weight = max(weights.items(), key=lambda item: item[1])
    return label if label and weight >= LINE_MAJORITY * sum(weights.values()) else ""


def _relabel(word: PageWord, label: str) -> PageWord:
    word.label = label
    return word


def _label_runs(words: list[PageWord]) -> list[list[PageWord]]:
    runs: list[list[PageWord]] = []
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
    return continues_block(block.lines[-1].box, line.box, block.height, line.height)


# --- 5. reading order ---------------------------------------------------------------------------


def reading_order(blocks: list[Block]) -> list[Block]:
    """The blocks of one page in reading order (rule 5), in O(n log n) of the blocks."""
    spans = _spanning_mask(blocks)
    spanning = sorted((b for b, s in zip(blocks, spans, strict=True) if s), key=lambda b: b.box[1])
    tops = [b.box[1] for b in spanning]
    bands: list[list[Block]] = [[] for _ in range(len(spanning) + 1)]
    for block, is_spanning in zip(blocks, spans, strict=True):
        if not is_spanning:
            bands[bisect.bisect_right(tops, block.box[1])].append(block)
    ordered: list[Block] = []
    for index, band in enumerate(bands):
        ordered.extend(_columns_in_order(band))
        if index < len(spanning):
            ordered.append(spanning[index])
    return ordered


def _spanning_mask(blocks: list[Block]) -> list[bool]:
    """Per block, whether the blocks it overlaps horizontally leave a gap between them: some
    lie wholly left of a point inside it and others wholly right of it, none across it.

    Such a point g is where another block ends (g = x1 of some block) and which no block but
    this one crosses (x0 < g < x1); that one block is the only one whose x1 is beyond g among
    those starting before g, so it is found from sorted ends and a running maximum, and it
    spans when some block starts in [g, its x1). O(n log n), where comparing every pair was
    quadratic in time and memory (a page of 30,000 one-glyph blocks asked for 6 GiB).
    """
    if not blocks:
        return []
    boxes = np.array([b.box for b in blocks], dtype=np.float64).reshape(-1, 4)
    x0, x1 = boxes[:, 0], boxes[:, 2]
    wide = np.flatnonzero(x1 > x0)  # a block of no width overlaps nothing
    order = wide[np.argsort(x0[wide], kind="stable")]
    starts, ends = x0[order], x1[order]
    sorted_ends = np.sort(ends)
    cuts = np.unique(sorted_ends)
    begun = np.searchsorted(starts, cuts, side="left")  # blocks with x0 < g
    crossing = begun - np.searchsorted(sorted_ends, cuts, side="right")  # and x1 > g
    cuts, begun = cuts[crossing == 1], begun[crossing == 1]
    # the crossing block: the one reaching furthest among those begun before g
    reach = np.maximum.accumulate(ends)
    furthest = np.maximum.accumulate(np.where(ends == reach, np.arange(len(ends)), 0))
    crosser = furthest[begun - 1]
    right_of_cut = np.searchsorted(starts, ends[crosser], side="left") - begun
    result = np.zeros(len(blocks), dtype=bool)
    result[order[crosser[right_of_cut > 0]]] = True
    return result.tolist()


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
