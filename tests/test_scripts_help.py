"""Every script answers --help at once and does nothing else: no install, no job, no file."""

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in ROOT.glob("*.sh") if p.name != "prepare-shell.sh")
# Beam's start-up is the slowest part of a module's --help (about 2 s on an idle machine); the
# bound leaves room for a busy one. TensorFlow is blocked outright, so none of them loads it.
MAX_HELP_SECONDS = 10
# Left out of the snapshot: version control, the environment, caches, the models folder (moved
# to a temporary folder through LOCAL_PATH_ROOT).
NOT_WATCHED = {".git", ".venv", ".models", ".pytest_cache", ".ruff_cache", "__pycache__"}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under root, outside NOT_WATCHED and egg-info folders."""
    files = {}
    for folder, names, filenames in os.walk(root):
        names[:] = [n for n in names if n not in NOT_WATCHED and not n.endswith(".egg-info")]
        for name in filenames:
            path = Path(folder) / name
            stat = path.lstat()
            files[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return files


@pytest.fixture
def help_env(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # any attempt to import TensorFlow fails (a module's --help must not need it)
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['tensorflow'] = None\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "USER": "tester",
        "PYTHONPATH": str(blocker),
        "GYM_CONFIG_FILE": str(tmp_path / "no.config"),
        "LOCAL_PATH_ROOT": str(tmp_path / "models"),
    }
    return env, tmp_path


def run_help(script: str, env: dict, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / script), *args], env=env, capture_output=True, text=True, timeout=120
    )
    return result, time.monotonic() - started


def usage_of(script: str) -> str:
    """The first line of the comment at the top of a script."""
    return (ROOT / script).read_text().splitlines()[1].removeprefix("# ")


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_the_usage_at_once_and_does_nothing_else(script, help_env):
    env, tmp_path = help_env
    stamp = ROOT / ".venv" / ".installed-setup-sha"
    stamp_before = stamp.stat().st_mtime_ns if stamp.exists() else None
    before = snapshot(ROOT)
    result, seconds = run_help(script, env, "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(usage_of(script)), result.stdout[:300]
    assert f"./{script}" in result.stdout  # the usage line of the script itself
    assert seconds < MAX_HELP_SECONDS, f"{script} --help took {seconds:.1f} s"
    assert "ModuleNotFoundError" not in result.stderr and "tensorflow" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "home"]
    assert not any((tmp_path / "home").iterdir())
    assert snapshot(ROOT) == before
    assert (stamp.stat().st_mtime_ns if stamp.exists() else None) == stamp_before


SCRIPTS_WITH_A_MODULE = [s for s in SCRIPTS if "GYM_MODULE=" in (ROOT / s).read_text()]


@pytest.mark.parametrize("script", SCRIPTS_WITH_A_MODULE)
def test_help_also_lists_the_flags_of_the_module_the_script_runs(script, help_env):
    env, _ = help_env
    result, _ = run_help(script, env, "-h")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: " in result.stdout and "--help" in result.stdout


def test_help_with_cloud_needs_no_project(help_env):
    env, _ = help_env
    result, _ = run_help("train.sh", env, "--cloud", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "PROJECT" not in result.stderr
    assert "usage: python -m sciencebeam_gym.trainer.task" in result.stdout


def test_a_person_sourcing_the_configuration_with_help_keeps_their_shell(help_env):
    env, _ = help_env
    script = (
        f'source "{ROOT}/prepare-shell.sh" --help >/dev/null 2>&1; echo "still here $DATA_PATH"'
    )
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.stdout.startswith("still here ")
    assert "models" in result.stdout
