"""train-word-model.sh: the configuration's token sources, the model beside the export."""

import json
from pathlib import Path

from tests.scripts import run_script as run_toolkit_script


def run_script(tmp_path: Path, *args: str, **env_extra: str):
    return run_toolkit_script("train-word-model.sh", tmp_path, *args, **env_extra)


def test_the_word_model_goes_beside_the_export_from_the_configured_token_files(
    token_data, tmp_path
):
    result = run_script(
        tmp_path,
        "--no_painted",
        "--max_iterations",
        "10",
        WORD_TRAIN_PATHS=f"{token_data}/train/alpha:2 {token_data}/train/beta",
        WORD_EVAL_PATHS=f"{token_data}/train/beta",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    model = tmp_path / "models" / "pix2pix" / "v4-default" / "word-model"
    info = json.loads((model / "word-model.json").read_text())
    assert info["pages"] == 10 and set(info["sources"]) == {
        f"{token_data}/train/alpha:2",
        f"{token_data}/train/beta",
    }
    assert info["evaluation"]["words"] > 0 and "accuracy" in result.stdout


def test_without_an_export_it_says_how_to_make_one_or_train_without_it(token_data, tmp_path):
    result = run_script(tmp_path, WORD_TRAIN_PATHS=str(token_data))
    assert result.returncode == 2
    assert "no vision model export" in result.stderr and "--no_painted" in result.stderr
