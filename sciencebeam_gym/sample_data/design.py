"""Page designs: a random style per page (size, fonts, columns, header, element order) and the
composition of an article's first page in that style."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym.sample_data.article import Article, Figure, Table
from sciencebeam_gym.sample_data.fonts import TEXT_FAMILIES, font_key, metrics
from sciencebeam_gym.sample_data.layout import (
    Block,
    Frame,
    Graphic,
    Page,
    Run,
    Shape,
    Span,
    TextLine,
    flow,
    gap,
    place_block_at,
    text_block,
)
from sciencebeam_gym.sample_data.variations import Variations, sample_variations

# name: (width, height) in points
PAGE_SIZES = {
    "a4": (595.28, 841.89),
    "letter": (612.0, 792.0),
    "b5": (498.9, 708.66),
    "7x10in": (504.0, 720.0),
    "170x244mm": (481.9, 691.65),
    "210x280mm": (595.28, 793.7),
}


@dataclass
class Style:
    page_size: str
    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    columns: int
    column_gap: float
    body_family: str
    heading_family: str
    body_size: float
    leading: float
    justify: bool
    front_align: str
    title_size: float
    header_kind: str
    page_no_place: str
    doi_place: str
    mtype_place: str
    abstract_kind: str
    aff_place: str
    abstract_in_columns: bool
    keywords_first: bool
    keywords_inline: bool
    section_numbering: str
    section_upper: bool
    paragraph_indent: bool
    copyright_place: str
    ink: int
    # layouts of real publishers, each drawn with some probability (see sample_variations)
    accent: tuple | None = None
    sidebar: str = "none"
    sidebar_width: float = 0.0
    logo: str = "none"
    crossmark: bool = False
    running: str = "none"
    front_layout: str = "stacked"
    extra_abstract: str = "none"
    abstract_heading: bool = True
    keywords_place: str = "front"
    title_family: str = ""
    title_bold: bool = True
    title_italic: bool = False
    title_color: int | tuple = 0
    heading_band: str = "none"

    @property
    def text_width(self) -> float:
        return self.width - self.margin_left - self.margin_right

    @property
    def main_left(self) -> float:
        """Left edge of the front matter and the columns (right of a side bar)."""
        return self.margin_left + self.sidebar_width

    @property
    def main_width(self) -> float:
        return self.text_width - self.sidebar_width


def sample_style(rng: random.Random) -> Style:
    """A random but plausible journal style."""
    size_name = rng.choice(sorted(PAGE_SIZES))
    width, height = PAGE_SIZES[size_name]
    columns = 2 if width > 470 and rng.random() < 0.6 else 1
    side = rng.uniform(36, 60) if columns == 2 else rng.uniform(45, 90)
    header_kind = rng.choice(["running", "masthead", "banner", "citation", "none"])
    in_header = ["header"] if header_kind != "none" else []
    body_family = rng.choice(TEXT_FAMILIES)
    body_size = rng.uniform(8.0, 9.8) if columns == 2 else rng.uniform(9.0, 11.5)
    style = Style(
        page_size=size_name,
        width=width,
        height=height,
        margin_left=side,
        margin_right=side + rng.choice([0, 0, rng.uniform(-8, 8)]),
        margin_top=rng.uniform(30, 62),
        margin_bottom=rng.uniform(30, 60),
        columns=columns,
        column_gap=rng.uniform(12, 26),
        body_family=body_family,
        heading_family=rng.choice([body_family, body_family, "dejavu-sans"]),
        body_size=body_size,
        leading=body_size * rng.uniform(1.15, 1.38),
        justify=rng.random() < 0.7,
        front_align=rng.choice(["left", "left", "center"]),
        title_size=rng.uniform(14.5, 23) * min(1.0, height / 800),
        header_kind=header_kind,
        page_no_place=rng.choice(in_header + ["bottom_center", "bottom_outer"]),
        doi_place=rng.choice(in_header + ["below_abstract", "footer", "below_authors"]),
        mtype_place=rng.choice(in_header + ["above_title", "above_title", "banner"]),
        abstract_kind=rng.choice(["heading", "runin", "boxed", "rules", "indented"]),
        aff_place="footnote" if rng.random() < 0.2 else "below_authors",
        abstract_in_columns=columns == 2 and rng.random() < 0.25,
        keywords_first=rng.random() < 0.2,
        keywords_inline=rng.random() < 0.75,
        section_numbering=rng.choice(["", "", "1.", "1", "I."]),
        section_upper=rng.random() < 0.3,
        paragraph_indent=rng.random() < 0.6,
        copyright_place=rng.choice(["footnote", "footnote", "below_abstract", "page_bottom"]),
        ink=rng.choice([0, 0, 0, 25, 45]),
    )
    sample_variations(rng, style)
    return style


def _roman(number: int) -> str:
    return ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"][number - 1]


class PageComposer(Variations):
    """Lays one article's first page out in one style."""

    def __init__(self, article: Article, style: Style, rng: random.Random):
        self.article = article
        self.style = style
        self.rng = rng
        self.page = Page(style.width, style.height)

    # fonts and runs ------------------------------------------------------------------------
    def body(self, bold=False, italic=False) -> str:
        return font_key(self.style.body_family, bold, italic)

    def heading(self, bold=True, italic=False) -> str:
        return font_key(self.style.heading_family, bold, italic)

    def run(self, text, font, size, label=None, group=0, grey=None, rise=0.0, space_before=True):
        grey = self.style.ink if grey is None else grey
        return Run(text, font, size, label, grey, group, rise, space_before)

    def lines(self, runs, width, size, align="left", factor=None, **kwargs) -> Block:
        leading = size * (factor or self.style.leading / self.style.body_size)
        return text_block(runs, width, leading, align, **kwargs)

    # front matter --------------------------------------------------------------------------
    def header(self, y: float) -> float:
        """Journal header at the top of the page; returns the y below it."""
        s, a, rng = self.style, self.article, self.rng
        width, x = s.text_width, s.margin_left
        small = s.body_size * rng.uniform(0.8, 0.95)
        kind = s.header_kind
        if kind == "none":
            return y
        if kind in ("running", "citation"):
            runs = [
                self.run(a.journal, self.body(italic=kind == "citation"), small, labels.JOURNAL)
            ]
            runs.append(
                self.run(
                    f"{a.year}; {a.volume}({a.issue}): {a.first_page}–"
                    f"{a.first_page + rng.randint(5, 20)}",
                    self.body(),
                    small,
                )
            )
            left = self.lines(runs, width * 0.62, small, factor=1.3)
            y_end = place_block_at(self.page, left, x, y, width)
            right_runs = self.header_right_runs(small)
            if right_runs:
                right = self.lines(right_runs, width * 0.36, small, "right", factor=1.3)
                y_end = max(
                    y_end, place_block_at(self.page, right, x + width * 0.64, y, width * 0.36)
                )
            if kind == "running" or rng.random() < 0.5:
                self.rule(x, y_end + 2, x + width, rng.uniform(0.4, 1.2))
            return y_end + rng.uniform(10, 22)
        if kind == "masthead":
            size = rng.uniform(13, 20)
            self.rule(x, y, x + width, rng.uniform(0.8, 2.0))
            block = self.lines(
                [self.run(a.journal, self.heading(bold=rng.random() < 0.7), size, labels.JOURNAL)],
                width,
                size,
                "center",
                factor=1.3,
            )
            y_end = place_block_at(self.page, block, x, y + 4, width)
            sub = self.lines(
                [
                    self.run(
                        f"Volume {a.volume}, Issue {a.issue}, {a.year}",
                        self.body(italic=True),
                        small,
                        grey=90,
                    )
                ]
                + self.header_right_runs(small),
                width,
                small,
                "center",
                factor=1.3,
            )
            y_end = place_block_at(self.page, sub, x, y_end, width)
            self.rule(x, y_end + 2, x + width, 0.6)
            return y_end + rng.uniform(12, 24)
        # banner: journal name on a grey band
        size = rng.uniform(12, 17)
        dark = rng.random() < 0.5
        band = self.lines(
            [self.run(a.journal, self.heading(), size, labels.JOURNAL, grey=255 if dark else 0)],
            width - 16,
            size,
            factor=1.25,
        )
        height = band.height + 10
        self.page.shapes.append(
            Shape("rect", (x, y, x + width, y + height), None, 60 if dark else 215, 0)
        )
        place_block_at(self.page, band, x + 8, y + 5, width - 16)
        right_runs = self.header_right_runs(small)
        y_end = y + height
        if right_runs:
            right = self.lines(right_runs, width, small, "right", factor=1.3)
            y_end = place_block_at(self.page, right, x, y_end + 2, width)
        return y_end + rng.uniform(10, 20)

    def header_right_runs(self, size) -> list[Run]:
        s, a = self.style, self.article
        runs = []
        if s.mtype_place == "header":
            runs.append(
                self.run(
                    a.manuscript_type.upper(), self.heading(), size, labels.MANUSCRIPT_TYPE, group=1
                )
            )
        if s.doi_place == "header":
            runs.append(self.run(f"doi:{a.doi}", self.body(), size, labels.DOI, group=2))
        if s.page_no_place == "header":
            runs.append(
                self.run(str(a.first_page), self.body(bold=True), size, labels.PAGE_NO, group=3)
            )
        return runs

    def rule(self, x0, y, x1, width=0.5, grey=None) -> None:
        grey = self.style.ink if grey is None else grey
        self.page.shapes.append(Shape("line", (x0, y, x1, y), grey, None, width))

    def manuscript_type_block(self, width) -> Block | None:
        s, rng = self.style, self.rng
        if s.mtype_place == "header":
            return None
        size = s.body_size * rng.uniform(0.85, 1.1)
        text = self.article.manuscript_type
        if s.mtype_place == "banner":
            run = self.run(text.upper(), self.heading(), size, labels.MANUSCRIPT_TYPE, grey=255)
            block = self.lines([run], width, size, factor=1.25)
            fill = self.accent(70)
            line = block.rows[0]
            line_width = line.pieces[-1].x + line.pieces[-1].width

            def draw(page, x, top, _width, height=line.height, w=line_width):
                page.shapes.append(
                    Shape("rect", (x - 4, top - 2, x + w + 4, top + height + 2), None, fill, 0)
                )

            block.rows.insert(0, Graphic(0, draw))
            block.rows.append(gap(rng.uniform(6, 12)))
            return block
        upper = rng.random() < 0.6
        run = self.run(
            text.upper() if upper else text,
            self.heading(bold=upper, italic=not upper),
            size,
            labels.MANUSCRIPT_TYPE,
            grey=rng.choice([self.style.ink, 90]),
        )
        block = self.lines([run], width, size, s.front_align, factor=1.3)
        block.rows.append(gap(rng.uniform(4, 10)))
        return block

    def title_block(self, width) -> Block:
        s = self.style
        size = s.title_size
        font = font_key(s.title_family or s.heading_family, s.title_bold, s.title_italic)
        run = self.run(self.article.title, font, size, labels.MANUSCRIPT_TITLE, grey=s.title_color)
        title_width = width * self.rng.uniform(0.8, 1.0)
        block = self.lines(
            [run], title_width, size, s.front_align, factor=self.rng.uniform(1.12, 1.3)
        )
        if s.front_align == "center":
            for line in block.rows:
                line.offset += (width - title_width) / 2
        block.rows.append(gap(self.rng.uniform(6, 14)))
        return block

    def authors_block(self, width, align=None) -> Block:
        s, a, rng = self.style, self.article, self.rng
        size = s.body_size * rng.uniform(1.0, 1.3)
        font = self.body(bold=rng.random() < 0.4)
        marks = len(a.affiliations) > 1
        runs = []
        for index, author in enumerate(a.authors):
            last = index == len(a.authors) - 1
            name = author.name
            if index and last:
                runs.append(self.run("and", self.body(), size, labels.AUTHOR))
            runs.append(self.run(name, font, size, labels.AUTHOR))
            mark = ",".join(aff[3:] for aff in author.aff_ids) if marks else ""
            if author.corresponding:
                mark += "*"
            if mark:
                runs.append(
                    self.run(
                        mark,
                        self.body(),
                        size * 0.62,
                        labels.AUTHOR,
                        rise=size * 0.36,
                        space_before=False,
                    )
                )
            if not last and len(a.authors) > 2:
                runs.append(self.run(",", self.body(), size, labels.AUTHOR, space_before=False))
        block = self.lines(runs, width, size, align or s.front_align, factor=1.3)
        block.rows.append(gap(rng.uniform(3, 8)))
        return block

    def affiliations_block(self, width, scale=None, align=None) -> Block:
        s, rng = self.style, self.rng
        size = s.body_size * (scale or rng.uniform(0.82, 0.95))
        font = self.body(italic=rng.random() < 0.5)
        marks = len(self.article.affiliations) > 1
        rows = []
        for index, aff in enumerate(self.article.affiliations):
            runs = []
            if marks:
                runs.append(
                    self.run(
                        aff.label,
                        self.body(),
                        size * 0.62,
                        labels.AUTHOR_AFF,
                        index,
                        rise=size * 0.36,
                    )
                )
            runs.append(
                self.run(aff.text, font, size, labels.AUTHOR_AFF, index, space_before=False)
            )
            rows += self.lines(runs, width, size, align or s.front_align, factor=1.25).rows
        rows.append(gap(rng.uniform(6, 12)))
        return Block(rows)

    def dates_block(self, width) -> Block:
        size = self.style.body_size * 0.8
        text = f"Received: {self.article.received}; Accepted: {self.article.accepted}"
        return self.front_line_block(
            self.run(text, self.body(italic=True), size, grey=80), width, size
        )

    def doi_block(self, width) -> Block:
        size = self.style.body_size * 0.85
        text = self.rng.choice(
            [
                f"https://doi.org/{self.article.doi}",
                f"DOI: {self.article.doi}",
                f"doi:{self.article.doi}",
            ]
        )
        return self.front_line_block(self.run(text, self.body(), size, labels.DOI), width, size)

    def front_line_block(self, run, width, size) -> Block:
        """One front-matter line in the front matter's alignment, then a small gap."""
        block = self.lines([run], width, size, self.style.front_align, factor=1.3)
        block.rows.append(gap(6))
        return block

    def abstract_block(self, width) -> Block:
        s, a, rng = self.style, self.article, self.rng
        size = s.body_size * rng.uniform(0.92, 1.05)
        kind = s.abstract_kind
        font = self.body(italic=kind == "indented" and rng.random() < 0.3)
        label_text = a.abstract_title.upper() if rng.random() < 0.35 else a.abstract_title
        pad = 8.0 if kind == "boxed" else 0.0
        indent = rng.uniform(12, 40) if kind == "indented" else 0.0
        inner = width - 2 * (pad + indent)
        align = "justify" if s.justify else "left"
        rows = []
        if kind != "runin" and s.abstract_heading:
            heading = self.run(
                label_text, self.heading(), size * rng.uniform(1.0, 1.2), labels.ABSTRACT
            )
            rows += self.lines([heading], inner, size, factor=1.4).rows
        for index, paragraph in enumerate(a.abstract):
            runs = [self.run(paragraph, font, size, labels.ABSTRACT)]
            if kind == "runin" and index == 0 and s.abstract_heading:
                runs.insert(
                    0,
                    self.run(
                        label_text + rng.choice(["—", ":", "."]),
                        self.heading(),
                        size,
                        labels.ABSTRACT,
                    ),
                )
            rows += self.lines(runs, inner, size, align).rows
        for row in rows:
            row.offset += pad + indent
        block = Block(rows, space_before=0)
        if kind == "boxed":
            height = block.height + 2 * pad
            fill = rng.choice([None, 238, 245])

            def draw(page, x, top, _width, height=height, fill=fill):
                page.shapes.append(
                    Shape(
                        "rect",
                        (x, top, x + width, top + height),
                        None if fill else s.ink,
                        fill,
                        0.6,
                    )
                )

            block.rows = [Graphic(pad, draw)] + block.rows + [gap(pad)]
        elif kind == "rules":
            block.rows = (
                [Graphic(5, lambda page, x, top, w: self.rule(x, top + 1, x + w, 0.6))]
                + block.rows
                + [Graphic(6, lambda page, x, top, w: self.rule(x, top + 4, x + w, 0.6))]
            )
        block.rows.append(gap(rng.uniform(4, 10)))
        return block

    def keywords_block(self, width) -> Block:
        s, rng = self.style, self.rng
        size = s.body_size * rng.uniform(0.88, 1.0)
        title = self.article.keywords_title
        if rng.random() < 0.3:
            title = title.upper()
        title += "—" if title.lower() == "index terms" else rng.choice([":", ":", ""])
        separator = rng.choice([", ", "; ", " · "])
        words = separator.join(self.article.keywords)
        title_run = self.run(title, self.heading(), size, labels.KEYWORDS_TITLE, 0)
        words_run = self.run(words, self.body(italic=rng.random() < 0.3), size, labels.KEYWORDS, 1)
        if s.keywords_inline:
            block = self.lines([title_run, words_run], width, size, "left")
        else:
            rows = self.lines([title_run], width, size, factor=1.4).rows
            rows += self.lines([words_run], width, size, "left").rows
            block = Block(rows)
        block.rows.append(gap(rng.uniform(6, 12)))
        return block

    def copyright_block(self, width) -> Block:
        size = self.style.body_size * self.rng.uniform(0.72, 0.85)
        return self.lines(
            [self.run(self.article.copyright, self.body(), size, labels.COPYRIGHT_STATEMENT)],
            width,
            size,
            "left",
            factor=1.22,
        )

    def front_matter(self, width) -> list[Block]:
        """Title page blocks above the columns, in this style's order."""
        s = self.style
        blocks = [
            self.manuscript_type_block(width),
            self.title_block(width),
            self.authors_block(width),
        ]
        if s.aff_place == "below_authors":
            blocks.append(self.affiliations_block(width))
        if s.doi_place == "below_authors":
            blocks.append(self.doi_block(width))
        if self.rng.random() < 0.4:
            blocks.append(self.dates_block(width))
        if not s.abstract_in_columns:
            blocks += self.abstract_and_keywords(width)
        return [b for b in blocks if b is not None]

    def abstract_and_keywords(self, width) -> list[Block]:
        s = self.style
        abstract, keywords = self.abstract_block(width), self.keywords_block(width)
        blocks = [keywords, abstract] if s.keywords_first else [abstract, keywords]
        if s.keywords_place == "sidebar":
            blocks.remove(keywords)
        extra = self.extra_abstract_block(width)
        if extra is not None:
            blocks.insert(
                0 if s.extra_abstract == "highlights" else blocks.index(abstract) + 1, extra
            )
        if s.doi_place == "below_abstract":
            blocks.append(self.doi_block(width))
        if s.copyright_place == "below_abstract":
            block = self.copyright_block(width)
            block.rows.append(gap(8))
            blocks.append(block)
        return blocks

    def fitting_front_matter(self, width, limit) -> list[Block]:
        """Front matter no taller than `limit`: a long abstract is shortened (in the article
        too, so the XML says what the page shows) or moved into the columns."""
        blocks = self.front_matter(width)
        for _ in range(6):
            if sum(b.height for b in blocks) <= limit:
                break
            if self.style.columns == 2 and not self.style.abstract_in_columns:
                self.style.abstract_in_columns = True
            elif not self.shorten_abstract():
                break
            blocks = self.front_matter(width)
        return blocks

    def shorten_abstract(self) -> bool:
        """Drop the abstract's last paragraph or a third of its only one (False: too short)."""
        abstract = self.article.abstract
        if len(abstract) > 1:
            abstract.pop()
            return True
        words = abstract[0].split(" ")
        if len(words) < 30:
            return False
        abstract[0] = " ".join(words[: len(words) * 2 // 3]).rstrip(",.") + "."
        return True

    # body ----------------------------------------------------------------------------------
    def section_title(self, number: int, title: str, width: float) -> Block:
        s = self.style
        size = s.body_size * self.rng.uniform(1.0, 1.25)
        numbering = {"": "", "1.": f"{number}.", "1": f"{number}", "I.": f"{_roman(number)}."}
        text = f"{numbering[s.section_numbering]} {title}".strip()
        if s.section_upper:
            text = text.upper()
        block = self.lines(
            [
                self.run(
                    text, self.heading(), size, labels.SECTION_TITLE, grey=self.heading_colour()
                )
            ],
            width,
            size,
            factor=1.35,
            space_before=s.body_size * 0.9,
            reserve_after=2 * s.leading,
        )
        self.decorate_heading(block, width)
        block.rows.append(gap(s.body_size * 0.3))
        return block

    def paragraph(
        self, text: str, width: float, first: bool, label=labels.SECTION_PARAGRAPH
    ) -> Block:
        s = self.style
        indent = s.body_size * 1.5 if s.paragraph_indent and not first else 0.0
        return self.lines(
            [self.run(text, self.body(), s.body_size, label)],
            width,
            s.body_size,
            "justify" if s.justify else "left",
            first_indent=indent,
            space_before=0 if s.paragraph_indent else s.body_size * 0.5,
        )

    def figure(self, figure: Figure, width: float) -> Block:
        s, rng = self.style, self.rng
        size = s.body_size * rng.uniform(0.85, 0.95)
        box_width = width if s.columns == 2 else width * rng.uniform(0.55, 0.85)
        box_height = box_width * rng.uniform(0.45, 0.75)
        shapes, spans = draw_figure(figure.kind, box_width, box_height, rng, s)
        left = (width - box_width) / 2

        def draw(page, x, top, _width):
            for shape in shapes:
                pts = tuple(
                    v + (x + left if i % 2 == 0 else top) for i, v in enumerate(shape.points)
                )
                page.shapes.append(Shape(shape.kind, pts, shape.stroke, shape.fill, shape.width))
            for span in spans:
                page.spans.append(
                    Span(
                        span.text,
                        span.font,
                        span.size,
                        span.x + x + left,
                        span.baseline + top,
                        span.grey,
                        span.space_after,
                    )
                )

        label = figure.label if rng.random() < 0.6 else figure.label.replace("Figure", "Fig.")
        runs = [
            self.run(
                label + rng.choice([".", ":", ""]), self.body(bold=True), size, labels.FIGURE_TITLE
            ),
            self.run(figure.title, self.body(), size, labels.FIGURE_TITLE),
        ]
        if figure.description:
            runs.append(
                self.run(figure.description, self.body(), size, labels.FIGURE_DESCRIPTION, 1)
            )
        caption = self.lines(runs, width, size, "justify" if s.justify else "left", factor=1.22)
        rows = [Graphic(box_height + 6, draw)] + caption.rows
        return Block(rows, keep_together=True, space_before=s.body_size)

    def table(self, table: Table, width: float) -> Block:
        s, rng = self.style, self.rng
        size = s.body_size * 0.9
        runs = [
            self.run(
                table.label + rng.choice([".", ":", ""]),
                self.body(bold=True),
                size,
                labels.TABLE_TITLE,
            ),
            self.run(table.title, self.body(), size, labels.TABLE_TITLE),
        ]
        if table.description:
            runs.append(self.run(table.description, self.body(), size, labels.TABLE_DESCRIPTION, 1))
        rows = self.lines(runs, width, size, "left", factor=1.22).rows
        rows.append(gap(3))
        cell_size = size
        while True:
            widths = [
                max(
                    metrics(self.body()).width(row[i], cell_size)
                    for row in table.rows + [table.header]
                )
                for i in range(len(table.header))
            ]
            padding = cell_size * 1.2
            if sum(widths) + padding * (len(widths) - 1) <= width or cell_size < 5.5:
                break
            cell_size -= 0.4
        total = sum(widths) + padding * (len(widths) - 1)
        spread = max(0.0, min(width - total, width * 0.4)) / max(1, len(widths) - 1)
        lefts, x = [], 0.0
        for w in widths:
            lefts.append(x)
            x += w + padding + spread
        table_width = x - padding - spread
        rule = Graphic(
            4, lambda page, x, top, w, tw=table_width: self.rule(x, top + 2, x + tw, 0.7)
        )
        rows.append(rule)
        rows.append(self.table_row(table.header, lefts, cell_size, labels.TABLE_HEADER_CELL, True))
        rows.append(
            Graphic(4, lambda page, x, top, w, tw=table_width: self.rule(x, top + 2, x + tw, 0.4))
        )
        for row in table.rows:
            rows.append(self.table_row(row, lefts, cell_size, labels.TABLE_BODY_CELL, False))
        rows.append(
            Graphic(4, lambda page, x, top, w, tw=table_width: self.rule(x, top + 2, x + tw, 0.7))
        )
        if table.footer:
            footer_size = size * 0.85
            rows += self.lines(
                [self.run(table.footer, self.body(), footer_size, labels.TABLE_FOOTER)],
                width,
                footer_size,
                "left",
                factor=1.2,
            ).rows
        return Block(rows, keep_together=True, space_before=s.body_size)

    def table_row(self, cells, lefts, size, label, bold) -> TextLine:
        pieces, ascent, descent = [], 0.0, 0.0
        for index, (cell, left) in enumerate(zip(cells, lefts, strict=True)):
            run = self.run(cell, self.body(bold=bold), size, label, index)
            (line,) = flow([run], 10_000, size * 1.3)
            for piece in line.pieces:
                pieces.append(
                    type(piece)(piece.text, run, piece.x + left, piece.width, piece.space_after)
                )
            ascent, descent = max(ascent, line.ascent), max(descent, line.descent)
        return TextLine(pieces, max(size * 1.35, ascent + descent), ascent, descent)

    def acknowledgement(self, width) -> list[Block]:
        s = self.style
        size = s.body_size
        title = self.run(
            self.article.acknowledgement_title,
            self.heading(),
            size,
            labels.ACKNOWLEDGEMENT,
        )
        return [
            self.lines(
                [title], width, size, factor=1.35, space_before=s.body_size, reserve_after=s.leading
            ),
            self.lines(
                [
                    self.run(
                        self.article.acknowledgement,
                        self.body(),
                        size * 0.95,
                        labels.ACKNOWLEDGEMENT,
                    )
                ],
                width,
                size,
                "justify" if s.justify else "left",
            ),
        ]

    def references(self, width) -> list[Block]:
        s, rng = self.style, self.rng
        size = s.body_size * rng.uniform(0.8, 0.92)
        title = self.article.reference_list_title
        if rng.random() < 0.35:
            title = title.upper()
        blocks = [
            self.lines(
                [self.run(title, self.heading(), s.body_size * 1.1, labels.REFERENCE_LIST_TITLE)],
                width,
                s.body_size,
                factor=1.35,
                space_before=s.body_size,
                reserve_after=s.leading,
            )
        ]
        numbered = rng.choice(["[1]", "1.", ""])
        hang = size * 2.0
        for index, reference in enumerate(self.article.references, start=1):
            runs = [self.run(reference, self.body(), size, labels.REFERENCE, index)]
            if numbered:
                runs.insert(
                    0,
                    self.run(
                        numbered.replace("1", str(index)),
                        self.body(),
                        size,
                        labels.REFERENCE,
                        index,
                    ),
                )
            blocks.append(
                self.lines(
                    runs,
                    width,
                    size,
                    "left",
                    factor=1.25,
                    rest_indent=hang,
                    space_before=size * 0.2,
                )
            )
        return blocks

    def body_blocks(self, width) -> list[Block]:
        a, rng = self.article, self.rng
        blocks = []
        if self.style.abstract_in_columns:
            blocks += self.abstract_and_keywords(width)
        floats = [self.figure(f, width) for f in a.figures] + [
            self.table(t, width) for t in a.tables
        ]
        rng.shuffle(floats)
        for number, section in enumerate(a.sections, start=1):
            blocks.append(self.section_title(number, section.title, width))
            for index, text in enumerate(section.paragraphs):
                blocks.append(self.paragraph(text, width, index == 0))
                if floats and rng.random() < 0.55:
                    blocks.append(floats.pop())
        blocks += floats
        if a.acknowledgement:
            blocks += self.acknowledgement(width)
        blocks += self.references(width)
        return blocks

    # footers -------------------------------------------------------------------------------
    def footers(self) -> tuple[float, float]:
        """Page number, bottom journal line and footnotes; returns the bottom of the first
        column and of the others."""
        s, a, rng = self.style, self.article, self.rng
        x, width = s.margin_left, s.text_width
        bottom = s.height - s.margin_bottom
        small = s.body_size * 0.85
        if s.running != "none":
            pass  # page number, journal and DOI are in the running header or footer
        elif s.page_no_place != "header" or s.header_kind == "none":
            runs = []
            if s.header_kind == "none":
                runs.append(
                    self.run(
                        f"{a.journal} {a.year}; {a.volume}",
                        self.body(italic=True),
                        small,
                        labels.JOURNAL,
                    )
                )
            if s.doi_place == "footer":
                runs.append(self.run(f"https://doi.org/{a.doi}", self.body(), small, labels.DOI, 1))
            if s.page_no_place != "header":
                align = "center" if s.page_no_place == "bottom_center" and not runs else "right"
                page_no = self.lines(
                    [self.run(str(a.first_page), self.body(), small, labels.PAGE_NO)],
                    width,
                    small,
                    align,
                    factor=1.3,
                )
                place_block_at(self.page, page_no, x, bottom - page_no.height, width)
            if runs:
                line = self.lines(runs, width * 0.8, small, factor=1.3)
                place_block_at(self.page, line, x, bottom - line.height, width * 0.8)
            bottom -= small * 1.3 + rng.uniform(6, 14)
        elif s.doi_place == "footer":
            line = self.lines(
                [self.run(f"https://doi.org/{a.doi}", self.body(), small, labels.DOI)],
                width,
                small,
                factor=1.3,
            )
            place_block_at(self.page, line, x, bottom - line.height, width)
            bottom -= small * 1.3 + rng.uniform(6, 14)
        x, width = s.main_left, s.main_width
        column_width = (width - s.column_gap * (s.columns - 1)) / s.columns
        note_width = width if s.copyright_place == "page_bottom" else column_width
        notes = []
        size = s.body_size * 0.78
        notes.append(
            self.lines(
                [self.run(f"*Corresponding author. E-mail: {a.email}", self.body(), size)],
                note_width,
                size,
                factor=1.22,
            )
        )
        if s.copyright_place not in ("below_abstract", "sidebar"):
            notes.insert(rng.randrange(2), self.copyright_block(note_width))
        if s.aff_place == "footnote":
            affiliations = self.affiliations_block(note_width, size / s.body_size, "left")
            affiliations.rows.pop()  # no space below the last footnote line
            notes.insert(0, affiliations)
        height = sum(b.height for b in notes) + 6
        top = bottom - height
        self.rule(x, top + 2, x + min(note_width, 120), 0.5)
        y = top + 6
        for block in notes:
            y = place_block_at(self.page, block, x, y, note_width)
        first_bottom = top - 6
        others = first_bottom if s.copyright_place == "page_bottom" else bottom
        return first_bottom, others

    # the page ------------------------------------------------------------------------------
    def drop_unshown_extras(self) -> None:
        """Highlights and summary stay in the article (and its XML) only where the page shows
        them; the editor and publication date are shown in a side bar only."""
        a, kind = self.article, self.style.extra_abstract
        if kind != "highlights":
            a.highlights = []
        if kind != "summary":
            a.summary = ""

    def compose(self) -> Page:
        s = self.style
        self.drop_unshown_extras()
        y = self.header(self.logo_row(s.margin_top))
        self.running_lines()
        first_bottom, other_bottom = self.footers()
        x, width = s.main_left, s.main_width
        if s.sidebar != "none":
            self.sidebar(y, first_bottom)
        if s.front_layout == "split":
            front_y = self.split_front(x, width, y, first_bottom)
        else:
            front = Frame(self.page, [(x, width)], y, [first_bottom])
            for block in self.fitting_front_matter(width, (first_bottom - y) * 0.6):
                front.place(block)
            front_y = front.y
        column_width = (width - s.column_gap * (s.columns - 1)) / s.columns
        columns = [(x + i * (column_width + s.column_gap), column_width) for i in range(s.columns)]
        bottoms = [first_bottom] + [other_bottom] * (s.columns - 1)
        body = Frame(self.page, columns, front_y + s.body_size * 0.8, bottoms)
        for block in self.body_blocks(column_width):
            if not body.place(block):
                break
        return self.page


def draw_figure(kind: str, width: float, height: float, rng: random.Random, style: Style):
    """Shapes and tick labels of a simple chart, relative to the figure's top-left corner."""
    shapes: list[Shape] = []
    spans: list[Span] = []
    font = font_key("dejavu-sans")
    panels = [(0.0, 0.0, width, height)]
    if kind == "panels":
        half = width / 2
        panels = [(0.0, 0.0, half - 4, height), (half + 4, 0.0, half - 4, height)]
    for index, (px, py, pw, ph) in enumerate(panels):
        panel_kind = rng.choice(["lines", "bars", "scatter"]) if kind == "panels" else kind
        if kind == "panels":
            spans.append(Span("AB"[index], font_key("dejavu-sans", True), 9, px, py + 9, 0))
        if panel_kind == "image":
            shapes.append(Shape("rect", (px, py, px + pw, py + ph), None, rng.randint(30, 90), 0))
            for _ in range(rng.randint(6, 18)):
                cx, cy = px + rng.uniform(0.1, 0.9) * pw, py + rng.uniform(0.1, 0.9) * ph
                r = rng.uniform(0.02, 0.1) * pw
                shapes.append(
                    Shape(
                        "ellipse", (cx - r, cy - r, cx + r, cy + r), None, rng.randint(120, 230), 0
                    )
                )
            continue
        left, bottom = px + 22, py + ph - 14
        right, top = px + pw - 4, py + 12
        shapes.append(Shape("line", (left, top, left, bottom, right, bottom), 0, None, 0.6))
        for t in range(5):
            tx = left + (right - left) * t / 4
            shapes.append(Shape("line", (tx, bottom, tx, bottom + 2.5), 0, None, 0.5))
            spans.append(Span(str(t * rng.choice([1, 2, 5, 10])), font, 5.5, tx - 2, bottom + 9))
            ty = bottom - (bottom - top) * t / 4
            shapes.append(Shape("line", (left - 2.5, ty, left, ty), 0, None, 0.5))
            spans.append(Span(f"{t * 0.25:.2f}", font, 5.5, px + 2, ty + 2))
        if panel_kind == "lines":
            for series in range(rng.randint(1, 3)):
                value = rng.uniform(0.2, 0.8)
                points = []
                for step in range(25):
                    value = min(0.95, max(0.05, value + rng.uniform(-0.08, 0.08)))
                    points += [left + (right - left) * step / 24, bottom - (bottom - top) * value]
                shapes.append(Shape("polyline", tuple(points), [0, 90, 150][series], None, 0.9))
        elif panel_kind == "bars":
            count = rng.randint(3, 8)
            slot = (right - left) / count
            for bar in range(count):
                value = rng.uniform(0.1, 0.95)
                bx = left + bar * slot + slot * 0.2
                shapes.append(
                    Shape(
                        "rect",
                        (bx, bottom - (bottom - top) * value, bx + slot * 0.6, bottom),
                        0,
                        rng.choice([90, 150, 200]),
                        0.4,
                    )
                )
        else:
            for _ in range(rng.randint(20, 60)):
                cx = left + rng.uniform(0.03, 0.97) * (right - left)
                cy = bottom - rng.uniform(0.03, 0.97) * (bottom - top)
                shapes.append(
                    Shape(
                        "ellipse",
                        (cx - 1.3, cy - 1.3, cx + 1.3, cy + 1.3),
                        0,
                        rng.choice([0, 120, None]),
                        0.4,
                    )
                )
    return shapes, spans


def compose_page(
    article: Article, rng: random.Random, style: Style | None = None
) -> tuple[Page, Style]:
    """Lay out an article's first page in a random (or given) style."""
    style = style or sample_style(rng)
    return PageComposer(article, style, rng).compose(), style
