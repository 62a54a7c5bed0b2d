"""extract.sh as a careless or hostile user meets it (issue 22): nobody's files overwritten,
every bad flag refused before any work, every bad document one skip reason, Ctrl-C summarised."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest
from lxml import etree

from sciencebeam_gym.document import limits
from sciencebeam_gym.extract.cli import main
from sciencebeam_gym.extract.document import ExtractError, extract_document, extract_to
from sciencebeam_gym.extract.model import PaintedLabeller
from tests.extract.conftest import REPO_ROOT
from tests.extract.pages import Text, labels_by_value, make_pdf, paragraph
from tests.generate.factory import pdf_bytes

PAGE = [Text(72, 80, 20, "A Title", "manuscript_title"), *paragraph(72, 120, ["Some text."], "")]
PUBLISHER_XML = b"<article><front><article-meta><title-group><article-title>Theirs"


class BlankLabeller(PaintedLabeller):
    """Paints nothing on any number of pages (a real model's output shape, no TensorFlow)."""

    def __init__(self):
        super().__init__([], labels_by_value())

    def label_pages(self, images):
        import numpy as np

        return [np.zeros((64, 48), np.uint8) for _ in images]


def run(tiny_export, *argv: str) -> int:
    return main([*map(str, argv), "--saved_model", str(tiny_export)])


def a_pdf(path, pages=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_pdf([PAGE] * pages))
    return path


# --- row 1: the publisher's x.xml beside x.pdf ---------------------------------------------------


def test_without_output_the_outputs_go_to_a_new_folder_and_the_publishers_xml_stays(
    tmp_path, tiny_export
):
    source = tmp_path / "pdf-jats"
    a_pdf(source / "x.pdf")
    (source / "x.xml").write_bytes(PUBLISHER_XML)
    assert run(tiny_export, source) == 0
    assert (source / "x.xml").read_bytes() == PUBLISHER_XML
    written = tmp_path / "pdf-jats-extracted" / "x.xml"
    assert etree.parse(str(written)).getroot().tag == "article"
    assert run(tiny_export, source) == 0  # a rerun replaces its own outputs


def test_an_output_onto_a_file_the_extraction_did_not_write_is_refused_before_any_work(
    tmp_path, tiny_export, capsys
):
    source = tmp_path / "pdf-jats"
    a_pdf(source / "x.pdf")
    a_pdf(source / "y.pdf")
    (source / "x.xml").write_bytes(PUBLISHER_XML)
    assert run(tiny_export, source, source) == 2
    error = capsys.readouterr().err
    assert "x.xml" in error and "not written by the extraction" in error
    assert (source / "x.xml").read_bytes() == PUBLISHER_XML
    assert not (source / "y.xml").exists()  # refused before anything ran


# --- row 2: same names in two folders; two inputs for one output ---------------------------------


def test_outputs_keep_the_inputs_relative_paths(tmp_path, tiny_export, capsys):
    a_pdf(tmp_path / "in" / "a" / "paper.pdf")
    a_pdf(tmp_path / "in" / "b" / "paper.pdf", pages=2)
    assert run(tiny_export, tmp_path / "in", tmp_path / "out") == 0
    assert "2 of 2 documents written" in capsys.readouterr().out
    pages = [
        len(etree.parse(str(tmp_path / "out" / folder / "paper.xml")).getroot()) for folder in "ab"
    ]
    assert pages == [3, 3]  # two whole articles, neither replaced the other
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b"]


def test_two_pdfs_that_would_share_an_output_are_refused_before_any_work(
    tmp_path, tiny_export, capsys
):
    pdf = a_pdf(tmp_path / "in" / "x.pdf")
    (tmp_path / "in" / "x.pdf.gz").write_bytes(gzip.compress(pdf.read_bytes()))
    assert run(tiny_export, tmp_path / "in", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert "x.pdf" in error and "x.pdf.gz" in error and "both be written to" in error
    assert not (tmp_path / "out").exists()


# --- row 8: hostile PDFs in a batch -------------------------------------------------------------


def hostile_pdfs() -> dict[str, bytes]:
    return {
        "count-lies.pdf": pdf_bytes([(72, 700, 10, "one page")]).replace(b"/Count 1", b"/Count 4"),
        "kid-is-a-font.pdf": pdf_bytes([(72, 700, 10, "x")], pages=2).replace(b"6 0 R]", b"3 0 R]"),
        "gzip-junk.pdf": b"\x1f\x8b" + os.urandom(200),
        "gzip-truncated.pdf": gzip.compress(make_pdf([PAGE]))[:300],
    }


def test_pdfs_whose_page_tree_lies_or_whose_gzip_is_junk_are_skipped_and_the_batch_goes_on(
    tmp_path, tiny_export, capsys
):
    folder = tmp_path / "in"
    for name, data in hostile_pdfs().items():
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    a_pdf(folder / "zz-good.pdf")
    assert run(tiny_export, folder, tmp_path / "out", "--format", "json") == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert (tmp_path / "out" / "zz-good.json").exists()
    skipped = [line for line in captured.err.splitlines() if "skipped:" in line]
    assert len(skipped) == 4, captured.err
    assert any("count-lies" in line and "unrenderable page" in line for line in skipped)
    assert any("gzip-junk" in line and "corrupt PDF" in line for line in skipped)


@pytest.mark.parametrize("name", sorted(hostile_pdfs()))
def test_every_hostile_pdf_ends_as_an_extract_error(tmp_path, name):
    pdf = tmp_path / name
    pdf.write_bytes(hostile_pdfs()[name])
    with pytest.raises(ExtractError) as caught:
        extract_to(str(pdf), BlankLabeller(), str(tmp_path / "out.xml"))
    assert caught.value.reason and name in str(caught.value)
    assert not (tmp_path / "out.xml").exists()


def test_anything_unexpected_in_one_document_is_its_reason():
    class Broken(BlankLabeller):
        def label_pages(self, images):
            raise RuntimeError("the labeller broke")

    with pytest.raises(ExtractError) as caught:
        extract_to_bytes(make_pdf([PAGE]), Broken())
    assert caught.value.reason == "unexpected error" and "the labeller broke" in str(caught.value)


def extract_to_bytes(data: bytes, labeller, **kwargs):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pdf = os.path.join(folder, "doc.pdf")
        with open(pdf, "wb") as file:
            file.write(data)
        return extract_to(pdf, labeller, os.path.join(folder, "doc.xml"), **kwargs)


# --- bounded work: time, pages, glyphs, bytes ---------------------------------------------------


def test_a_document_over_its_time_limit_is_skipped_with_that_reason():
    with pytest.raises(ExtractError) as caught:
        extract_to_bytes(make_pdf([PAGE] * 3), BlankLabeller(), timeout=1e-6)
    assert caught.value.reason == limits.TIMED_OUT and "--timeout" in str(caught.value)
    assert extract_to_bytes(make_pdf([PAGE] * 3), BlankLabeller(), timeout=60).pages == 3


def test_more_pages_than_the_cap_are_refused_before_any_is_read(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DOCUMENT_PAGES", 2)
    with pytest.raises(ExtractError) as caught:
        extract_document(make_pdf([PAGE] * 3), BlankLabeller())
    assert caught.value.reason == limits.TOO_MANY_PAGES and "--pages" in str(caught.value)
    assert extract_document(make_pdf([PAGE] * 3), BlankLabeller(), pages="2-3").pages == 2


def test_a_page_of_more_glyphs_than_the_cap_is_refused_before_they_are_read(monkeypatch):
    monkeypatch.setattr(limits, "MAX_PAGE_GLYPHS", 20)
    page = [Text(72, 80 + 12 * i, 10, "twenty-five letters here.") for i in range(4)]
    with pytest.raises(ExtractError) as caught:
        extract_document(make_pdf([page]), BlankLabeller(), source="dense.pdf")
    assert caught.value.reason == limits.TOO_MANY_GLYPHS
    assert "dense.pdf" in str(caught.value) and "page 1" in str(caught.value)


def gzip_bomb(path, expanded: int):
    """A gzip file of `expanded` zero bytes (about 1/1000 of that on disk), written in pieces."""
    chunk = bytes(2**20)
    with gzip.open(path, "wb", compresslevel=9) as file:
        for _ in range(expanded // len(chunk)):
            file.write(chunk)
    return path


def test_a_gzip_expanding_past_the_cap_is_refused_holding_no_more_than_the_cap(
    tmp_path, monkeypatch
):
    bomb = gzip_bomb(tmp_path / "bomb.pdf", 64 * 2**20)
    assert bomb.stat().st_size < 2**20
    monkeypatch.setattr(limits, "MAX_PDF_BYTES", 4 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ExtractError) as caught:
            extract_to(str(bomb), BlankLabeller(), str(tmp_path / "bomb.xml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.reason == limits.TOO_LARGE
    assert peak < 3 * limits.MAX_PDF_BYTES  # the cap and a chunk, not the 64 MiB


# --- rows 10, 11, 12: flags refused before any work ---------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--pages", "5-2", "runs backwards"),
        ("--pages", "1-0", "runs backwards"),
        ("--pages", "0", "numbered from 1"),
        ("--dpi", "0", "finite number above 0"),
        ("--dpi", "-1", "finite number above 0"),
        ("--dpi", "nan", "finite number above 0"),
        ("--dpi", "inf", "finite number above 0"),
        ("--timeout", "0", "finite number above 0"),
        ("--timeout", "soon", "finite number above 0"),
    ],
)
def test_a_bad_flag_value_is_refused_with_its_name_and_no_traceback(
    tmp_path, capsys, flag, value, words
):
    pdf = a_pdf(tmp_path / "x.pdf")
    with pytest.raises(SystemExit) as exit_info:
        main([str(pdf), str(tmp_path / "out"), flag, value, "--saved_model", "/nowhere"])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert flag in error and words in error and "Traceback" not in error
    assert not (tmp_path / "out").exists()


def test_a_huge_page_range_reads_only_the_pages_the_document_has(tmp_path, tiny_export):
    # a list of 10^9 page numbers was a MemoryError; the selection holds the range alone
    pdf = a_pdf(tmp_path / "x.pdf", pages=2)
    argv = [pdf, tmp_path / "out", "--pages", "1-1000000000", "--format", "json"]
    assert run(tiny_export, *argv) == 0
    assert json.loads((tmp_path / "out" / "x.json").read_text())["pages"] == 2


# --- rows 14-18: names, positions and kinds of INPUT --------------------------------------------


def test_a_folder_named_with_glob_characters_is_searched(tmp_path, tiny_export):
    a_pdf(tmp_path / "papers[2024]" / "x.pdf")
    assert run(tiny_export, tmp_path / "papers[2024]") == 0
    assert (tmp_path / "papers[2024]-extracted" / "x.xml").exists()


def test_a_file_name_that_is_not_utf8_is_written_as_json_with_the_name_escaped(
    tmp_path, tiny_export
):
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.pdf")  # latin-1 bytes: kept by Python as a surrogate
    (folder / name).write_bytes(make_pdf([PAGE]))
    assert run(tiny_export, folder, tmp_path / "out", "--format", "json") == 0
    [written] = (tmp_path / "out").iterdir()
    assert json.loads(written.read_bytes())["source"].endswith("caf\\xe9.pdf")


def test_output_after_an_option_is_still_the_output(tmp_path, tiny_export):
    pdf = a_pdf(tmp_path / "x.pdf")
    assert run(tiny_export, pdf, "--pages", "1", tmp_path / "out") == 0
    assert (tmp_path / "out" / "x.xml").exists()


def test_a_fifo_as_input_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "input.pdf"
    os.mkfifo(fifo)
    assert main([str(fifo), str(tmp_path / "out"), "--saved_model", "/nowhere"]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_a_fifo_in_an_input_folder_is_one_skip_not_a_hang(tmp_path, tiny_export, capsys):
    a_pdf(tmp_path / "in" / "good.pdf")
    os.mkfifo(tmp_path / "in" / "waiting.pdf")
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the run waited on a FIFO"))
    signal.alarm(120)
    try:
        assert run(tiny_export, tmp_path / "in", tmp_path / "out") == 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "waiting.pdf" in capsys.readouterr().err
    assert (tmp_path / "out" / "good.xml").exists()


@pytest.mark.parametrize("name", ["huge.lst", "huge.bin"])
def test_a_huge_file_that_is_no_pdf_is_refused_without_being_read(tmp_path, capsys, name):
    huge = tmp_path / name
    with open(huge, "wb") as file:
        file.truncate(3 * 2**30)  # sparse: 3 GiB that take no disk
    started = time.monotonic()
    assert main([str(huge), str(tmp_path / "out"), "--saved_model", "/nowhere"]) == 2
    assert time.monotonic() - started < 10
    error = capsys.readouterr().err
    assert name in error and ("beyond the cap" in error or "neither a PDF" in error)


def test_a_gzipped_pdf_is_an_input(tmp_path, tiny_export):
    gz = tmp_path / "x.pdf.gz"
    gz.write_bytes(gzip.compress(make_pdf([PAGE])))
    assert run(tiny_export, gz) == 0
    assert (tmp_path / "x-extracted" / "x.xml").exists()


# --- row 13: Ctrl-C -----------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_prints_what_was_written_and_exits_130_without_a_traceback(tmp_path, tiny_export):
    folder = tmp_path / "in"
    data = make_pdf([PAGE] * 4)
    folder.mkdir()
    for index in range(200):
        (folder / f"doc{index:03d}.pdf").write_bytes(data)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    command = [
        sys.executable,
        "-m",
        "sciencebeam_gym.extract.cli",
        str(folder),
        str(tmp_path / "out"),
    ]
    process = subprocess.Popen(
        [*command, "--saved_model", str(tiny_export)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()  # the first document written
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert "[1/200]" in first
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrupted:" in err and "documents written to" in err
    written = sorted((tmp_path / "out").iterdir())
    assert 1 <= len(written) < 200
    assert all(etree.parse(str(path)).getroot().tag == "article" for path in written)


def test_the_current_folder_as_input_writes_beside_it(tmp_path, tiny_export, monkeypatch):
    a_pdf(tmp_path / "papers" / "x.pdf")
    monkeypatch.chdir(tmp_path / "papers")
    assert run(tiny_export, ".") == 0
    assert (tmp_path / "papers-extracted" / "x.xml").exists()
