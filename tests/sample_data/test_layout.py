"""The label painting convention: one rectangle per line, first to last glyph, full line box."""

import numpy as np

from sciencebeam_gym.color_map import parse_color_map
from sciencebeam_gym.sample_data.fonts import font_key, metrics
from sciencebeam_gym.sample_data.layout import Page, Run, place_line, text_block
from sciencebeam_gym.sample_data.render import render_label_image, render_page_image

WORDS = " ".join(["cell signalling modulates the response of cortical neurons"] * 6)


def paragraph_page(align="justify"):
    page = Page(300, 400)
    font = font_key("dejavu-serif")
    block = text_block([Run(WORDS, font, 10, "section_paragraph")], 200, 13, align)
    y = 50.0
    for line in block.rows:
        place_line(page, line, 40, y)
        y += line.height
    return page, block


def test_lines_are_one_region_each_and_touch_vertically():
    page, block = paragraph_page()
    assert len(page.regions) == len(block.rows) > 2
    for upper, lower in zip(page.regions, page.regions[1:], strict=False):
        assert upper.y1 == lower.y0
        assert upper.y1 - upper.y0 == 13


def test_a_region_runs_from_the_first_to_the_last_glyph():
    page, _ = paragraph_page(align="left")
    font = metrics(font_key("dejavu-serif"))
    last_line_spans = [s for s in page.spans if s.baseline == page.spans[-1].baseline]
    region = page.regions[-1]
    assert region.x0 == last_line_spans[0].x
    assert (
        abs(region.x1 - (last_line_spans[-1].x + font.width(last_line_spans[-1].text, 10))) < 1e-6
    )
    assert region.x1 < 40 + 200


def test_justified_lines_fill_the_column():
    page, _ = paragraph_page(align="justify")
    for region in page.regions[:-1]:
        assert abs(region.x1 - 240) < 1e-6


def test_the_label_image_uses_the_colour_map_keys_it_is_given():
    color_map = parse_color_map("[color_map]\n42=(1,2,3)\n[color_labels]\n42=section_paragraph\n")
    keys = {c.label: c.key for c in color_map.classes}
    page, _ = paragraph_page()
    label = np.asarray(render_label_image(page, 144, keys))
    assert set(np.unique(label).tolist()) == {0, 42}
    rows = np.flatnonzero((label == 42).any(axis=1))
    assert rows.size == rows.max() - rows.min() + 1  # a solid paragraph, no gaps between lines


def test_text_is_drawn_inside_its_region():
    page, _ = paragraph_page()
    grey = np.asarray(render_page_image(page, 144).convert("L"))
    label = np.asarray(render_label_image(page, 144, {"section_paragraph": 12}))
    ink = grey < 128
    assert ink.sum() > 1000
    assert (label[ink] == 12).mean() > 0.99
