"""A whole document: pages read in batches, JATS written, bad PDFs refused with their reason."""

from __future__ import annotations

import numpy as np
import pytest
from lxml import etree

from sciencebeam_gym.extract import ExtractError, extract_document
from sciencebeam_gym.extract.document import PAGE_BATCH
from sciencebeam_gym.extract.model import PaintedLabeller
from tests.extract.pages import Text, keys_by_label, labels_by_value, make_pdf, painted, paragraph
from tests.generate.factory import pdf_bytes

PAGES = [
    [
        Text(72, 80, 20, "Frogs Give Birth", "manuscript_title"),
        Text(72, 110, 11, "Ann Lee, Bob Ray", "author"),
        Text(72, 130, 9, "Uni X", "author_aff"),
        *paragraph(72, 160, ["Abstract", "Frogs were seen."], "abstract"),
        Text(72, 220, 12, "Introduction", "section_title"),
        *paragraph(72, 240, ["Frogs are many."], "section_paragraph"),
    ],
    [*paragraph(72, 80, ["1. Lee A. Frogs. 2001.", "2. Ray B. Toads. 2002."], "reference")],
]


class CountingLabeller(PaintedLabeller):
    """Painted maps, and the largest number of pages it was asked to paint at once."""

    largest_batch = 0

    def label_pages(self, images):
        self.largest_batch = max(self.largest_batch, len(images))
        return super().label_pages(images)


def test_a_two_page_article_becomes_jats_that_parses_back():
    labeller = PaintedLabeller(painted(PAGES), labels_by_value())
    article = extract_document(make_pdf(PAGES), labeller, source="frogs.pdf")
    root = etree.fromstring(article.to_jats_bytes())
    meta = root.find("front/article-meta")
    assert meta.findtext("title-group/article-title") == "Frogs Give Birth"
    assert [n.findtext("surname") for n in meta.iterfind("contrib-group/contrib/name")] == [
        "Lee",
        "Ray",
    ]
    assert [n.findtext("given-names") for n in meta.iterfind("contrib-group/contrib/name")] == [
        "Ann",
        "Bob",
    ]
    assert meta.findtext("aff") == "Uni X"
    assert meta.findtext("abstract/p") == "Frogs were seen."
    assert root.findtext("body/sec/title") == "Introduction"
    assert root.findtext("body/sec/p") == "Frogs are many."
    assert [r.text for r in root.iterfind("back/ref-list/ref/mixed-citation")] == [
        "Lee A. Frogs. 2001.",
        "Ray B. Toads. 2002.",
    ]


def test_pages_asked_for_are_the_only_pages_read():
    labeller = PaintedLabeller(painted(PAGES)[1:], labels_by_value())
    article = extract_document(make_pdf(PAGES), labeller, pages=[2])
    assert (article.title, len(article.references), article.pages) == ("", 2, 1)


def test_a_long_document_is_painted_a_batch_at_a_time_with_progress():
    count = 3 * PAGE_BATCH + 1
    labeller = CountingLabeller([np.zeros((8, 8), np.uint8)] * count, labels_by_value())
    labeller.dpi = 10.0
    seen = []
    data = pdf_bytes([(72, 700, 10, "page text")], pages=count)
    article = extract_document(data, labeller, progress=lambda done, total: seen.append(done))
    assert article.pages == count
    assert labeller.largest_batch == PAGE_BATCH
    assert seen == [PAGE_BATCH, 2 * PAGE_BATCH, 3 * PAGE_BATCH, count]


def test_a_page_without_text_gives_the_painted_regions_and_says_so():
    class_map = np.zeros((79, 61), np.uint8)
    class_map[10:20, 5:30] = keys_by_label()["manuscript_title"]
    labeller = PaintedLabeller([class_map], labels_by_value())
    article = extract_document(pdf_bytes(draw_only=True), labeller)
    assert article.warnings and "no text layer" in article.warnings[0]
    assert [(r.label, r.page) for r in article.regions] == [("manuscript_title", 1)]
    assert article.regions[0].box == pytest.approx((50.2, 100.3, 301.0, 200.5), abs=0.2)
    jats = etree.fromstring(article.to_jats_bytes())
    assert jats.findtext(".//custom-meta/meta-name") == "manuscript_title page 1"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty PDF"),
        (b"%PDF-1.4\nnot really a pdf", "corrupt PDF"),
        (b"<html>no</html>", "corrupt PDF"),
        (pdf_bytes([(72, 700, 10, "secret")], encrypt=True), "encrypted PDF"),
    ],
)
def test_bad_pdfs_are_refused_with_their_reason_and_the_source_named(data, reason):
    labeller = PaintedLabeller([], labels_by_value())
    with pytest.raises(ExtractError) as caught:
        extract_document(data, labeller, source="bad.pdf")
    assert caught.value.reason == reason
    assert "bad.pdf" in str(caught.value)


def test_pages_beyond_the_document_are_refused():
    with pytest.raises(ExtractError, match="the PDF has 2"):
        extract_document(make_pdf(PAGES), PaintedLabeller([], labels_by_value()), pages=[5])
