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

import statistics
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sciencebeam_gym import class_labels
from sciencebeam_gym.document.text_layer import PageText
from sciencebeam_gym.document.words import (
    COLUMN_GAP_HEIGHTS,
    Box,
    PageWord,
    class_shares,
    continues_block,
    page_words,
    union,
)
from sciencebeam_gym.document.words import (
    reading_order as box_reading_order,
)

MIN_WORD_SHARE = 0.25
RUN_IN_LABEL = class_labels.SECTION_TITLE  # the class a line may open with before its paragraph
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
    for word, label in zip(
        words, pixel_votes(words, class_map, page_size, labels_by_value), strict=True
    ):
        word.label = label


def pixel_votes(
    words: list[PageWord],
    class_map: np.ndarray,
    page_size: tuple[float, float],
    labels_by_value: dict[int, str],
) -> list[str]:
    """Per word the class painted under most of its box, when it covers `MIN_WORD_SHARE` of
    it; else "" (rule 2). The words are left as they are."""
    if not words:
        return []
    shares = class_shares(words, class_map, page_size, max(labels_by_value, default=0))
    shares[:, 0] = 0.0
    best = shares.argmax(axis=1)
    won = shares[np.arange(len(words)), best] >= MIN_WORD_SHARE
    return [
        labels_by_value.get(value, "") if is_label else ""
        for value, is_label in zip(best.tolist(), won.tolist(), strict=True)
    ]


# --- 3. lines -----------------------------------------------------------------------------------


def label_lines(words: list[PageWord], page: int, run_in: bool = False) -> list[Line]:
    """Labelled lines (rule 3), in text-layer order; unlabelled words are left out. With
    `run_in` (the word model's labels) a line that opens with section-title words and goes on
    in another class is cut after them first: a heading run into its paragraph ("Etymology. The
    name ...") stays a heading."""
    lines: list[Line] = []
    for members in _by_line(words):
        runs = _label_runs(members)
        if run_in and len(runs) > 1 and runs[0][0].label == RUN_IN_LABEL:
            lines.append(Line(runs[0], RUN_IN_LABEL, page))
            members = members[len(runs[0]) :]
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
        if runs and runs[-1][-1].label == word.label and not word.start:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


# --- 4. blocks ----------------------------------------------------------------------------------


def group_blocks(lines: list[Line]) -> list[Block]:
    """Blocks of lines (rule 4); a line may join any of the last `OPEN_BLOCKS` blocks of its
    class, so a text layer that reads two columns line by line still gives one block per column.
    A line that begins an instance (the word model marked its first word) starts a block."""
    blocks: list[Block] = []
    open_blocks: dict[str, list[Block]] = {}
    for line in lines:
        recent = open_blocks.setdefault(line.label, [])
        block = None
        if not line.words[0].start:
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
    """The blocks of one page in reading order (rule 5, `document.words.reading_order`)."""
    return [blocks[i] for i in box_reading_order([b.box for b in blocks])]


def page_blocks(
    page: PageText,
    class_map: np.ndarray,
    labels_by_value: dict[int, str],
    page_number: int,
    label_words=None,
) -> list[Block]:
    """Rules 1-5 on one page: its labelled blocks in reading order. `label_words(words)`, when
    given (the word model), labels the words instead of the pixel vote of rule 2."""
    words = page_words(page)
    if label_words is None:
        vote_word_labels(words, class_map, (page.width, page.height), labels_by_value)
        return blocks_of_words(words, page_number)
    label_words(words)
    return blocks_of_words(words, page_number, run_in=True)


def blocks_of_words(words: list[PageWord], page_number: int, run_in: bool = False) -> list[Block]:
    """Rules 3-5 on a page's labelled words: its blocks in reading order."""
    return reading_order(group_blocks(label_lines(words, page_number, run_in)))
