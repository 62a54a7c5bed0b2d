"""--format pdf: a PDF with the page's text where the page shows it, and its JATS XML."""

import glob
import os
import re

import numpy as np
import pypdfium2 as pdfium
import pytest
from lxml import etree
from PIL import Image

from sciencebeam_gym.sample_data.cli import main


@pytest.fixture(scope="module")
def pdf_corpus(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("pdf-corpus"))
    assert (
        main(
            [
                "--output_path",
                out,
                "--train_pages",
                "2",
                "--test_pages",
                "1",
                "--format",
                "pdf",
                "--seed",
                "3",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    return out


def documents(pdf_corpus):
    return sorted(
        p[: -len(".pdf")] for p in glob.glob(os.path.join(pdf_corpus, "*", "*", "*", "*.pdf"))
    )


def normalise(text):
    return re.sub(r"\s+", " ", text).strip()


def test_each_document_has_pdf_xml_page_and_annotation(pdf_corpus):
    bases = documents(pdf_corpus)
    assert len(bases) == 3
    for base in bases:
        for suffix in (".pdf", ".xml", "-page1.png", "-page1.annot.png"):
            assert os.path.exists(base + suffix)


def test_each_pdf_page_has_a_token_file_whose_words_carry_the_layouts_classes(pdf_corpus):
    from sciencebeam_gym.document.tokens import read_tokens

    for base in documents(pdf_corpus):
        tokens = read_tokens(base + "-page1.tokens.json")
        assert tokens.doc_id == os.path.basename(base) and tokens.page == 1
        title = etree.parse(base + ".xml").findtext(".//article-title")
        title_words = [w.text for w in tokens.words if w.label == "manuscript_title"]
        assert normalise(" ".join(title_words)) == normalise(title)
        labels = set(tokens.labels)
        assert {"author", "abstract"} <= labels
        # each reference is an instance of its own, its words one instance
        references = [
            i for w, i in zip(tokens.words, tokens.instances, strict=True) if w.label == "reference"
        ]
        if references:
            assert len(set(references)) > 1 and -1 not in references
        # most words lie in a labelled region (highlights, dates, chart ticks do not)
        assert sum(w.label != "" for w in tokens.words) > 0.6 * len(tokens.words)


def test_pdf_text_contains_the_xml_article_title(pdf_corpus):
    for base in documents(pdf_corpus):
        xml = etree.parse(base + ".xml")
        title = xml.findtext("front/article-meta/title-group/article-title")
        assert title
        page = pdfium.PdfDocument(base + ".pdf")[0]
        assert normalise(title) in normalise(page.get_textpage().get_text_range())


def test_jats_has_the_fields_the_alignment_needs(pdf_corpus):
    xml = etree.parse(documents(pdf_corpus)[0] + ".xml")
    for path in (
        "front/journal-meta/journal-title-group/journal-title",
        "front/article-meta/article-id[@pub-id-type='doi']",
        "front/article-meta/contrib-group/contrib[@contrib-type='author']/name/surname",
        "front/article-meta/aff",
        "front/article-meta/abstract/p",
        "front/article-meta/kwd-group/kwd",
        "front/article-meta/permissions/copyright-statement",
        "front/article-meta/article-categories/subj-group/subject",
        "body/sec/title",
        "body/sec/p",
        "back/ref-list/ref/mixed-citation",
    ):
        assert xml.find(path) is not None, path


def test_pdf_rendered_at_the_png_dpi_matches_the_page_and_its_labels(pdf_corpus, color_map):
    title_key = color_map.class_by_label("manuscript_title").key
    for base in documents(pdf_corpus):
        image = Image.open(base + "-page1.png")
        dpi = round(image.info["dpi"][0])
        page = pdfium.PdfDocument(base + ".pdf")[0]
        rendered = page.render(scale=dpi / 72).to_pil().convert("L")
        assert rendered.size == image.size
        ours = np.asarray(image.convert("L")).astype(int)
        theirs = np.asarray(rendered).astype(int)
        assert np.abs(ours - theirs).mean() < 12
        label = np.asarray(Image.open(base + "-page1.annot.png"))
        textpage = page.get_textpage()
        title = normalise(etree.parse(base + ".xml").findtext(".//article-title"))
        text = textpage.get_text_range()
        start = normalise(text).find(title)
        assert start >= 0
        # the centres of the title's characters lie in the title's label region
        hits = total = 0
        for index in range(textpage.count_chars()):
            char = textpage.get_text_range(index, 1)
            if char.isspace():
                continue
            left, bottom, right, top = textpage.get_charbox(index)
            x = int((left + right) / 2 * dpi / 72)
            y = int((page.get_height() - (bottom + top) / 2) * dpi / 72)
            if label[y, x] == title_key:
                hits += 1
            total += 1
        title_chars = len(title.replace(" ", ""))
        assert abs(hits - title_chars) <= 2


def test_the_same_seed_gives_the_same_pdf_and_xml_bytes(pdf_corpus, tmp_path):
    assert (
        main(
            [
                "--output_path",
                str(tmp_path),
                "--train_pages",
                "1",
                "--test_pages",
                "0",
                "--format",
                "pdf",
                "--seed",
                "3",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    first = documents(pdf_corpus)[1]  # sample-train-00000 sorts after sample-test-*
    again = first.replace(pdf_corpus, str(tmp_path))
    for suffix in (".pdf", ".xml"):
        with open(first + suffix, "rb") as a, open(again + suffix, "rb") as b:
            assert a.read() == b.read()
