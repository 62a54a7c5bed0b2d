"""`--help` of the trainer's command lines answers before TensorFlow is imported."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHECK = """
import runpy, sys
sys.argv = [sys.argv[1], "--help"]
try:
    runpy.run_module(sys.argv[0], run_name="__main__")
except SystemExit as done:
    assert done.code == 0, done.code
print("TENSORFLOW_IMPORTED" if "tensorflow" in sys.modules else "NO_TENSORFLOW")
"""


@pytest.mark.parametrize(
    "module",
    [
        "sciencebeam_gym.trainer.task",
        "sciencebeam_gym.trainer.evaluate_checkpoint",
        "sciencebeam_gym.trainer.class_weights",
    ],
)
def test_help_does_not_import_tensorflow(module):
    result = subprocess.run(
        [sys.executable, "-c", CHECK, module], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: "), result.stdout[:200]
    assert result.stdout.strip().endswith("NO_TENSORFLOW"), result.stdout[-300:]


@pytest.mark.parametrize("script", ["train.sh", "eval.sh", "calculate-class-weights.sh"])
def test_script_help_prints_usage_without_tensorflow_start_up_lines(script, tmp_path):
    env = dict(os.environ, GYM_CONFIG_FILE=str(tmp_path / "none"), PROJECT="p")
    result = subprocess.run(
        [os.path.join(ROOT, script), "--help"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert "usage: python -m sciencebeam_gym.trainer." in result.stdout
    assert "cuda" not in (result.stdout + result.stderr).lower()
