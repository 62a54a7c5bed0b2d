"""./preprocess.sh and ./inspect-tf-records.sh with the configuration of prepare-shell.sh."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.preprocess.conftest import write_pair

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def script_env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "GYM_QUIET": "true",
            "GYM_CONFIG_FILE": str(tmp_path / "no.config"),
            "LOCAL_PATH_ROOT": str(tmp_path / "models"),
            "IMAGE_WIDTH": "48",
            "IMAGE_HEIGHT": "32",
            "JOB_ID": "test_job",
        }
    )
    return env


def run_script(name, env, *args):
    return subprocess.run(
        [str(REPO_ROOT / name), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_dry_run_prints_both_splits_with_the_configured_paths(tmp_path, script_env):
    result = run_script("preprocess.sh", script_env, "--dry-run", "--max_error_rate", "0.3")
    assert result.returncode == 0, result.stderr
    decoder, text, printed = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        printed.append(value)
        text = text[end:].strip()
    data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    preproc = tmp_path / "models" / "pix2pix" / "v4" / "preproc"
    for split, description in zip(("train", "test"), printed, strict=True):
        settings = description["preprocess"]
        assert settings["data_paths"] == [f"{data}/{split}/*/*/*-page[0-9]*.png"]
        assert settings["output_path"] == f"{preproc}/{split}"
        assert (settings["image_width"], settings["image_height"]) == (48, 32)
        assert settings["color_map"] == str(REPO_ROOT / "color_map.conf")
        assert settings["max_error_rate"] == 0.3  # the user's flags come last and win
    assert not preproc.exists()


@pytest.mark.slow
def test_preprocess_then_inspect_both_splits(tmp_path, script_env):
    data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    counts = {"train": 3, "test": 2}
    for split, count in counts.items():
        for i in range(count):
            write_pair(str(data / split / "g" / f"{split}{i}"), f"{split}{i}", seed=i)
    result = run_script("preprocess.sh", script_env, "--num_workers", "1")
    assert result.returncode == 0, result.stderr
    assert "3 pairs found, 3 written" in result.stderr
    assert "2 pairs found, 2 written" in result.stderr

    out = tmp_path / "inspect"
    result = run_script("inspect-tf-records.sh", script_env, "--output_dir", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    for split, count in counts.items():
        assert summary[split]["records"] == count
        assert summary[split]["image_sizes"] == {"48x32": count}
        assert summary[split]["run_status"] == "ok"
        frequencies = summary[split]["class_pixel_frequencies"]
        assert frequencies["(not in colour map)"]["pixels"] == 0
    assert (out / "train-01.png").exists()


def test_a_misspelt_flag_stops_preprocess_before_anything_runs(tmp_path, script_env):
    result = run_script("preprocess.sh", script_env, "--imag_width", "128")
    assert result.returncode == 2
    assert "--imag_width (did you mean --image_width?)" in result.stderr
    assert not (tmp_path / "models").exists()


def test_beam_options_and_kebab_flags_reach_the_dry_run(capsys):
    from sciencebeam_gym.preprocess.pipeline import main

    code = main(
        ["--data_paths", "x/*.png", "--output-path", "out", "--dry-run", "--image-width", "64"]
        + ["--direct_num_workers", "3", "--experiments=a", "--direct-running-mode", "in_memory"]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["preprocess"]["image_width"] == 64
    assert printed["preprocess"]["output_path"] == "out"
    options = printed["pipeline_options"]
    assert options["direct_num_workers"] == 3
    assert options["experiments"] == ["a"]
    assert options["direct_running_mode"] == "in_memory"


def write_pages(folder: Path, doc_id: str, numbers) -> None:
    """Pages <doc_id>-page<N>.png and their labels, as generate-data.sh names them."""
    for number in numbers:
        page, label = write_pair(str(folder / doc_id), f"{doc_id}-tmp", seed=number)
        os.rename(page, folder / doc_id / f"{doc_id}-page{number}.png")
        os.rename(label, folder / doc_id / f"{doc_id}-page{number}.annot.png")


@pytest.mark.slow
def test_every_page_of_a_document_is_preprocessed(tmp_path, script_env):
    data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    write_pages(data / "train" / "g", "doc", [1, 2, 3, 10, 21])
    write_pages(data / "test" / "g", "other", [1, 2])
    result = run_script("preprocess.sh", script_env, "--num_workers", "1")
    assert result.returncode == 0, result.stderr
    assert "5 pairs found, 5 written" in result.stderr
    assert "2 pairs found, 2 written" in result.stderr


@pytest.mark.slow
def test_an_empty_split_is_skipped_with_a_warning(tmp_path, script_env):
    data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    write_pages(data / "test" / "g", "doc", [1])  # pages for evaluation only
    result = run_script("preprocess.sh", script_env, "--num_workers", "1")
    assert result.returncode == 0, result.stderr
    assert f"warning: no pages in {data}/train: split skipped" in result.stderr
    preproc = tmp_path / "models" / "pix2pix" / "v4" / "preproc"
    assert (preproc / "test" / "preprocess-report.json").exists()
    assert not (preproc / "train").exists()

    (data / "test" / "g" / "doc" / "doc-page1.png").unlink()
    (data / "test" / "g" / "doc" / "doc-page1.annot.png").unlink()
    result = run_script("preprocess.sh", script_env, "--num_workers", "1")
    assert result.returncode == 2
    assert f"error: no pages in any split of {data}" in result.stderr


@pytest.mark.slow
def test_glob_characters_in_the_path_root_match_only_themselves(tmp_path, script_env):
    root = tmp_path / "models[1]"
    script_env["LOCAL_PATH_ROOT"] = str(root)
    for folder, count in ((root, 2), (tmp_path / "models1", 3)):  # models1 matches `models[1]`
        data = folder / "pix2pix" / "v4" / "data"
        for split in ("train", "test"):
            for i in range(count):
                write_pages(data / split / "g", f"{split}{i}", [1])
    result = run_script("preprocess.sh", script_env, "--num_workers", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("2 pairs found, 2 written") == 2
    for split in ("train", "test"):
        assert (root / "pix2pix" / "v4" / "preproc" / split / "preprocess-report.json").exists()
