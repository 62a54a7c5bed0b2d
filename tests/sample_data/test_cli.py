"""The command: help, bad flags, summary, overwriting an earlier corpus."""

import glob
import os
import subprocess
import sys

import pytest

from sciencebeam_gym.sample_data.cli import main


def test_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--output_path",
        "--train_pages",
        "--test_pages",
        "--seed",
        "--color_map",
        "--format",
        "--workers",
        "--dpi",
    ):
        assert flag in out


def test_an_unknown_flag_is_a_clear_error_without_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sciencebeam_gym.sample_data",
            "--output_path",
            str(tmp_path),
            "--no_such_flag",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "--no_such_flag" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


def test_a_negative_page_count_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--output_path", str(tmp_path), "--train_pages", "-3"])
    assert exit_info.value.code != 0
    assert "--train_pages" in capsys.readouterr().err


def test_a_missing_colour_map_is_named(tmp_path, capsys):
    missing = str(tmp_path / "nope.conf")
    code = main(
        [
            "--output_path",
            str(tmp_path / "out"),
            "--color_map",
            missing,
            "--train_pages",
            "1",
            "--test_pages",
            "0",
        ]
    )
    assert code == 2
    assert missing in capsys.readouterr().err


def test_a_smaller_run_replaces_an_earlier_corpus_and_keeps_other_files(tmp_path, capsys):
    out = str(tmp_path)
    assert (
        main(["--output_path", out, "--train_pages", "3", "--test_pages", "1", "--workers", "1"])
        == 0
    )
    other = tmp_path / "train" / "my-data" / "doc" / "doc-page1.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"not ours")
    assert (
        main(["--output_path", out, "--train_pages", "1", "--test_pages", "1", "--workers", "1"])
        == 0
    )
    ours = glob.glob(os.path.join(out, "train", "sample-*", "*", "*.png"))
    assert len(ours) == 2
    assert other.read_bytes() == b"not ours"
    assert not glob.glob(os.path.join(out, "train", "sample-*", "sample-train-00002"))
    summary = capsys.readouterr().out
    assert "1 train + 1 test pages" in summary
    assert "pages per class" in summary


def test_a_fixed_dpi_renders_every_page_at_that_dpi(tmp_path):
    from PIL import Image

    from sciencebeam_gym.sample_data.corpus import make_document
    from sciencebeam_gym.sample_data.render import pixel_size

    assert (
        main(
            [
                "--output_path",
                str(tmp_path),
                "--train_pages",
                "2",
                "--test_pages",
                "0",
                "--dpi",
                "90",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    for index in range(2):
        doc_id = f"sample-train-{index:05d}"
        image = Image.open(tmp_path / "train" / "sample-000" / doc_id / f"{doc_id}-page1.png")
        assert round(image.info["dpi"][0]) == 90
        page = make_document("train", index, seed=1).page
        assert image.size == pixel_size(page, 90)
        assert abs(image.height - page.height * 90 / 72) < 1


def test_an_unreasonable_dpi_is_refused_before_writing(tmp_path, capsys):
    assert main(["--output_path", str(tmp_path / "out"), "--dpi", "5"]) == 2
    assert "--dpi" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
