"""predict.sh as a careless user meets it (issue 22): nobody's files overwritten, two pages never
written to one file, folder names with glob characters, bad flag values refused before work."""

from __future__ import annotations

import gzip
import os

import pytest
from PIL import Image

from sciencebeam_gym.serving import predict
from sciencebeam_gym.storage.output_marks import is_marked, read_head

from .conftest import draw_page
from .test_predict import all_files, make_pdf


def run(exported, *argv) -> int:
    return predict.main([*map(str, argv), "--saved_model", str(exported)])


def test_a_file_predict_did_not_write_is_never_overwritten(exported, tmp_path, capsys):
    page = tmp_path / "scan.png"
    draw_page(seed=1).save(page)
    theirs = tmp_path / "scan.out.png"
    Image.new("RGB", (9, 9), "red").save(theirs)
    before = theirs.read_bytes()
    assert run(exported, page, "--boxes") == 2
    error = capsys.readouterr().err
    assert "scan.out.png" in error and "not written by predict" in error
    assert theirs.read_bytes() == before and not (tmp_path / "scan.boxes.json").exists()
    theirs.unlink()
    assert run(exported, page, "--boxes") == 0
    assert is_marked(read_head(str(theirs))) and is_marked(
        read_head(str(tmp_path / "scan.boxes.json"))
    )
    assert run(exported, page, "--boxes") == 0  # its own outputs: replaced


def test_two_pages_that_would_write_one_file_are_refused_before_the_model_loads(
    exported, tmp_path, capsys
):
    folder = tmp_path / "pages"
    folder.mkdir()
    draw_page(seed=1).save(folder / "p1.png")
    draw_page(seed=2).save(folder / "p1.jpg")
    assert predict.main([str(folder), str(tmp_path / "out"), "--saved_model", "/nowhere"]) == 2
    error = capsys.readouterr().err
    assert "p1.png" in error and "p1.jpg" in error and "both be written to" in error
    assert not (tmp_path / "out").exists()


def test_a_folder_named_with_glob_characters_is_searched(exported, tmp_path):
    folder = tmp_path / "pages[2024]"
    folder.mkdir()
    draw_page(seed=1).save(folder / "p1.png")
    assert run(exported, folder, tmp_path / "out") == 0
    assert all_files(tmp_path / "out") == ["p1.out.png"]


def test_a_gzipped_pdf_is_an_input(exported, tmp_path):
    make_pdf(tmp_path / "article.pdf", pages=1)
    gz = tmp_path / "article.pdf.gz"
    gz.write_bytes(gzip.compress((tmp_path / "article.pdf").read_bytes()))
    assert run(exported, gz, tmp_path / "out", "--pdf_dpi", "36") == 0
    assert all_files(tmp_path / "out") == ["article-page1.out.png"]


def test_a_fifo_as_input_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "doc.pdf"
    os.mkfifo(fifo)
    assert predict.main([str(fifo), str(tmp_path / "out"), "--saved_model", "/nowhere"]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_bad_pdf_dpi_is_refused_with_its_name(tmp_path, capsys, value):
    make_pdf(tmp_path / "article.pdf", pages=1)
    with pytest.raises(SystemExit) as exit_info:
        predict.main([str(tmp_path / "article.pdf"), "--pdf_dpi", value])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--pdf_dpi" in error and "Traceback" not in error


def test_an_output_file_named_on_the_command_line_is_written_whatever_was_there(exported, tmp_path):
    page = tmp_path / "scan.png"
    draw_page(seed=1).save(page)
    named = tmp_path / "result.png"
    Image.new("RGB", (9, 9), "red").save(named)
    assert run(exported, page, named) == 0
    assert is_marked(read_head(str(named)))


def test_the_output_after_an_option_is_still_the_output(exported, tmp_path):
    page = tmp_path / "scan.png"
    draw_page(seed=1).save(page)
    assert predict.main([str(page), "--saved_model", str(exported), str(tmp_path / "out")]) == 0
    assert all_files(tmp_path / "out") == ["scan.out.png"]
