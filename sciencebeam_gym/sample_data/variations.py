"""Layouts of real publishers' first pages, each drawn with some probability on top of a style:
a side bar of notes beside the front matter, logos and badges, running headers and footers in
the margins, front matter in two columns, highlights and summaries beside the abstract, accent
colours, title fonts and bands behind headings.

`Variations` is the part of the page composer that draws them; `sample_variations` picks them.
"""

from __future__ import annotations

import random

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym.sample_data.fonts import TEXT_FAMILIES, font_key, metrics
from sciencebeam_gym.sample_data.layout import (
    Block,
    Frame,
    Graphic,
    Run,
    Shape,
    Span,
    gap,
    place_block_at,
)

# publisher accent colours (blue, red, teal, purple, orange, dark blue)
ACCENTS = [(0, 94, 160), (196, 30, 45), (0, 120, 110), (96, 60, 140), (214, 100, 0), (30, 60, 120)]
WHITE = (255, 255, 255)
LOGO_FONT = font_key("dejavu-sans", bold=True)


def tint(colour, amount: float) -> tuple:
    """A colour (or grey level) mixed with white (amount 1: white)."""
    if not isinstance(colour, tuple):
        return round(colour + (255 - colour) * amount)
    return tuple(round(c + (255 - c) * amount) for c in colour)


def sample_variations(rng: random.Random, s) -> None:
    """Draw the real-layout variations of a style (in place)."""
    s.accent = rng.choice(ACCENTS) if rng.random() < 0.5 else None
    roll = rng.random()
    if s.width > 480 and roll < 0.18:
        s.sidebar = "boxes" if roll < 0.1 else "notes"
        s.columns, s.abstract_in_columns = 1, False
        s.body_size = max(s.body_size, 9.0)
        s.leading = s.body_size * rng.uniform(1.15, 1.38)
        s.sidebar_width = s.text_width * rng.uniform(0.26, 0.32) + rng.uniform(14, 24)
        if s.sidebar == "boxes" or rng.random() < 0.5:
            s.copyright_place = "sidebar"
        if s.sidebar == "notes" and rng.random() < 0.6:
            s.keywords_place = "sidebar"
    s.logo = rng.choice(["none", "none", "none", "left", "right"])
    s.crossmark = rng.random() < 0.25
    s.running = rng.choice(["none"] * 11 + ["footer"] * 6 + ["header"] * 3)
    if s.running != "none":
        s.page_no_place = "running"
        if s.doi_place == "footer":
            s.doi_place = "running"
    if s.sidebar == "none" and s.text_width > 400 and rng.random() < 0.18:
        s.front_layout, s.abstract_in_columns = "split", False
    s.extra_abstract = rng.choice(["none"] * 8 + ["highlights", "summary"])
    s.abstract_heading = rng.random() >= 0.12
    s.title_family = rng.choice(TEXT_FAMILIES + (s.heading_family,) * 3)
    s.title_bold, s.title_italic = rng.random() < 0.65, rng.random() < 0.1
    s.title_color = s.accent if s.accent and rng.random() < 0.4 else s.ink
    if rng.random() < 0.3:
        s.heading_band = rng.choice(["band", "dark_band", "rule", "colour"])


class Variations:
    """Drawing of the variations; mixed into the page composer (self.style, self.rng, ...)."""

    def accent(self, fallback=None):
        s = self.style
        return s.accent or (s.ink if fallback is None else fallback)

    # logos and badges ----------------------------------------------------------------------
    def logo_row(self, y: float) -> float:
        """A row with the publisher's logo, beside it the journal name or a badge."""
        s, rng = self.style, self.rng
        if s.logo == "none" and not s.crossmark:
            return y
        height = rng.uniform(20, 34)
        x, width = s.margin_left, s.text_width
        logo_width = 0.0
        if s.logo != "none":
            logo_width = self.draw_logo(x, y, height, s.logo == "right", width)
        if s.crossmark:
            left = s.logo != "right"
            self.draw_crossmark(x + width - height * 2.2 if left else x, y, height * 0.8)
        elif s.logo != "none" and rng.random() < 0.6:
            size = height * rng.uniform(0.3, 0.42)
            run = self.run(
                self.article.journal, self.heading(), size, labels.JOURNAL, grey=self.accent()
            )
            block = self.lines([run], width - logo_width - 12, size, factor=1.2)
            left = x if s.logo == "right" else x + logo_width + 12
            align_right = s.logo == "left" and rng.random() < 0.5
            if align_right:
                block = self.lines([run], width - logo_width - 12, size, "right", factor=1.2)
            place_block_at(self.page, block, left, y + (height - block.height) / 2, width)
        return y + height + rng.uniform(6, 14)

    def draw_logo(self, x, y, height, right, width) -> float:
        """A logo: a mark (disc, squares or a filled box) and the journal's initials; returns
        its width. Unlabelled (background), as logos are pictures on real pages."""
        rng, colour = self.rng, self.accent(60)
        initials = "".join(w[0] for w in self.article.journal.split() if w[0].isupper())
        size = height * rng.uniform(0.5, 0.7)
        text_width = metrics(LOGO_FONT).width(initials, size)
        kind = rng.choice(["disc", "squares", "box"])
        total = text_width + (height + 6 if kind != "box" else 12)
        left = x + width - total if right else x
        shapes, text_x, text_grey = self.page.shapes, left + height + 6, colour
        if kind == "disc":
            shapes.append(Shape("ellipse", (left, y, left + height, y + height), None, colour, 0))
            inner = height * 0.3
            shapes.append(
                Shape(
                    "ellipse",
                    (left + inner, y + inner, left + height - inner, y + height - inner),
                    None,
                    WHITE,
                    0,
                )
            )
        elif kind == "squares":
            half = height / 2 - 1
            for dx, dy, amount in (
                (0, 0, 0),
                (half + 2, 0, 0.4),
                (0, half + 2, 0.6),
                (half + 2, half + 2, 0.2),
            ):
                box = (left + dx, y + dy, left + dx + half, y + dy + half)
                shapes.append(Shape("rect", box, None, tint(colour, amount), 0))
        else:
            shapes.append(Shape("rect", (left, y, left + total, y + height), None, colour, 0))
            text_x, text_grey = left + 6, WHITE
        baseline = y + height / 2 + size * 0.36
        self.page.spans.append(Span(initials, LOGO_FONT, size, text_x, baseline, text_grey))
        return total

    def draw_crossmark(self, x, y, size) -> None:
        """An update-check badge: a ring with a mark and a small caption (background)."""
        shapes = self.page.shapes
        shapes.append(Shape("ellipse", (x, y, x + size, y + size), 150, None, size * 0.12))
        shapes.append(
            Shape(
                "rect",
                (x + size * 0.4, y + size * 0.2, x + size * 0.6, y + size * 0.8),
                None,
                self.accent(90),
                0,
            )
        )
        font = font_key("dejavu-sans")
        self.page.spans.append(
            Span("CrossMark", font, size * 0.3, x + size * 1.1, y + size * 0.6, 110)
        )

    # running headers and footers in the margins -------------------------------------------
    def running_lines(self) -> None:
        """Journal, volume (and DOI) and the page number in the top or bottom margin."""
        s, a, rng = self.style, self.article, self.rng
        if s.running == "none":
            return
        size = s.body_size * rng.uniform(0.72, 0.85)
        x, width = s.margin_left, s.text_width
        journal = self.run(a.journal, self.body(italic=rng.random() < 0.4), size, labels.JOURNAL, 1)
        runs = [journal, self.run(f"{a.year}, Vol. {a.volume}, No. {a.issue}", self.body(), size)]
        if s.doi_place == "running":
            runs += [
                self.run("|", self.body(), size),
                self.run(f"doi:{a.doi}", self.body(), size, labels.DOI, 2),
            ]
        outer_left = rng.random() < 0.5  # the page number at the outer edge of a left-hand page
        text_align = "right" if outer_left else "left"
        text = self.lines(runs, width * 0.8, size, text_align, factor=1.3)
        number_align = "left" if outer_left else "right"
        number = self.lines(
            self.page_number_runs(size), width * 0.18, size, number_align, factor=1.3
        )
        height = max(text.height, number.height)
        if s.running == "footer":
            top = s.height - s.margin_bottom * rng.uniform(0.3, 0.55) - height / 2
            top = min(top, s.height - height - 4)
            self.rule(x, top - 3, x + width, rng.uniform(0.3, 0.8), self.accent())
        else:
            top = max(4.0, s.margin_top * rng.uniform(0.25, 0.45) - height / 2)
        text_x, number_x = (x + width * 0.2, x) if outer_left else (x, x + width * 0.82)
        place_block_at(self.page, text, text_x, top, width * 0.8)
        place_block_at(self.page, number, number_x, top, width * 0.18)

    def page_number_runs(self, size) -> list[Run]:
        """The page number (page_no) in one of the forms journals print it."""
        a, rng = self.article, self.rng
        number = self.run(
            str(a.first_page), self.body(bold=rng.random() < 0.4), size, labels.PAGE_NO, 3
        )
        form = rng.choice(["plain", "plain", "page", "of"])
        if form == "page":
            return [self.run("Page", self.body(), size), number]
        if form == "of":
            last = a.first_page + rng.randint(5, 20)
            return [number, self.run(f"/ {last}", self.body(), size)]
        return [number]

    # side bar ------------------------------------------------------------------------------
    def sidebar(self, top: float, bottom: float) -> None:
        """Notes in a column left of the front matter and the text: citation, editor, dates,
        copyright, keywords, correspondence (labelled where a class fits, else background)."""
        s, rng = self.style, self.rng
        width = s.sidebar_width - rng.uniform(14, 20)
        if s.sidebar == "boxes":
            top += (bottom - top) * rng.uniform(0.0, 0.3)
        size = s.body_size * rng.uniform(0.7, 0.8)
        family = rng.choice([s.body_family, "dejavu-sans", "dejavu-sans"])
        blocks = [b for b in self.sidebar_items(width, size, family) if b is not None]
        height = min(sum(b.height for b in blocks), bottom - top)
        if rng.random() < 0.4:
            fill = tint(s.accent, 0.88) if s.accent else 240
            self.page.shapes.append(
                Shape(
                    "rect",
                    (s.margin_left - 4, top - 4, s.margin_left + width + 4, top + height + 2),
                    None,
                    fill,
                    0,
                )
            )
        frame = Frame(self.page, [(s.margin_left, width)], top, [bottom])
        for block in blocks:
            if not frame.place(block):
                break

    def sidebar_items(self, width, size, family) -> list:
        s, a = self.style, self.article
        items = [self.note(width, size, family, "", "OPEN ACCESS")]
        items.append(self.citation_note(width, size, family))
        if s.sidebar == "boxes":
            items.append(self.note(width, size, family, "Editor:", a.editor))
        items += [
            self.note(width, size, family, "Received:", a.received),
            self.note(width, size, family, "Accepted:", a.accepted),
            self.note(width, size, family, "Published:", a.published),
        ]
        if s.keywords_place == "sidebar":
            items.append(self.keywords_note(width, size, family))
        if s.copyright_place == "sidebar":
            items.append(
                self.note(
                    width, size, family, "Copyright:", a.copyright, labels.COPYRIGHT_STATEMENT
                )
            )
        items.append(self.note(width, size, family, "Author for correspondence:", a.email))
        if s.sidebar == "boxes":
            for title in ("Data Availability:", "Funding:", "Competing Interests:"):
                items.append(self.note(width, size, family, title, self.rng.choice(FILLER_NOTES)))
        return items

    def note(self, width, size, family, title, text, label=None) -> Block:
        runs = (
            [Run(title, font_key(family, bold=True), size, None, self.style.ink)] if title else []
        )
        runs.append(Run(text, font_key(family), size, label, self.style.ink, 1))
        block = self.lines(runs, width, size, "left", factor=1.25)
        block.rows.append(gap(size * 0.8))
        return block

    def citation_note(self, width, size, family) -> Block:
        a = self.article
        font, ink = font_key(family), self.style.ink
        authors = f"{a.authors[0].surname} {a.authors[0].given_names[0]}" + (
            " et al." if len(a.authors) > 1 else ""
        )
        runs = [
            Run("Cite this article:", font_key(family, bold=True), size, None, ink),
            Run(f"{authors} ({a.year}) {a.title}.", font, size, None, ink),
            Run(a.journal, font_key(family, italic=True), size, labels.JOURNAL, ink, 1),
            Run(f"{a.volume}({a.issue}): {a.first_page}.", font, size, None, ink),
            Run(f"doi:{a.doi}", font, size, labels.DOI, ink, 2),
        ]
        block = self.lines(runs, width, size, "left", factor=1.25)
        block.rows.append(gap(size * 0.8))
        return block

    def keywords_note(self, width, size, family) -> Block:
        a, ink = self.article, self.style.ink
        title = Run(
            f"{a.keywords_title}:", font_key(family, bold=True), size, labels.KEYWORDS_TITLE, ink
        )
        words = Run(", ".join(a.keywords), font_key(family), size, labels.KEYWORDS, ink, 1)
        rows = (
            self.lines([title], width, size, factor=1.3).rows
            + self.lines([words], width, size, factor=1.25).rows
        )
        return Block(rows + [gap(size * 0.8)])

    # highlights and summaries --------------------------------------------------------------
    def extra_abstract_block(self, width) -> Block | None:
        """Highlights (bullets) or a summary for non-specialists, beside the abstract; left
        unlabelled, as the JATS abstract types they have are not the abstract class."""
        s, a, rng = self.style, self.article, self.rng
        if s.extra_abstract == "none":
            return None
        size = s.body_size * rng.uniform(0.88, 1.0)
        heading_colour = self.accent()
        if s.extra_abstract == "highlights":
            rows = self.lines(
                [self.run("Highlights", self.heading(), size * 1.1, grey=heading_colour)],
                width,
                size,
                factor=1.4,
            ).rows
            for item in a.highlights:
                bullet = [self.run("•", self.body(), size), self.run(item, self.body(), size)]
                rows += self.lines(bullet, width, size, rest_indent=size * 0.9).rows
            return Block(rows + [gap(rng.uniform(6, 10))])
        pad = 6.0
        rows = self.lines(
            [self.run(a.summary_title, self.heading(), size * 1.1, grey=heading_colour)],
            width - 2 * pad,
            size,
            factor=1.4,
        ).rows
        rows += self.lines(
            [self.run(a.summary, self.body(), size)],
            width - 2 * pad,
            size,
            "justify" if s.justify else "left",
        ).rows
        for row in rows:
            row.offset += pad
        fill = tint(s.accent, 0.9) if s.accent else 242
        height = sum(r.height for r in rows) + 2 * pad

        def draw(page, x, top, _width, height=height):
            page.shapes.append(Shape("rect", (x, top, x + width, top + height), None, fill, 0))

        rows = [Graphic(pad, draw)] + rows + [gap(pad), gap(rng.uniform(6, 10))]
        return Block(rows, keep_together=True)  # the box is drawn whole: never split

    # headings ------------------------------------------------------------------------------
    def heading_colour(self):
        band = self.style.heading_band
        if band == "dark_band":
            return WHITE
        return self.accent() if band in ("colour", "band") and self.style.accent else None

    def decorate_heading(self, block: Block, width: float) -> None:
        """A band behind a section title's lines, or a coloured rule under them."""
        s = self.style
        lines = [row for row in block.rows if not isinstance(row, Graphic)]
        height = sum(line.height for line in lines)
        if s.heading_band in ("band", "dark_band"):
            fill = (
                self.accent(70)
                if s.heading_band == "dark_band"
                else (tint(s.accent, 0.85) if s.accent else 225)
            )

            def draw(page, x, top, _width, height=height):
                page.shapes.append(
                    Shape("rect", (x - 3, top, x + width, top + height), None, fill, 0)
                )

            block.rows.insert(0, Graphic(0, draw))
        elif s.heading_band == "rule":
            block.rows.insert(
                len(lines),
                Graphic(
                    3, lambda page, x, top, w: self.rule(x, top + 1, x + width, 0.9, self.accent())
                ),
            )

    # front matter in two columns -----------------------------------------------------------
    def split_front(self, x: float, width: float, y: float, bottom: float) -> float:
        """Title across the page; authors, affiliations and dates in a narrow left column, the
        abstract and keywords right of them. Returns the y below both."""
        rng = self.rng
        left_width = width * rng.uniform(0.28, 0.36)
        space = rng.uniform(14, 22)
        right_width = width - left_width - space
        top_blocks = [b for b in (self.manuscript_type_block(width), self.title_block(width)) if b]
        frame = Frame(self.page, [(x, width)], y, [bottom])
        for block in top_blocks:
            frame.place(block)
        limit = (bottom - frame.y) * 0.6
        for _ in range(6):
            left = self.split_left_blocks(left_width)
            right = self.abstract_and_keywords(right_width)
            if max(sum(b.height for b in left), sum(b.height for b in right)) <= limit:
                break
            if not self.shorten_abstract():
                break
        ends = []
        for blocks, left_x, column_width in (
            (left, x, left_width),
            (right, x + left_width + space, right_width),
        ):
            column = Frame(self.page, [(left_x, column_width)], frame.y, [bottom])
            for block in blocks:
                column.place(block)
            ends.append(column.y)
        return max(ends)

    def split_left_blocks(self, width) -> list[Block]:
        s = self.style
        blocks = [self.authors_block(width, "left"), self.affiliations_block(width, align="left")]
        if s.doi_place == "below_authors":
            blocks.append(self.doi_block(width))
        blocks.append(self.dates_block(width))
        return blocks


FILLER_NOTES = [
    "All relevant data are within the paper and its Supporting Information files.",
    "The authors have declared that no competing interests exist.",
    "The funders had no role in study design, data collection and analysis, decision to "
    "publish, or preparation of the manuscript.",
    "This work was supported by a research grant of the national science foundation.",
]
