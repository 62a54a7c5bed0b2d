"""The real-publisher layouts: each is drawn for some page, and its regions carry the right class."""

import numpy as np
import pytest

from sciencebeam_gym.sample_data.corpus import make_document
from sciencebeam_gym.sample_data.jats import jats_xml
from sciencebeam_gym.sample_data.render import render_label_image

PAGES = 80


@pytest.fixture(scope="module")
def documents():
    return [make_document("train", index, seed=1) for index in range(PAGES)]


def first(documents, **wanted):
    for document in documents:
        if all(getattr(document.style, k) == v for k, v in wanted.items()):
            return document
    raise AssertionError(f"no page with {wanted} among {len(documents)}")


def in_margin(region, style):
    return region.y1 <= style.margin_top or region.y0 >= style.height - style.margin_bottom


def side_regions(document):
    style = document.style
    return [r for r in document.page.regions if r.x1 <= style.main_left and not in_margin(r, style)]


def regions(document, label):
    return [r for r in document.page.regions if r.label == label]


def label_image(document, color_map):
    keys = {c.label: c.key for c in color_map.classes}
    return np.asarray(render_label_image(document.page, document.dpi, keys)), keys


@pytest.mark.parametrize("running", ["header", "footer"])
def test_running_lines_put_the_page_number_and_journal_in_the_margin(documents, color_map, running):
    document = first(documents, running=running)
    label, keys = label_image(document, color_map)
    band = max(1, label.shape[0] // 10)
    margin = label[:band] if running == "header" else label[-band:]
    assert (margin == keys["page_no"]).any()
    assert (margin == keys["journal"]).any()
    assert len(regions(document, "page_no")) == 1


@pytest.mark.parametrize("kind", ["boxes", "notes"])
def test_a_side_bar_sits_left_of_the_front_matter_with_its_classes(documents, kind):
    document = first(documents, sidebar=kind)
    style = document.style
    title = regions(document, "manuscript_title")
    assert min(r.x0 for r in title) >= style.main_left - 1e-6
    labels = {r.label for r in side_regions(document)}
    assert {"journal", "doi"} <= labels
    assert labels <= {"journal", "doi", "copyright_statement", "keywords_title", "keywords"}
    if style.copyright_place == "sidebar":
        assert all(r.x1 <= style.main_left for r in regions(document, "copyright_statement"))


def overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_side_bar_text_never_overlaps_other_labelled_text(documents):
    pages = [d for d in documents if d.style.sidebar != "none"]
    assert len(pages) > 3
    for document in pages:
        side = side_regions(document)
        assert side
        others = [r for r in document.page.regions if r not in side]
        assert not [(a, b) for a in side for b in others if overlap(a, b)]


@pytest.mark.parametrize("where", ["left", "right"])
def test_a_logo_is_drawn_and_left_unlabelled(documents, where):
    document = first(documents, logo=where)
    style = document.style
    logo_top = style.margin_top
    shapes = [s for s in document.page.shapes if s.kind != "line" and s.points[1] >= logo_top - 1]
    assert shapes
    initials = [s for s in document.page.spans if s.font == "dejavu-sans-bold"]
    assert initials
    for span in initials[:1]:
        for region in document.page.regions:
            inside_x = region.x0 <= span.x + 1 <= region.x1
            assert not (inside_x and region.y0 <= span.baseline - 2 <= region.y1)


def test_split_front_matter_puts_authors_left_of_the_abstract(documents):
    document = first(documents, front_layout="split")
    authors, abstract = regions(document, "author"), regions(document, "abstract")
    assert max(r.x1 for r in authors) < min(r.x0 for r in abstract)
    assert min(r.y0 for r in abstract) < max(r.y1 for r in authors)  # side by side


@pytest.mark.parametrize("kind", ["highlights", "summary"])
def test_highlights_and_summaries_are_background_and_typed_abstracts(documents, kind):
    document = first(documents, extra_abstract=kind)
    words = document.article.highlights[0] if kind == "highlights" else document.article.summary
    first_word = words.split(" ")[0]
    spans = [s for s in document.page.spans if s.text == first_word]
    assert spans
    xml = jats_xml(document.article)
    assert xml.find(f"front/article-meta/abstract[@abstract-type='{kind}']") is not None
    assert xml.find("front/article-meta/abstract").get("abstract-type") is None
    other = first(documents, extra_abstract="none")
    assert not jats_xml(other.article).findall("front/article-meta/abstract[@abstract-type]")


def test_an_abstract_without_heading_is_still_abstract(documents):
    document = first(documents, abstract_heading=False)
    assert regions(document, "abstract")
    heading = document.article.abstract_title
    assert not [
        s for s in document.page.spans if s.text.rstrip(":.—") in (heading, heading.upper())
    ]


@pytest.mark.parametrize("band", ["band", "dark_band", "rule"])
def test_heading_bands_are_drawn_behind_or_under_section_titles(documents, band):
    document = first(documents, heading_band=band)
    (title, *_) = regions(document, "section_title")
    near = [
        s
        for s in document.page.shapes
        if s.points[1] <= title.y1 + 4 and s.points[-1] >= title.y0 - 1 and s.points[0] <= title.x0
    ]
    assert near


def test_colours_and_title_fonts_vary(documents):
    colours = {d.style.accent for d in documents}
    assert len(colours) > 3 and None in colours
    coloured_text = [s for d in documents for s in d.page.spans if isinstance(s.grey, tuple)]
    assert coloured_text
    assert (
        len({(d.style.title_family, d.style.title_bold, d.style.title_italic) for d in documents})
        > 5
    )
