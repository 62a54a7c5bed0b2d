import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciencebeam_gym.color_map import UNKNOWN_KEY, default_color_map_path, load_color_map
from sciencebeam_gym.document.jats import Field
from sciencebeam_gym.document.pdf import open_pdf, render_page
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
from sciencebeam_gym.generate.align import align_fields
from sciencebeam_gym.generate.document import Settings, generate_pages
from sciencebeam_gym.generate.paint import (
    MAX_LINE_GAP_HEIGHTS,
    UNKNOWN_OVERLAY_COLOR,
    _make_lines_touch,
    block_rectangles,
    overlay_image,
    paint_label_image,
    paint_rotated_label_image,
)
from tests.generate.factory import (
    ABSTRACT,
    PARAGRAPH,
    TITLE,
    article_lines,
    article_xml,
    pdf_bytes,
)

COLOR_MAP = load_color_map(default_color_map_path())
KEYS = {c.label: c.key for c in COLOR_MAP.classes}


def page_of(lines):
    return extract_page_text(open_pdf(pdf_bytes(lines))[0])


def words_of(page, match):
    return [w.text for first, last in match.word_spans for w in page.words[first : last + 1]]


def test_fields_are_found_with_full_coverage_and_absent_ones_are_not():
    page = page_of(article_lines())
    fields = [
        Field("manuscript_title", TITLE, 0),
        Field("author", "Berg Anna Lind Tomas", 0, frozenset({"group"})),  # surname first
        Field("abstract", " ".join(ABSTRACT), 0),
        Field("section_title", "Introduction", 0, frozenset({"line"})),
        Field("reference", "A reference that appears nowhere on this page at all", 0),
    ]
    title, author, abstract, heading, reference = align_fields(page, fields)
    assert title.matched == title.tokens == 6
    assert words_of(page, title) == TITLE.split()
    assert author.found and author.matched == author.tokens  # reordered names still covered
    assert abstract.matched == abstract.tokens
    assert heading.found and words_of(page, heading)[-1] == "Introduction"
    assert not reference.found and reference.matched == 0


def test_a_mark_glued_to_an_author_name_does_not_take_the_authors_into_the_affiliation():
    page = page_of(article_lines())  # "Anna Berg1, Tomas Lind2" above "1 Department of ..."
    fields = [
        Field("author", "Anna Berg Tomas Lind", 0, frozenset({"group"})),
        Field("author_aff", "1 Department of Earth Science, Example University, Oslo, Norway", 0),
    ]
    author, affiliation = align_fields(page, fields)
    assert words_of(page, author) == ["Anna", "Berg1,", "Tomas", "Lind2"]
    assert words_of(page, affiliation)[:2] == ["1", "Department"]
    assert affiliation.matched == affiliation.tokens


def test_hyphenated_word_at_line_end_matches_the_joined_xml_word():
    lines = [
        (72, 700, 10, "the measurements of glacier dis-"),
        (72, 688, 10, "charge were taken daily"),
    ]
    page = page_of(lines)
    (match,) = align_fields(
        page, [Field("abstract", "the measurements of glacier discharge were taken daily", 0)]
    )
    assert match.matched == match.tokens == 8
    assert words_of(page, match)[0] == "the" and words_of(page, match)[-1] == "daily"


def test_heading_option_line_rejects_a_word_inside_a_paragraph():
    lines = [(72, 700, 10, "results of the survey are shown below"), (72, 670, 12, "Results")]
    page = page_of(lines)
    (match,) = align_fields(page, [Field("section_title", "Results", 0, frozenset({"line"}))])
    assert match.found
    ((first, last),) = match.word_spans
    assert page.words[first].text == "Results" and first == last == len(page.words) - 1


def test_each_page_word_is_claimed_by_one_field_only():
    page = page_of(article_lines())
    text = " ".join(PARAGRAPH)
    first, second = align_fields(
        page, [Field("section_paragraph", text, 0), Field("main_paragraph", text, 0)]
    )
    assert first.found != second.found or not set(first.word_spans) & set(second.word_spans)
    assert first.found and not second.found  # the second copy finds every word taken
    assert first.matched == first.tokens == len(text.split())


def test_lines_of_a_block_touch_and_span_first_to_last_glyph():
    page = page_of(article_lines())
    (abstract,) = align_fields(page, [Field("abstract", " ".join(ABSTRACT), 0)])
    ((first, last),) = abstract.word_spans
    rects = sorted(block_rectangles(page, first, last), key=lambda r: r[1])
    assert len(rects) == 3
    for upper, lower in zip(rects, rects[1:], strict=False):
        assert abs(upper[3] - lower[1]) < 1e-6  # consecutive lines touch
    first_glyph = page.glyph_boxes[page.words[first].glyph_start]
    assert abs(rects[0][0] - first_glyph[0]) < 1e-6


def test_label_image_uses_color_map_keys_and_overlay_tints_only_labelled_pixels():
    document = open_pdf(pdf_bytes(article_lines()))
    page = extract_page_text(document[0])
    matches = align_fields(
        page, [Field("manuscript_title", TITLE, 0), Field("abstract", " ".join(ABSTRACT), 0)]
    )
    image = render_page(document[0], 50)
    label = paint_label_image(page, matches, KEYS, image.size)
    assert label.shape == (image.height, image.width)
    # the other lines (authors, affiliation, section) are no field here: unknown
    assert set(np.unique(label).tolist()) == {
        0,
        KEYS["manuscript_title"],
        KEYS["abstract"],
        UNKNOWN_KEY,
    }
    title_rows = np.nonzero((label == KEYS["manuscript_title"]).any(axis=1))[0]
    abstract_rows = np.nonzero((label == KEYS["abstract"]).any(axis=1))[0]
    assert title_rows.max() < abstract_rows.min()  # the title is above the abstract
    overlay = np.asarray(overlay_image(image, label, COLOR_MAP))
    original = np.asarray(image)
    assert (overlay[label == 0] == original[label == 0]).all()
    fields = (label > 0) & (label != UNKNOWN_KEY)
    assert (overlay[fields] != original[fields]).any()
    unknown = overlay[label == UNKNOWN_KEY]
    hatched = (unknown == UNKNOWN_OVERLAY_COLOR).all(axis=-1)
    assert 0.2 < hatched.mean() < 0.5  # grey stripes, the page between them
    assert (unknown[~hatched] == original[label == UNKNOWN_KEY][~hatched]).all()


UNCLAIMED = "A paragraph that the XML of this article never mentions at all."


def _line_area(label, page, line_index):
    """The label pixels inside a text line's box (line_index into the text layer's lines)."""
    scale = label.shape[0] / page.height
    x0, top, x1, bottom = (v * scale for v in page.line_boxes[line_index])
    return label[int(np.ceil(top)) : int(bottom), int(np.ceil(x0)) : int(x1)]


def test_text_no_field_claims_is_unknown_and_never_paints_over_a_field():
    lines = [*article_lines(), (72, 300, 10, UNCLAIMED)]
    document = open_pdf(pdf_bytes(lines))
    page = extract_page_text(document[0])
    matches = align_fields(page, [Field("manuscript_title", TITLE, 0)])
    size = (306, 396)
    label = paint_label_image(page, matches, KEYS, size)
    title = label == KEYS["manuscript_title"]
    assert (_line_area(label, page, len(page.line_boxes) - 1) == UNKNOWN_KEY).all()
    assert title.sum() > 0
    assert not (_line_area(label, page, 0) == UNKNOWN_KEY).any()  # the title line is claimed
    # the fields are painted exactly as without unknown text, which only fills background
    without = paint_label_image(page, matches, KEYS, size, unknown_key=None)
    assert UNKNOWN_KEY not in without
    assert (without[label != UNKNOWN_KEY] == label[label != UNKNOWN_KEY]).all()
    assert (without[label == UNKNOWN_KEY] == 0).all()


def test_unknown_text_background_writes_no_unknown_but_still_counts_it():
    lines = [*article_lines(), (72, 300, 10, UNCLAIMED)]
    settings = Settings(
        output_path="",
        color_map=COLOR_MAP,
        mapping=load_xml_mapping(default_xml_mapping_path()),
        dpi=40,
    )
    (unknown,) = generate_pages(pdf_bytes(lines), article_xml(), settings)
    background_settings = Settings(**{**settings.__dict__, "unknown_text": "background"})
    (background,) = generate_pages(pdf_bytes(lines), article_xml(), background_settings)
    assert (unknown.label == UNKNOWN_KEY).any() and not (background.label == UNKNOWN_KEY).any()
    assert (background.label == np.where(unknown.label == UNKNOWN_KEY, 0, unknown.label)).all()
    figures = unknown.figures
    assert figures == background.figures  # the report says how much text no field claims
    assert figures["unknown_pixels"] == (unknown.label == UNKNOWN_KEY).sum()
    assert figures["text_pixels"] == (unknown.label > 0).sum()
    assert 0 < figures["unknown_fraction"] < figures["unknown_text_fraction"] < 1
    assert "manuscript_title" in figures["classes"].split()
    assert "unknown" not in figures["classes"]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_label_of_a_rotated_page_lies_on_its_rendered_text(rotation):
    document = open_pdf(pdf_bytes(article_lines(), rotate=rotation))
    page = extract_page_text(document[0])
    matches = align_fields(page, [Field("manuscript_title", TITLE, 0)])
    image = render_page(document[0], 40)
    label = paint_rotated_label_image(page, matches, KEYS, image.size, rotation)
    assert label.shape == (image.height, image.width)
    ink = np.asarray(image.convert("L")) < 128
    title = label == KEYS["manuscript_title"]
    # most title pixels hold ink nearby, and the title's ink is inside the label
    assert title.sum() > 0
    assert (ink & title).sum() > 0.9 * (ink & _grow(title)).sum()


def _grow(mask, pixels=6):
    grown = mask.copy()
    for _ in range(pixels):
        grown[1:] |= grown[:-1].copy()
        grown[:-1] |= grown[1:].copy()
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
    return grown


def test_stop_words_alone_do_not_place_a_field():
    page = page_of([(72, 700, 10, "we reached the end of the valley before noon")])
    (match,) = align_fields(
        page, [Field("reference", "Rackham O. The history of the countryside", 0)]
    )
    assert not match.found


def test_a_few_sentences_from_the_middle_of_a_long_block_are_not_taken_for_it():
    middle = "together with her colleagues she established the dog lab and the wolf centre"
    long_text = " ".join(
        ["Our contribution compares dogs and wolves living in packs in large enclosures."] * 3
        + [middle]
        + ["Both species were raised by humans and tested in the same way for years."] * 3
    )
    page = page_of([(72, 700, 9, "In her spare time " + middle + " near Vienna.")])
    (match,) = align_fields(page, [Field("section_paragraph", long_text, 0)])
    assert not match.found
    # the same words at the start of the block are its first lines cut by a page break
    (start,) = align_fields(page, [Field("section_paragraph", middle + " " + long_text, 0)])
    assert start.found


def test_of_two_full_copies_the_larger_print_is_the_title():
    lines = [(72, 740, 7, "Cite this: " + TITLE + ". J Ice 3: 1."), (72, 690, 20, TITLE)]
    page = page_of(lines)
    (title,) = align_fields(page, [Field("manuscript_title", TITLE, 0)])
    ((first, last),) = title.word_spans
    lines_painted = {page.word_lines(i)[0] for i in range(first, last + 1)}
    assert lines_painted == {page.word_lines(len(page.words) - 1)[0]}  # the 20 pt line


def test_a_giant_page_is_generated_within_the_pixel_cap():
    # a 14400 x 14400 pt page would be 20000 x 20000 pixels (1.2 GB of RGB) at 100 dpi
    settings = Settings(
        output_path="",
        color_map=COLOR_MAP,
        mapping=load_xml_mapping(default_xml_mapping_path()),
        dpi=100,
        max_page_pixels=1_000_000,
    )
    pdf = pdf_bytes(article_lines(), page_size=(14400, 14400))
    (page,) = generate_pages(pdf, article_xml(), settings)
    assert page.image.width * page.image.height <= 1_000_000
    assert page.label.shape == (page.image.height, page.image.width)
    assert (page.label == KEYS["manuscript_title"]).any()


# --- lines made to touch, at scale: issue 22 row 6 (a page where every glyph is a line) ---------


def touching_by_definition(rects):
    """Lines made to touch as the rule says, pair by pair: top to bottom, each line and the
    nearest line below it that overlaps it horizontally meet halfway across a small gap."""
    rects = sorted(([*r] for r in rects), key=lambda r: (r[1], r[0]))
    for upper in rects:
        below = [
            r
            for r in rects
            if r[1] >= upper[1] and r is not upper and min(r[2], upper[2]) > max(r[0], upper[0])
        ]
        if below:
            lower = min(below, key=lambda r: r[1])
            gap = lower[1] - upper[3]
            if 0 < gap <= MAX_LINE_GAP_HEIGHTS * min(upper[3] - upper[1], lower[3] - lower[1]):
                upper[3] = lower[1] = (upper[3] + lower[1]) / 2
    return rects


halves = st.integers(0, 60).map(lambda v: v / 2)


@st.composite
def line_rects(draw):
    x0, top = draw(halves), draw(halves)
    return [x0, top, x0 + draw(st.integers(1, 20)), top + draw(st.integers(1, 6))]


@settings(max_examples=300, deadline=None)
@given(st.lists(line_rects(), max_size=14))
def test_lines_touch_as_the_pairwise_rule_says(rects):
    assert _make_lines_touch([[*r] for r in rects]) == touching_by_definition(rects)


def test_making_many_lines_touch_costs_n_log_n():
    rng = np.random.default_rng(3)

    def seconds(count: int) -> float:
        # a page where every glyph is its own line: 50 to a row, rows 0.9 pt apart
        rects = [
            [10 + (i % 50) * 11.0, (i // 50) * 0.9, 11 + (i % 50) * 11.0, (i // 50) * 0.9 + 1.0]
            for i in rng.permutation(count)
        ]
        best = np.inf
        for _ in range(3):  # the best of three: a busy machine only ever adds time
            started = time.perf_counter()
            assert len(_make_lines_touch([[*r] for r in rects])) == count
            best = min(best, time.perf_counter() - started)
        return best

    seconds(500)  # warm up
    small, large = seconds(1_000), seconds(8_000)
    # 8x the lines: ~9x the time for n log n, 64x for the pairwise search; allow for noise
    assert large < 25 * small
