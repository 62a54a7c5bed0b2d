"""Page layout primitives: text runs flowed into lines, blocks placed into columns.

All coordinates are PDF points (1/72 inch) from the top-left corner of the page. Each text line
has a line box as tall as its leading (CSS style: the font's ascent + descent, plus half the
remaining leading above and below), so consecutive lines of a block touch; a label region is one
rectangle per line and label group, from the first to the last glyph of the group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sciencebeam_gym.sample_data.fonts import metrics


@dataclass(frozen=True)
class Span:
    """Text drawn at a baseline; `space_after` says a word space follows on the same line.
    Colours (`grey`, a shape's `stroke` and `fill`) are grey levels 0-255 or (r, g, b)."""

    text: str
    font: str
    size: float
    x: float
    baseline: float
    grey: int = 0
    space_after: bool = False


@dataclass(frozen=True)
class Shape:
    """A drawn shape. rect/ellipse: (x0, y0, x1, y1); line/polyline: (x0, y0, x1, y1, ...)."""

    kind: str
    points: tuple[float, ...]
    stroke: int | None = 0
    fill: int | None = None
    width: float = 0.5


@dataclass(frozen=True)
class Region:
    """A labelled rectangle of the ground truth; `group` is its run's (one affiliation, one
    reference: the parts of one instance share it)."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    group: int = 0


@dataclass
class Page:
    width: float
    height: float
    spans: list[Span] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """Text in one style; `group` keeps separately labelled parts (cells, runs) apart."""

    text: str
    font: str
    size: float
    label: str | None = None
    grey: int = 0
    group: int = 0
    rise: float = 0.0
    space_before: bool = True


@dataclass(frozen=True)
class Piece:
    text: str
    run: Run
    x: float
    width: float
    space_after: bool


@dataclass
class TextLine:
    pieces: list[Piece]
    height: float
    ascent: float
    descent: float
    offset: float = 0.0


@dataclass
class Graphic:
    """A drawing of a given height; `draw(page, x, top, width)` adds its shapes and spans."""

    height: float
    draw: Callable[[Page, float, float, float], None]


@dataclass
class Block:
    rows: list
    keep_together: bool = False
    space_before: float = 0.0
    reserve_after: float = 0.0

    @property
    def height(self) -> float:
        return sum(row.height for row in self.rows)


def _tokens(runs: list[Run]):
    for run in runs:
        for index, word in enumerate(run.text.split(" ")):
            if word:
                yield word, run, run.space_before if index == 0 else True


def flow(
    runs: list[Run],
    width: float,
    leading: float,
    align: str = "left",
    first_indent: float = 0.0,
    rest_indent: float = 0.0,
) -> list[TextLine]:
    """Break runs into lines of at most `width`; align is left, right, center or justify."""
    lines: list[list[tuple[str, Run, float, bool]]] = [[]]
    used = 0.0
    for word, run, space_before in _tokens(runs):
        font = metrics(run.font)
        word_width = font.width(word, run.size)
        space = font.width(" ", run.size) if space_before and lines[-1] else 0.0
        indent = first_indent if len(lines) == 1 else rest_indent
        if lines[-1] and indent + used + space + word_width > width:
            lines.append([])
            used, space = 0.0, 0.0
        lines[-1].append((word, run, space, space_before))
        used += space + word_width
    result = []
    for index, words in enumerate(lines):
        if not words:
            continue
        indent = first_indent if index == 0 else rest_indent
        is_last = index == len(lines) - 1
        result.append(_line(words, width - indent, leading, align, is_last, indent))
    return result


def _line(words, width, leading, align, is_last, indent) -> TextLine:
    widths = [metrics(run.font).width(word, run.size) for word, run, _, _ in words]
    natural = sum(widths) + sum(space for _, _, space, _ in words)
    gaps = sum(1 for i, (_, _, _, sb) in enumerate(words) if i and sb)
    extra = 0.0
    offset = indent
    if align == "justify" and not is_last and gaps:
        extra = (width - natural) / gaps
    elif align == "center":
        offset += (width - natural) / 2
    elif align == "right":
        offset += width - natural
    pieces = []
    x = 0.0
    for i, ((word, run, space, space_before), word_width) in enumerate(
        zip(words, widths, strict=True)
    ):
        if i:
            x += space + (extra if space_before else 0.0)
        following = words[i + 1][3] if i + 1 < len(words) else False
        pieces.append(Piece(word, run, x, word_width, following))
        x += word_width
    base = [p.run for p in pieces if not p.run.rise] or [p.run for p in pieces]
    ascent = max(metrics(r.font).ascent * r.size for r in base)
    descent = max(metrics(r.font).descent * r.size for r in base)
    return TextLine(pieces, max(leading, ascent + descent), ascent, descent, offset)


def text_block(
    runs,
    width,
    leading,
    align="left",
    space_before=0.0,
    first_indent=0.0,
    rest_indent=0.0,
    keep_together=False,
    reserve_after=0.0,
) -> Block:
    lines = flow(runs, width, leading, align, first_indent, rest_indent)
    return Block(lines, keep_together, space_before, reserve_after)


def gap(height: float) -> Graphic:
    return Graphic(height, lambda page, x, top, width: None)


def place_line(page: Page, line: TextLine, x: float, top: float) -> None:
    """Add a line's spans and its label regions (one per group) to the page."""
    baseline = top + (line.height - line.ascent - line.descent) / 2 + line.ascent
    groups: dict[tuple[int, str], list[float]] = {}
    for piece in line.pieces:
        run = piece.run
        left = x + line.offset + piece.x
        page.spans.append(
            Span(
                piece.text,
                run.font,
                run.size,
                left,
                baseline - run.rise,
                run.grey,
                piece.space_after,
            )
        )
        if run.label:
            box = groups.setdefault((run.group, run.label), [left, left + piece.width])
            box[0] = min(box[0], left)
            box[1] = max(box[1], left + piece.width)
    for (group, label), (x0, x1) in groups.items():
        page.regions.append(Region(label, x0, top, x1, top + line.height, group))


def place_row(page: Page, row, x: float, top: float, width: float) -> None:
    if isinstance(row, TextLine):
        place_line(page, row, x, top)
    else:
        row.draw(page, x, top, width)


class Frame:
    """Columns filled top to bottom, left to right."""

    def __init__(
        self, page: Page, columns: list[tuple[float, float]], top: float, bottoms: list[float]
    ):
        self.page = page
        self.columns = columns
        self.top = top
        self.bottoms = bottoms
        self.column = 0
        self.y = top
        self.full = False

    @property
    def at_column_top(self) -> bool:
        return self.y <= self.top + 1e-6

    def _next_column(self) -> bool:
        if self.column + 1 >= len(self.columns):
            self.full = True
            return False
        self.column += 1
        self.y = self.top
        return True

    def _fits(self, height: float) -> bool:
        return self.y + height <= self.bottoms[self.column] + 1e-6

    def place(self, block: Block) -> bool:
        """Place a block; False once the page is full. Kept-together blocks that fit nowhere
        are left out."""
        if self.full:
            return False
        space = 0.0 if self.at_column_top else block.space_before
        if block.keep_together or block.reserve_after:
            needed = block.height + space + block.reserve_after
            if not self._fits(needed):
                if block.keep_together and (
                    self.column + 1 >= len(self.columns)
                    or block.height > self.bottoms[self.column + 1] - self.top
                ):
                    return True  # a float that fits nowhere goes to a later page
                if not self._next_column():
                    return False
                space = 0.0
        self.y += space
        x, width = self.columns[self.column]
        for row in block.rows:
            if not self._fits(row.height):
                if isinstance(row, Graphic) and not row.height:
                    continue
                if not self._next_column():
                    return False
                x, width = self.columns[self.column]
                if isinstance(row, Graphic) and not block.keep_together:
                    continue
            place_row(self.page, row, x, self.y, width)
            self.y += row.height
        return True


def place_block_at(page: Page, block: Block, x: float, top: float, width: float) -> float:
    """Place a block at a fixed position (headers, footers); returns its bottom."""
    y = top
    for row in block.rows:
        place_row(page, row, x, y, width)
        y += row.height
    return y
