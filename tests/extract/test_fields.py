"""The field rules on tiny fpdf2 PDFs with painted labels: one test per rule."""

from __future__ import annotations

import pytest

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.extract.fields import assemble_article, split_name
from sciencebeam_gym.extract.layout import page_blocks
from tests.extract.pages import Text, labels_by_value, make_pdf, painted, paragraph, then


def article_of(*pages: list[Text]):
    document = open_pdf(make_pdf(list(pages)))
    maps = painted(list(pages))
    blocks = [
        page_blocks(extract_page_text(document[i]), maps[i], labels_by_value(), i + 1)
        for i in range(len(pages))
    ]
    return assemble_article(blocks)


def chain(first: Text, *parts: tuple[str, bool]) -> list[Text]:
    """`first` followed on its line by (text, raised) parts."""
    items = [first]
    for text, raised in parts:
        items.append(then(items[-1], text, raised=raised))
    return items


def test_the_title_leaves_out_lines_much_smaller_than_its_largest():
    title = paragraph(72, 100, ["A Large Title", "On Two Lines"], "manuscript_title", size=20)
    running_head = Text(72, 40, 8, "Journal of Tests 2024", "manuscript_title")
    assert article_of([running_head, *title]).title == "A Large Title On Two Lines"


def test_authors_are_split_on_separators_and_raised_marks_with_footnote_signs_dropped():
    authors = chain(
        Text(72, 150, 11, "Ann B. Lee", "author"),
        ("1,2", True),
        (", Bob van Dijk", False),
        ("2,*", True),
        (" and Carl Ode", False),
        ("3", True),
        ("; Dee Fox\u00a7", False),
    )
    found = article_of(authors).authors
    assert [(a.given_names, a.surname) for a in found] == [
        ("Ann B.", "Lee"),
        ("Bob", "van Dijk"),
        ("Carl", "Ode"),
        ("Dee", "Fox"),
    ]


def test_marks_printed_unraised_are_dropped_from_the_names():
    authors = [Text(72, 150, 11, "Ann Lee1, Bob Ray2*", "author")]
    assert [a.text for a in article_of(authors).authors] == ["Ann Lee", "Bob Ray"]


def test_a_single_word_name_is_a_surname():
    assert (split_name("Plato").given_names, split_name("Plato").surname) == ("", "Plato")


def test_affiliations_are_split_on_raised_and_line_start_labels():
    raised = [
        Text(72, 197, 5.4, "1", "author_aff", raised=True),
        Text(76, 200, 9, "Dept A, Uni X;", "author_aff"),
        Text(72, 208, 5.4, "2", "author_aff", raised=True),
        Text(76, 211, 9, "Lab B, Y", "author_aff"),
    ]
    worded = [Text(72, 240, 9, "a Institute C, Z", "author_aff")]
    found = article_of([*raised, *worded]).affiliations
    assert [(a.label, a.text) for a in found] == [
        ("1", "Dept A, Uni X"),
        ("2", "Lab B, Y"),
        ("a", "Institute C, Z"),
    ]


def test_numbered_affiliations_inside_a_line_are_split_and_unlabelled_blocks_are_one_each():
    inline = [Text(72, 200, 9, "1. Dept A, Uni X, 2. Lab B, Y", "author_aff")]
    unlabelled = paragraph(72, 300, ["Some Institute,", "Some Town"], "author_aff", size=9)
    found = article_of([*inline, *unlabelled]).affiliations
    assert [(a.label, a.text) for a in found] == [
        ("1", "Dept A, Uni X"),
        ("2", "Lab B, Y"),
        ("", "Some Institute, Some Town"),
    ]


def test_abstract_and_keywords_lose_their_headings_and_keywords_are_split():
    abstract = paragraph(72, 300, ["Abstract: We show that", "tests work."], "abstract")
    keywords = [Text(72, 400, 10, "Keywords: frogs; tadpole birth, Sulawesi", "keywords")]
    article = article_of([*abstract, *keywords])
    assert article.abstract == "We show that tests work."
    assert article.keywords == ["frogs", "tadpole birth", "Sulawesi"]


def test_sections_take_their_paragraphs_cut_at_indents_and_joined_over_columns():
    title = Text(72, 100, 12, "Introduction", "section_title")
    body = paragraph(72, 120, ["First paragraph runs", "and ends here."], "section_paragraph")
    indented = paragraph(90, 144, ["Second one starts"], "section_paragraph")
    rest = paragraph(72, 156, ["indented and goes"], "section_paragraph")
    other_column = paragraph(
        320, 100, ["on in the next column.", "Then a third."], "section_paragraph"
    )
    methods = Text(320, 140, 12, "Methods", "section_title")
    method_text = paragraph(320, 160, ["We did it."], "section_paragraph")
    article = article_of([title, *body, *indented, *rest, *other_column, methods, *method_text])
    assert [(s.title, s.paragraphs) for s in article.sections] == [
        (
            "Introduction",
            [
                "First paragraph runs and ends here.",
                "Second one starts indented and goes on in the next column. Then a third.",
            ],
        ),
        ("Methods", ["We did it."]),
    ]


def test_an_author_line_taken_for_an_affiliation_is_the_author_list_when_there_is_none():
    names = Text(72, 100, 10, "Ann Lee1, Bob Ray2", "author_aff")
    places = [
        Text(72, 120, 9, "1 Department of Botany, Uni X, Oslo, Norway", "author_aff"),
        Text(72, 140, 9, "2 School of Biology, Uni Y, Lund, Sweden", "author_aff"),
    ]
    article = article_of([names, *places])
    assert [a.text for a in article.authors] == ["Ann Lee", "Bob Ray"]
    assert [a.label for a in article.affiliations] == ["1", "2"]
    labelled = Text(72, 80, 10, "Cy Dee", "author")  # an author block: nothing is moved
    article = article_of([labelled, names, *places])
    assert [a.text for a in article.authors] == ["Cy Dee"]


def test_author_details_taken_for_references_are_affiliations_cut_at_their_numbers():
    first = [Text(72, 100, 9, "1 Department of Botany, Uni X, Oslo, Norway", "author_aff")]
    details = paragraph(
        72,
        100,
        [
            "1 Department of Botany, Uni X, Oslo, Norway. 2 School",
            "of Biology, Uni Y, Lund, Sweden",
        ],
        "reference",
    )
    references = [
        Text(72, 200, 9, "Lee A. Frogs of Oslo. J Herp. 2001;1:2.", "reference"),
        # a reference whose year is in the next column: its number and quotes keep it one
        Text(72, 400, 9, '[7] R. Roe, "Toads of Lund University, Sweden,', "reference"),
    ]
    article = article_of(first, [*details, *references])
    assert [(a.label, a.text) for a in article.affiliations] == [
        ("1", "Department of Botany, Uni X, Oslo, Norway"),
        ("2", "School of Biology, Uni Y, Lund, Sweden"),
    ]
    assert article.references[0] == "Lee A. Frogs of Oslo. J Herp. 2001;1:2."  # it has a year
    assert len(article.references) == 2 and len(article.affiliations) == 2


def test_affiliations_listed_at_the_end_join_the_first_pages_once_each():
    first = [Text(72, 100, 9, "1 Department of Botany, Uni X, Oslo, Norway", "author_aff")]
    body = [Text(72, 100, 10, "Stray words painted as affiliation", "author_aff")]
    details = [
        Text(72, 100, 9, "1 Department of Botany, Uni X, Oslo, Norway.", "author_aff"),
        Text(72, 130, 9, "2 School of Biology, Uni Y, Lund, Sweden", "author_aff"),
    ]
    article = article_of(first, body, details)
    assert [(a.label, a.text) for a in article.affiliations] == [
        ("1", "Department of Botany, Uni X, Oslo, Norway"),  # its copy at the end: kept once
        ("2", "School of Biology, Uni Y, Lund, Sweden"),
    ]


@pytest.mark.parametrize(
    ("printed", "title"),
    [
        ("2.1 Study area", "Study area"),
        ("3. Results", "Results"),
        ("IV. Discussion", "Discussion"),
        ("B. Sampling", "Sampling"),
        ("Introduction", "Introduction"),
        ("A new hope", "A new hope"),
        ("2019 in review", "2019 in review"),
    ],
)
def test_a_section_titles_printed_number_is_left_out(printed, title):
    article = article_of([Text(72, 100, 12, printed, "section_title")])
    assert [s.title for s in article.sections] == [title]


def test_references_are_split_at_labels_and_labels_dropped():
    refs = paragraph(
        72, 100, ["1. Lee A. Frogs.", "J Herp 2001.", "[2] Ray B. Toads. 2002."], "reference"
    )
    assert article_of(refs).references == ["Lee A. Frogs. J Herp 2001.", "Ray B. Toads. 2002."]


def test_unlabelled_references_are_split_at_hanging_indents():
    lines = [
        Text(72, 100, 10, "Lee A, Ray B. Frogs of", "reference"),
        Text(84, 112, 10, "Sulawesi. 2001.", "reference"),
        Text(72, 124, 10, "Ode C. Toads. 2002.", "reference"),
    ]
    assert article_of(lines).references == [
        "Lee A, Ray B. Frogs of Sulawesi. 2001.",
        "Ode C. Toads. 2002.",
    ]


def test_a_name_broken_over_two_author_lines_stays_one_name():
    first = chain(Text(72, 150, 11, "Ann Lee", "author"), ("1", True), (", Zhihe", False))
    second = chain(Text(72, 180, 11, "Zhang", "author"), ("2", True))
    assert [a.text for a in article_of([*first, *second]).authors] == ["Ann Lee", "Zhihe Zhang"]


def test_the_abstract_keeps_the_blocks_in_its_own_font_size():
    lines = ["Abstract We show that tests", "of the rules work well."]
    body = paragraph(72, 300, lines, "abstract")
    licence = paragraph(72, 400, ["Distributed under a licence."], "abstract", 7)
    assert article_of([*body, *licence]).abstract == "We show that tests of the rules work well."


def test_a_lowercase_word_or_a_heading_painted_as_author_is_no_name():
    authors = [Text(72, 150, 11, "Ann Lee, provided, Abstract", "author")]
    assert [a.text for a in article_of(authors).authors] == ["Ann Lee"]


def test_the_abstract_ends_at_the_first_section_title_after_it():
    abstract = paragraph(72, 100, ["We show that tests work."], "abstract")
    heading = Text(72, 200, 10, "Introduction", "section_title")
    later = paragraph(72, 220, ["Body text painted like an abstract."], "abstract")
    page_two = paragraph(72, 100, ["More body text."], "abstract")
    article = article_of([*abstract, heading, *later], page_two)
    assert article.abstract == "We show that tests work."


def test_an_abstract_cut_mid_sentence_is_finished_by_the_paragraph_after_it():
    left = paragraph(72, 100, ["We show that tests", "work when they"], "abstract")
    right = paragraph(320, 100, ["fail first.", "Then they pass."], "section_paragraph")
    heading = Text(320, 200, 10, "Introduction", "section_title")
    body = paragraph(320, 220, ["Body text here"], "section_paragraph")
    article = article_of([*left, *right, heading, *body])
    assert article.abstract == "We show that tests work when they fail first. Then they pass."
    ended = paragraph(72, 100, ["We show that tests work."], "abstract")
    assert article_of([*ended, *right, heading, *body]).abstract == "We show that tests work."


def test_contact_details_are_cut_from_affiliations_and_left_out_of_the_abstract():
    affiliations = [
        Text(
            72,
            200,
            9,
            "1 Institute A, 73100 Lecce, Italy; E-Mails: ann@ispa.it (A.L.)",
            "author_aff",
        ),
        Text(72, 230, 9, "2 Lab B, Bari, Italy", "author_aff"),
        Text(
            72, 260, 9, "Correspondence should be addressed to Ann Lee; ann@ispa.it", "author_aff"
        ),
    ]
    contact = paragraph(
        72, 300, ["* Authors to whom correspondence should be", "addressed."], "abstract"
    )
    abstract = paragraph(72, 360, ["We show a close correspondence."], "abstract")
    article = article_of([*affiliations, *contact, *abstract])
    assert [(a.label, a.text) for a in article.affiliations] == [
        ("1", "Institute A, 73100 Lecce, Italy"),
        ("2", "Lab B, Bari, Italy"),
    ]
    assert article.abstract == "We show a close correspondence."


def test_links_painted_with_the_authors_are_dropped_and_suffixes_are_no_surnames():
    authors = [
        Text(
            72, 150, 11, "http://f1000r.es/4fj] Bryan S. Frazier, William B. Driggers III", "author"
        )
    ]
    found = article_of(authors).authors
    assert [(a.text, a.given_names, a.surname) for a in found] == [
        ("Bryan S. Frazier", "Bryan S.", "Frazier"),
        ("William B. Driggers III", "William B.", "Driggers"),
    ]
