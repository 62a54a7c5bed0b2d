"""The layout rules on tiny fpdf2 PDFs: word votes, lines, blocks, reading order, raised runs."""

from __future__ import annotations

import numpy as np

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.words import page_words
from sciencebeam_gym.extract.layout import (
    group_blocks,
    label_lines,
    page_blocks,
    vote_word_labels,
)
from tests.extract.pages import (
    MAP_SCALE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Text,
    keys_by_label,
    labels_by_value,
    make_pdf,
    painted,
    paragraph,
    then,
)


def page_text(items: list[Text]):
    return extract_page_text(open_pdf(make_pdf([items]))[0])


def blocks_of(items: list[Text], class_map: np.ndarray | None = None):
    class_map = painted([items])[0] if class_map is None else class_map
    return page_blocks(page_text(items), class_map, labels_by_value(), 1)


def test_a_word_takes_the_class_painted_on_most_of_its_box_not_one_pixel():
    items = [Text(72, 100, 12, "Heading"), Text(200, 100, 12, "sliver")]
    class_map = np.zeros((round(PAGE_HEIGHT * MAP_SCALE), round(PAGE_WIDTH * MAP_SCALE)), np.uint8)
    keys = keys_by_label()
    # "Heading": a title box covering most of it, with a single author pixel in the middle
    class_map[44:52, 36:75] = keys["manuscript_title"]
    class_map[48, 50] = keys["author"]
    # "sliver": one pixel column of abstract: far below the word's share needed
    class_map[44:52, 101] = keys["abstract"]
    words = page_words(page_text(items))
    vote_word_labels(words, class_map, (PAGE_WIDTH, PAGE_HEIGHT), labels_by_value())
    assert [w.label for w in words] == ["manuscript_title", ""]


def test_a_line_mostly_of_one_class_takes_it_whole_and_a_mixed_line_is_cut():
    first = Text(72, 100, 10, "the abstract text goes on and on", "abstract")
    stray = then(first, "here", "manuscript_title", gap=3)
    title = Text(72, 200, 10, "Keywords:", "keywords_title")
    keywords = then(title, "alpha, beta", "keywords", gap=3)
    items = [first, stray, title, keywords]
    words = page_words(page_text(items))
    vote_word_labels(words, painted([items])[0], (PAGE_WIDTH, PAGE_HEIGHT), labels_by_value())
    lines = label_lines(words, 1)
    assert [(line.label, line.text) for line in lines] == [
        ("abstract", "the abstract text goes on and on here"),
        ("keywords_title", "Keywords:"),
        ("keywords", "alpha, beta"),
    ]


def test_blocks_join_close_lines_of_one_class_and_font_size_only():
    first = paragraph(72, 100, ["one line of text", "its next line"], "section_paragraph")
    after_gap = paragraph(72, 160, ["a paragraph further down"], "section_paragraph")
    bigger = paragraph(72, 174, ["a larger line just below"], "section_paragraph", size=16)
    blocks = blocks_of(first + after_gap + bigger)
    assert [b.text for b in blocks] == [
        "one line of text its next line",
        "a paragraph further down",
        "a larger line just below",
    ]


def test_two_columns_are_read_left_then_right_even_when_the_text_layer_interleaves_them():
    left = paragraph(72, 200, ["left one", "left two", "left three"], "section_paragraph")
    right = paragraph(320, 200, ["right one", "right two", "right three"], "section_paragraph")
    title = Text(72, 100, 18, "A title across the whole page width of it all", "manuscript_title")
    interleaved = [item for pair in zip(right, left, strict=True) for item in pair]
    blocks = blocks_of([*interleaved, title])
    assert [b.text for b in blocks] == [
        "A title across the whole page width of it all",
        "left one left two left three",
        "right one right two right three",
    ]


def test_a_centred_block_over_both_columns_cuts_them_into_bands():
    upper_left = paragraph(72, 100, ["upper left column text"] * 2, "section_paragraph")
    upper_right = paragraph(320, 100, ["upper right", "upper right"], "abstract")
    centred = Text(150, 200, 10, "a centred line reaching over both columns", "author")
    lower_left = paragraph(72, 300, ["lower left column text"], "section_paragraph")
    lower_right = paragraph(320, 300, ["lower right"], "abstract")
    blocks = blocks_of([*lower_right, *lower_left, centred, *upper_right, *upper_left])
    assert [b.text for b in blocks] == [
        "upper left column text upper left column text",
        "upper right upper right",
        "a centred line reaching over both columns",
        "lower left column text",
        "lower right",
    ]


def test_group_blocks_keeps_pages_apart():
    items = paragraph(72, 100, ["same text"], "abstract")
    words = page_words(page_text(items))
    vote_word_labels(words, painted([items])[0], (PAGE_WIDTH, PAGE_HEIGHT), labels_by_value())
    lines = label_lines(words, 1) + label_lines(words, 2)
    assert [b.page for b in group_blocks(lines)] == [1, 2]


def test_a_row_cut_by_a_superscript_votes_as_one_line():
    stray = Text(72, 100, 11, "Zsolt", "author_aff")
    name = then(stray, "Molnar", "author", gap=3)
    mark = then(name, "1", raised=True)
    rest = then(mark, ", Krisztina Gelleny, Katalin Margoczi", "author")
    items = [stray, name, mark, rest]
    text = page_text(items)
    assert len(set(text.glyph_lines.tolist())) > 1  # the text layer cut the row at the mark
    words = page_words(text)
    vote_word_labels(words, painted([items])[0], (PAGE_WIDTH, PAGE_HEIGHT), labels_by_value())
    assert [(line.label, line.text.split()[0]) for line in label_lines(words, 1)] == [
        ("author", "Zsolt")
    ]
