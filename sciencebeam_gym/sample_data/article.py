"""The content of one synthetic article: what the page shows and what the JATS XML holds."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from sciencebeam_gym.sample_data import text


@dataclass
class Author:
    given_names: str
    surname: str
    aff_ids: list[str]
    corresponding: bool = False

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.surname}"


@dataclass
class Affiliation:
    aff_id: str
    label: str
    institution: str
    city: str

    @property
    def text(self) -> str:
        return f"{self.institution}, {self.city}"


@dataclass
class Section:
    title: str
    paragraphs: list[str]


@dataclass
class Figure:
    label: str
    title: str
    description: str
    kind: str


@dataclass
class Table:
    label: str
    title: str
    description: str
    header: list[str]
    rows: list[list[str]]
    footer: str


@dataclass
class Article:
    doc_id: str
    journal: str
    volume: int
    issue: int
    year: int
    first_page: int
    doi: str
    manuscript_type: str
    title: str
    authors: list[Author]
    affiliations: list[Affiliation]
    abstract: list[str]
    keywords: list[str]
    copyright: str
    received: str
    accepted: str
    email: str
    sections: list[Section]
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    acknowledgement: str | None = None
    references: list[str] = field(default_factory=list)
    # headings as the journal words them (the page may set them in capitals)
    abstract_title: str = "Abstract"
    keywords_title: str = "Keywords"
    acknowledgement_title: str = "Acknowledgements"
    reference_list_title: str = "References"
    # front matter some designs show: a highlights list, a summary for non-specialists (JATS
    # abstracts of type "highlights" and "summary"), the academic editor, the publication date
    highlights: list[str] = field(default_factory=list)
    summary_title: str = "Author Summary"
    summary: str = ""
    editor: str = ""
    published: str = ""


MONTHS = "January February March April May June July August September October November December"


def _date(rng: random.Random, year: int) -> str:
    return f"{rng.randint(1, 28)} {text.pick(rng, MONTHS.split())} {year}"


def _email(author: Author) -> str:
    ascii_name = unicodedata.normalize("NFKD", author.surname).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_name.lower() if c.isalpha()) + "@example.org"


def _affiliations(rng: random.Random) -> list[Affiliation]:
    result = []
    for index in range(rng.choice([1, 1, 2, 2, 3, 4])):
        institution, city = text.institution(rng)
        result.append(Affiliation(f"aff{index + 1}", str(index + 1), institution, city))
    return result


def _authors(rng: random.Random, affiliations: list[Affiliation]) -> list[Author]:
    authors = []
    for _ in range(rng.choice([1, 2, 3, 3, 4, 5, 6, 8])):
        given, surname = text.person(rng)
        count = 1 if len(affiliations) == 1 or rng.random() < 0.75 else 2
        aff_ids = sorted(a.aff_id for a in rng.sample(affiliations, count))
        authors.append(Author(given, surname, aff_ids))
    authors[rng.choice([0, len(authors) - 1])].corresponding = True
    # every affiliation belongs to someone
    used = {a for author in authors for a in author.aff_ids}
    for aff in affiliations:
        if aff.aff_id not in used:
            authors[rng.randrange(len(authors))].aff_ids.append(aff.aff_id)
    for author in authors:
        author.aff_ids = sorted(set(author.aff_ids))
    return authors


def _reference(rng: random.Random, index: int) -> str:
    names = []
    for _ in range(rng.randint(1, 4)):
        given, surname = text.person(rng)
        names.append(f"{surname} {given[0]}")
    if rng.random() < 0.3:
        names.append("et al")
    year = rng.randint(1985, 2023)
    volume = rng.randint(1, 120)
    first = rng.randint(1, 2000)
    ref = (
        f"{', '.join(names)}. {text.short_title(rng, 5, 12)}. {text.journal_name(rng)}. "
        f"{year};{volume}:{first}–{first + rng.randint(3, 25)}."
    )
    if rng.random() < 0.4:
        ref += f" doi:{text.doi(rng)}"
    return ref


def _figure(rng: random.Random, number: int) -> Figure:
    return Figure(
        label=f"Figure {number}",
        title=text.short_title(rng, 4, 10) + ".",
        description=" ".join(text.sentence(rng, 6, 16) for _ in range(rng.randint(0, 3))),
        kind=rng.choice(["lines", "bars", "scatter", "panels", "image"]),
    )


def _table(rng: random.Random, number: int) -> Table:
    columns = rng.randint(3, 5)
    header = [text.table_word(rng) for _ in range(columns)]
    rows = []
    for _ in range(rng.randint(3, 7)):
        row = [text.short_title(rng, 1, 2)]
        for _ in range(columns - 1):
            kind = rng.randrange(3)
            if kind == 0:
                row.append(f"{rng.uniform(0, 100):.{rng.randint(1, 2)}f}")
            elif kind == 1:
                row.append(f"{rng.randint(1, 500)} ({rng.uniform(1, 99):.1f})")
            else:
                row.append(f"{rng.uniform(0, 10):.2f} ± {rng.uniform(0, 2):.2f}")
        rows.append(row)
    return Table(
        label=f"Table {number}",
        title=text.short_title(rng, 4, 10) + ".",
        description=text.sentence(rng, 6, 14) if rng.random() < 0.3 else "",
        header=header,
        rows=rows,
        footer=("Values are mean ± SD. " + text.sentence(rng, 5, 12)) if rng.random() < 0.5 else "",
    )


def generate_article(rng: random.Random, doc_id: str, short: bool = False) -> Article:
    """A whole article's content; a page shows as much of it as fits. A short one (a letter)
    leaves room for the acknowledgement and references on its first page."""
    year = rng.randint(1998, 2024)
    affiliations = _affiliations(rng)
    authors = _authors(rng, affiliations)
    corresponding = next(a for a in authors if a.corresponding)
    holder = (
        f"{authors[0].surname} et al"
        if len(authors) > 2
        else " and ".join(a.surname for a in authors)
    )
    copyright_text = text.pick(
        rng,
        [
            f"© {year} {holder}. This is an open access article distributed under the terms of the "
            "Creative Commons Attribution License, which permits unrestricted use, distribution, and "
            "reproduction in any medium, provided the original author and source are credited.",
            f"Copyright © {year} {holder}. Published under an open licence.",
            f"© {year} The Authors. Published by {text.journal_name(rng)} Press. All rights reserved.",
            f"© The Author(s) {year}. Open Access. This article is licensed under a Creative Commons "
            "Attribution 4.0 International License.",
        ],
    )
    section_names = [text.pick(rng, ["Introduction", "Background"])]
    section_names += rng.sample(
        text.SECTION_NAMES[2:], rng.randint(0, 1) if short else rng.randint(1, 3)
    )
    paragraphs = (1, 2) if short else (1, 4)
    sentences = (2, 4) if short else (3, 7)
    sections = [
        Section(name, [text.paragraph(rng, *sentences) for _ in range(rng.randint(*paragraphs))])
        for name in section_names
    ]
    article = Article(
        doc_id=doc_id,
        journal=text.journal_name(rng),
        volume=rng.randint(1, 140),
        issue=rng.randint(1, 12),
        year=year,
        first_page=rng.randint(1, 3000),
        doi=text.doi(rng),
        manuscript_type=text.pick(rng, text.MANUSCRIPT_TYPES),
        title=text.article_title(rng),
        authors=authors,
        affiliations=affiliations,
        abstract=[
            text.paragraph(rng, *((2, 4) if short else (4, 8)))
            for _ in range(1 if short or rng.random() < 0.8 else 2)
        ],
        keywords=text.keywords(rng),
        copyright=copyright_text,
        received=_date(rng, year),
        accepted=_date(rng, year),
        email=_email(corresponding),
        sections=sections,
        figures=[_figure(rng, n) for n in range(1, rng.randint(2, 3))],
        tables=[_table(rng, n) for n in range(1, rng.randint(1, 3))],
        acknowledgement=(
            f"We thank {' '.join(text.person(rng))} for {text.pick(rng, text.NOUNS)} support. "
            f"This work was funded by the {text.pick(rng, text.FUNDERS)} "
            f"(grant {rng.randint(100000, 999999)})."
        )
        if rng.random() < 0.7
        else None,
        references=[_reference(rng, n) for n in range(rng.randint(3, 14))],
        abstract_title=text.pick(rng, ["Abstract", "Abstract", "Summary"]),
        keywords_title=text.pick(rng, ["Keywords", "Keywords", "Key words", "Index Terms"]),
        acknowledgement_title=text.pick(rng, ["Acknowledgements", "Acknowledgments"]),
        reference_list_title=text.pick(
            rng, ["References", "References", "Literature Cited", "Bibliography"]
        ),
    )
    _add_front_extras(rng, article)
    return article


def _add_front_extras(rng: random.Random, article: Article) -> None:
    """Highlights, a summary, the editor and the publication date (a page may show them)."""
    article.highlights = [text.sentence(rng, 8, 16) for _ in range(rng.randint(3, 5))]
    article.summary_title = text.pick(
        rng, ["Author Summary", "Significance", "Significance Statement", "Plain Language Summary"]
    )
    article.summary = text.paragraph(rng, 2, 4)
    given, surname = text.person(rng)
    article.editor = f"{given} {surname}, {text.institution(rng)[0]}"
    article.published = _date(rng, article.year)
