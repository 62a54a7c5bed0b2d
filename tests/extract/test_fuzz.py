"""Fuzzing the per-document boundary (issue 22): random pages through the text-layer reader and
the layout step, and damaged PDF bytes through `extract_to`. Whatever comes in, the document ends
as an article whose JATS parses, or as an ExtractError with a reason; nothing else escapes.
Bounded to seconds: a few dozen examples each, tiny pages."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.words import page_words
from sciencebeam_gym.extract.document import ExtractError, extract_document, extract_to
from sciencebeam_gym.extract.model import PaintedLabeller
from sciencebeam_gym.extract.writers import encode_article
from tests.extract.pages import PAGE_HEIGHT, PAGE_WIDTH, Text, keys_by_label, make_pdf, painted

FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LABELS = ["", *sorted(keys_by_label())]
# what Helvetica in fpdf can write (latin-1), with the characters text layers trip on
ALPHABET = st.sampled_from(list("abcXYZ019 .,;-\u00ad\u00a0()[]*\u00a7&<>\"'\u00e9\u00df\t"))

texts = st.builds(
    Text,
    x=st.floats(-50, PAGE_WIDTH + 50),
    y=st.floats(-50, PAGE_HEIGHT + 50),
    size=st.floats(0.5, 60),
    text=st.text(ALPHABET, min_size=1, max_size=30),
    label=st.sampled_from(LABELS),
)
pages = st.lists(st.lists(texts, max_size=12), min_size=1, max_size=2)


def labeller_for(page_items, noise: int) -> PaintedLabeller:
    """The class maps a model might paint: the items' boxes, or (noise) random classes."""
    maps = painted(page_items)
    if noise:
        rng = np.random.default_rng(noise)
        keys = np.array([0, *keys_by_label().values()], dtype=np.uint8)
        maps = [rng.choice(keys, size=m.shape) for m in maps]
    return PaintedLabeller(maps, {key: label for label, key in keys_by_label().items()})


def check_article(article) -> None:
    root = etree.fromstring(encode_article(article, "xml"))
    assert root.tag == "article"
    assert json.loads(encode_article(article, "json"))["pages"] == article.pages


@FUZZ
@given(pages, st.integers(0, 3))
def test_random_pages_give_jats_that_parses(page_items, noise):
    data = make_pdf(page_items)
    for number in range(len(page_items)):
        words = page_words(extract_page_text(open_pdf(data)[number]))
        assert all(w.box[0] <= w.box[2] and w.box[1] <= w.box[3] for w in words)
    try:
        article = extract_document(data, labeller_for(page_items, noise), source="fuzz.pdf")
    except ExtractError as error:
        assert error.reason
        return
    check_article(article)


SEED_PDF = make_pdf(
    [
        [Text(72, 80, 20, "A Title", "manuscript_title"), Text(72, 120, 10, "Body text.")],
        [Text(72, 80, 10, "1. A reference.", "reference")],
    ]
)


@st.composite
def damaged_pdfs(draw) -> bytes:
    """The seed PDF with bytes overwritten, cut out, inserted or the file cut short."""
    data = bytearray(SEED_PDF)
    for _ in range(draw(st.integers(1, 6))):
        if not data:  # cut away whole: an empty file is a case too
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["overwrite", "delete", "insert", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=16))
        if action == "overwrite":
            data[at : at + len(chunk)] = chunk
        elif action == "delete":
            del data[at : at + len(chunk)]
        elif action == "insert":
            data[at:at] = chunk
        else:
            del data[max(at, 8) :]
    return bytes(data)


@settings(FUZZ, max_examples=40)
@given(damaged_pdfs(), st.booleans())
def test_damaged_pdfs_end_as_an_article_or_an_extract_error(tmp_path_factory, data, gzipped):
    import gzip

    folder = tmp_path_factory.mktemp("fuzz")
    pdf = folder / ("damaged.pdf.gz" if gzipped else "damaged.pdf")
    pdf.write_bytes(gzip.compress(data) if gzipped else data)
    target = folder / "damaged.xml"
    labeller = labeller_for([[]] * 4, noise=1)
    try:
        article = extract_to(str(pdf), labeller, str(target), timeout=60)
    except ExtractError as error:
        assert error.reason and "damaged.pdf" in str(error)
        assert not target.exists()
        return
    check_article(article)
    assert etree.parse(str(target)).getroot().tag == "article"
