"""The layout rules on tiny fpdf2 PDFs: word votes, lines, blocks, reading order, raised runs."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.words import (
    MAX_PAIRED_BOXES,
    _spanning_mask,
    _spanning_mask_without_slack,
    page_words,
)
from sciencebeam_gym.extract.layout import (
    Block,
    group_blocks,
    label_lines,
    page_blocks,
    reading_order,
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


def test_a_line_reaching_a_little_past_the_gutter_does_not_join_the_columns():
    # a title across the page, an author line from the left margin ending just inside the right
    # column, as Springer's
    title = Text(72, 60, 18, "A title across the whole page width of it all", "manuscript_title")
    author = Text(72, 100, 10, "Anna Berg & Tomas Lind & Olle Nyman & Per Ek & Bo Li", "author")
    left = paragraph(72, 200, ["left one", "left two", "left three"], "abstract")
    right = paragraph(
        320, 199.5, ["right one goes on", "right two", "right three"], "section_paragraph"
    )
    blocks = blocks_of([title, author, *left, *right])
    assert blocks[1].box[2] > 320  # the author line does reach into the right column
    assert [b.text for b in blocks] == [
        "A title across the whole page width of it all",
        "Anna Berg & Tomas Lind & Olle Nyman & Per Ek & Bo Li",
        "left one left two left three",
        "right one goes on right two right three",
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


def test_the_word_models_labels_keep_a_run_in_heading_and_split_where_an_instance_begins():
    heading = Text(72, 100, 10, "Etymology.", "section_title")
    rest = then(heading, "The name refers to birth", "section_paragraph", gap=3)
    references = paragraph(72, 130, ["Lee A. Frogs. 2001.", "Ray B. Toads. 2002."], "reference")
    items = [heading, rest, *references]

    def labelled_words():
        words = page_words(page_text(items))
        vote_word_labels(words, painted([items])[0], (PAGE_WIDTH, PAGE_HEIGHT), labels_by_value())
        return words

    # the pixels' rules: the heading follows its line's majority, the references are one block
    assert [b.text for b in group_blocks(label_lines(labelled_words(), 1))] == [
        "Etymology. The name refers to birth",
        "Lee A. Frogs. 2001. Ray B. Toads. 2002.",
    ]
    words = labelled_words()
    for word in words:  # as the word model marks them: each reference begins an instance
        word.start = word.text in ("Lee", "Ray")
    blocks = group_blocks(label_lines(words, 1, run_in=True))
    assert [(b.label, b.text) for b in blocks] == [
        ("section_title", "Etymology."),
        ("section_paragraph", "The name refers to birth"),
        ("reference", "Lee A. Frogs. 2001."),
        ("reference", "Ray B. Toads. 2002."),
    ]


# --- rule 5 at scale: issue 22 row 5 (a page of 20k-30k glyphs in random order) ----------------


def pairwise_spanning(boxes: list[tuple[float, float]]) -> list[bool]:
    """Rule 5's spanning test by its definition, pair by pair: among the blocks a block overlaps
    horizontally, sorted by their left edge, one starts where all before it have ended."""
    result = []
    for i, (a0, a1) in enumerate(boxes):
        others = sorted(
            (x0, x1) for j, (x0, x1) in enumerate(boxes) if j != i and min(a1, x1) > max(a0, x0)
        )
        reach, gap = -np.inf, False
        for k, (x0, x1) in enumerate(others):
            gap = gap or (k > 0 and x0 >= reach)
            reach = max(reach, x1)
        result.append(gap)
    return result


def boxes_at(spans: list[tuple[float, float]]) -> list[tuple[float, float, float, float]]:
    return [(x0, 0.0, x1, 10.0) for x0, x1 in spans]


def blocks_at(boxes: list[tuple[float, float, float, float]]) -> list[Block]:
    blocks = []
    for box in boxes:
        block = Block("abstract", 1)
        block.box = box
        blocks.append(block)
    return blocks


edges = st.integers(0, 40).map(float)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(edges, edges).map(sorted).map(tuple), max_size=12))
def test_the_spanning_test_of_many_blocks_agrees_with_its_pairwise_definition(spans):
    assert _spanning_mask_without_slack(boxes_at(spans)) == pairwise_spanning(spans)


def test_a_title_over_two_columns_spans_and_a_column_does_not():
    spans = [(0, 100), (0, 45), (55, 100), (0, 45)]
    assert (
        _spanning_mask(boxes_at(spans))
        == _spanning_mask_without_slack(boxes_at(spans))
        == [
            True,
            False,
            False,
            False,
        ]
    )


def scattered_boxes(count: int, seed: int = 7) -> list[tuple[float, float, float, float]]:
    """Boxes 1-6 pt wide scattered over a page (a page of glyphs in random order)."""
    rng = np.random.default_rng(seed)
    x0, tops = rng.uniform(0, 600, count), rng.uniform(0, 800, count)
    x1 = x0 + rng.uniform(1, 6, count)
    return [
        (float(a), float(t), float(b), float(t) + 5) for a, t, b in zip(x0, tops, x1, strict=True)
    ]


def test_the_spanning_test_of_many_blocks_costs_n_log_n():
    def seconds(count: int) -> float:
        boxes = scattered_boxes(count)
        best = np.inf
        for _ in range(3):  # the best of three: a busy machine only ever adds time
            started = time.perf_counter()
            _spanning_mask_without_slack(boxes)
            best = min(best, time.perf_counter() - started)
        return best

    seconds(500)  # warm up
    small, large = seconds(2_000), seconds(16_000)
    # 8x the blocks: ~10-15x the time for n log n, 64x for the pairwise matrix
    assert large < 30 * small


def test_reading_order_of_many_blocks_holds_memory_linear_in_them():
    # the pairwise matrix of 30,000 blocks asked for 6 GiB (issue 22 row 5); at 4,000 it
    # would be 128 MB of float temporaries
    blocks = blocks_at(scattered_boxes(4_000))
    assert len(blocks) > MAX_PAIRED_BOXES  # beyond it, no pairs are compared
    tracemalloc.start()
    try:
        ordered = reading_order(blocks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sorted(map(id, ordered)) == sorted(map(id, blocks))
    assert peak < 8 * 2**20
