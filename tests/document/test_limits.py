"""The bounds of one document's work (issue 22): bytes, FIFOs, gzip bombs, pages, glyphs, time."""

from __future__ import annotations

import gzip
import os
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.jats import XmlError, parse_article
from sciencebeam_gym.document.limits import (
    Deadline,
    LimitError,
    gunzip_capped,
    read_document,
)
from sciencebeam_gym.document.pdf import PdfError, open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from tests.extract.pages import Text, make_pdf


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4), st.integers(0, 3))
def test_gzip_members_decompress_whole_within_the_cap(members, padding):
    data = b"".join(gzip.compress(member) for member in members) + bytes(padding)
    assert gunzip_capped(data, 20_000) == b"".join(members)


def test_plain_bytes_pass_through():
    assert gunzip_capped(b"%PDF-1.4 not gzip", 10) == b"%PDF-1.4 not gzip"


@pytest.mark.parametrize("cut", [3, 20, -9, -1])
def test_truncated_or_junk_gzip_is_corrupt_not_an_escaping_zlib_error(cut):
    data = gzip.compress(os.urandom(5000))[:cut]
    with pytest.raises(LimitError) as caught:
        gunzip_capped(data, 10**6)
    assert caught.value.reason == limits.CORRUPT_GZIP
    with pytest.raises(LimitError):
        gunzip_capped(b"\x1f\x8b" + os.urandom(100), 10**6)


def test_a_gzip_bomb_is_refused_holding_about_the_cap():
    cap = 2 * 2**20
    bomb = gzip.compress(bytes(40 * 2**20), compresslevel=9)  # 40 KB that expand to 40 MiB
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as caught:
            gunzip_capped(bomb, cap, "bomb.pdf.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.reason == limits.TOO_LARGE and "bomb.pdf.gz" in str(caught.value)
    assert peak < 3 * cap  # the cap, one chunk and the compressed input; never the 40 MiB


def test_pdf_and_xml_readers_take_the_caps_as_their_reasons(monkeypatch):
    monkeypatch.setattr(limits, "MAX_PDF_BYTES", 2**20)
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 2**20)
    with pytest.raises(PdfError) as pdf_error:
        open_pdf(gzip.compress(b"%PDF-1.4\n" + bytes(3 * 2**20)), "bomb.pdf")
    assert pdf_error.value.reason == limits.TOO_LARGE
    with pytest.raises(XmlError) as xml_error:
        parse_article(gzip.compress(b"<article>" + b" " * 3 * 2**20 + b"</article>"))
    assert xml_error.value.reason == limits.TOO_LARGE
    with pytest.raises(PdfError) as junk:
        open_pdf(b"\x1f\x8b" + os.urandom(64), "junk.pdf")
    assert junk.value.reason == "corrupt PDF"


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "paper.pdf"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(LimitError) as caught:
        read_document(str(fifo), 10**6)
    assert caught.value.reason == limits.NOT_A_FILE and time.monotonic() - started < 5


def test_a_file_over_the_cap_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.pdf"
    with open(huge, "wb") as file:
        file.truncate(3 * 2**30)  # sparse
    tracemalloc.start()
    try:
        with pytest.raises(LimitError) as caught:
            read_document(str(huge), 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.reason == limits.TOO_LARGE and peak < 2**20


def test_a_gz_file_is_read_decompressed(tmp_path):
    path = tmp_path / "x.xml.gz"
    path.write_bytes(gzip.compress(b"<article/>"))
    assert read_document(str(path), 100) == b"<article/>"
    with pytest.raises(LimitError):
        read_document(str(path), 5)


def test_a_deadline_passes_until_its_time_is_up():
    Deadline(None).check("page 1")
    deadline = Deadline(0.05, "slow.pdf")
    deadline.check("page 1")
    time.sleep(0.1)
    with pytest.raises(LimitError) as caught:
        deadline.check("page 2")
    assert caught.value.reason == limits.TIMED_OUT
    assert "slow.pdf" in str(caught.value) and "page 2" in str(caught.value)


def test_a_page_of_many_text_objects_is_refused_before_pdfium_groups_them(monkeypatch):
    # pdfium's text page costs the square of the text objects: 1 s at 10,000, minutes at 200,000
    monkeypatch.setattr(limits, "MAX_PAGE_TEXT_OBJECTS", 100)
    items = [Text(10 + (i % 50) * 11, 10 + (i // 50) * 2, 1, "x") for i in range(150)]
    page = open_pdf(make_pdf([items]))[0]
    with pytest.raises(LimitError, match="text objects"):
        extract_page_text(page)
    monkeypatch.setattr(limits, "MAX_PAGE_TEXT_OBJECTS", 150)
    assert len(extract_page_text(page).words) == 150


def test_a_page_of_more_glyphs_than_the_cap_is_refused(monkeypatch):
    page = open_pdf(make_pdf([[Text(72, 80, 10, "a few words on one line")]]))[0]
    with pytest.raises(LimitError) as caught:
        extract_page_text(page, max_glyphs=10)
    assert caught.value.reason == limits.TOO_MANY_GLYPHS
    monkeypatch.setattr(limits, "MAX_PAGE_GLYPHS", 10)
    with pytest.raises(LimitError):
        extract_page_text(page)
    assert len(extract_page_text(page, max_glyphs=100).words) == 6
