"""train-word-model.sh: the configuration's token sources, the model beside the export."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_script(tmp_path: Path, *args: str, **env_extra: str):
    env = {**os.environ, "LOCAL_PATH_ROOT": str(tmp_path / "models"), "GYM_QUIET": "true"}
    env["GYM_CONFIG_FILE"] = str(tmp_path / "no-config")
    env.update(env_extra)
    return subprocess.run(
        [str(ROOT / "train-word-model.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


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
