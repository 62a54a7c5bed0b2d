"""generate-data as a careless or hostile user meets it (issue 22): ids that cannot collide,
groups that stay inside --output_path, bad flag values refused, hostile documents skipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.sources import SourcePair, read_file_list
from sciencebeam_gym.generate.document import process_pair
from sciencebeam_gym.generate.pipeline import main
from tests.generate.factory import article_lines, article_xml, pdf_bytes
from tests.generate.test_pipeline import make_settings


def write_pair(folder: Path, stem: str, pages: int = 1) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdf, xml = folder / f"{stem}.pdf", folder / f"{stem}.xml"
    pdf.write_bytes(pdf_bytes(article_lines(), pages=pages))
    xml.write_bytes(article_xml())
    return pdf, xml


# --- row 3: ids x, x, x_2 -----------------------------------------------------------------------


def test_ids_made_unique_never_collide_with_an_id_of_the_list(tmp_path):
    listing = tmp_path / "list.csv"
    rows = ["id,pdf,xml", "x,a.pdf,a.xml", "x,b.pdf,b.xml", "x_2,c.pdf,c.xml", "X,d.pdf,d.xml"]
    listing.write_text("\n".join(rows) + "\n")
    ids = [pair.doc_id for pair in read_file_list(str(listing))]
    assert ids[0] == "x" and ids[2] == "x_2"
    assert len({doc_id.casefold() for doc_id in ids}) == 4, ids


@pytest.mark.slow
def test_three_documents_of_ids_x_x_x_2_give_three_documents_on_disk(tmp_path, capsys):
    for stem in "abc":
        write_pair(tmp_path / "src", stem)
    listing = tmp_path / "src" / "list.csv"
    listing.write_text("id,pdf,xml\nx,a.pdf,a.xml\nx,b.pdf,b.xml\nx_2,c.pdf,c.xml\n")
    output = tmp_path / "data"
    argv = ["--source", str(listing), "--output_path", str(output), "--dpi", "30"]
    assert main([*argv, "--test_fraction", "0"]) == 0
    pages = sorted(p.name for p in output.glob("train/*/*/*-page1.png"))
    assert len(pages) == 3, pages


# --- row 4: --group outside the output ----------------------------------------------------------


@pytest.mark.parametrize("group", ["../../../../tmp/elsewhere", "/abs/path", "..", "a/b", ".x"])
def test_a_group_that_is_not_one_folder_name_is_refused_before_any_work(tmp_path, capsys, group):
    write_pair(tmp_path / "src", "doc")
    argv = ["--source", str(tmp_path / "src"), "--output_path", str(tmp_path / "data")]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--group", group])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--group" in error and "one folder name" in error and "Traceback" not in error
    assert not (tmp_path / "data").exists()


def test_a_file_lists_group_column_becomes_one_safe_folder_name(tmp_path):
    listing = tmp_path / "list.tsv"
    listing.write_text("pdf\txml\tgroup\na.pdf\ta.xml\t../../../tmp/elsewhere\nb.pdf\tb.xml\t..\n")
    groups = [pair.group for pair in read_file_list(str(listing))]
    assert all(group and "/" not in group and not group.startswith(".") for group in groups)


# --- rows 10, 12: flag values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--dpi", "0"),
        ("--dpi", "-1"),
        ("--dpi", "nan"),
        ("--dpi", "inf"),
        ("--pages", "5-2"),
        ("--pages", "1-0"),
        ("--test_pages", "0"),
        ("--test_pages", "3-1"),
        ("--limit", "0"),
    ],
)
def test_a_bad_flag_value_is_refused_before_any_work(tmp_path, capsys, flag, value):
    write_pair(tmp_path / "src", "doc")
    argv = ["--source", str(tmp_path / "src"), "--output_path", str(tmp_path / "data")]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, flag, value])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert flag in error and repr(value) in error and "Traceback" not in error
    assert not (tmp_path / "data").exists()


def test_a_huge_page_range_reads_the_pages_the_document_has(tmp_path):
    pdf, xml = write_pair(tmp_path / "src", "doc", pages=2)
    pair = SourcePair("doc", str(pdf), str(xml))
    settings = make_settings(tmp_path / "data", pages="1-1000000000")
    assert process_pair(pair, settings).pages == [1, 2]


# --- rows 7, 8 and the bounds: each a skip reason -----------------------------------------------


def skip_reason(tmp_path: Path, pdf: bytes, xml: bytes, **settings) -> str:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / "doc.pdf").write_bytes(pdf)
    (folder / "doc.xml.gz").write_bytes(xml)
    pair = SourcePair("doc", str(folder / "doc.pdf"), str(folder / "doc.xml.gz"))
    result = process_pair(pair, make_settings(tmp_path / "data", **settings))
    assert result.status == "skipped" and not list((tmp_path / "data").rglob("*.png"))
    return result.reason


def test_an_xml_gz_expanding_past_the_cap_is_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 2**20)
    bomb = gzip.compress(b"<article>" + b" " * (8 * 2**20) + b"</article>")
    assert skip_reason(tmp_path, pdf_bytes(article_lines()), bomb) == limits.TOO_LARGE


def test_a_page_tree_that_lies_is_a_skip(tmp_path):
    lying = pdf_bytes(article_lines()).replace(b"/Count 1", b"/Count 3")
    reason = skip_reason(tmp_path, lying, gzip.compress(article_xml()), pages="all")
    assert reason == "unrenderable page"


def test_a_page_of_more_glyphs_than_the_cap_is_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_PAGE_GLYPHS", 50)
    reason = skip_reason(tmp_path, pdf_bytes(article_lines()), gzip.compress(article_xml()))
    assert reason == limits.TOO_MANY_GLYPHS


def test_more_pages_than_the_cap_is_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DOCUMENT_PAGES", 2)
    pdf = pdf_bytes(article_lines(), pages=3)
    reason = skip_reason(tmp_path, pdf, gzip.compress(article_xml()), pages="all")
    assert reason == limits.TOO_MANY_PAGES


def test_a_document_over_its_time_limit_is_a_skip_and_leaves_no_page(tmp_path):
    pdf = pdf_bytes(article_lines(), pages=3)
    reason = skip_reason(tmp_path, pdf, gzip.compress(article_xml()), pages="all", timeout=1e-6)
    assert reason == limits.TIMED_OUT
