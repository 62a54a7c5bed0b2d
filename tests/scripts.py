"""Running a toolkit script as a user does, with the models under the test's folder and no
`.config` read."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, tmp_path: Path, *args: str, **env_extra: str):
    """`./<script> ARGS` with LOCAL_PATH_ROOT in `tmp_path/models`, quiet, no configuration file;
    `env_extra` adds settings. The completed process (output captured as text)."""
    env = {**os.environ, "LOCAL_PATH_ROOT": str(tmp_path / "models"), "GYM_QUIET": "true"}
    env["GYM_CONFIG_FILE"] = str(tmp_path / "no-config")
    env.update(env_extra)
    return subprocess.run(
        [str(REPO_ROOT / script), *args], env=env, capture_output=True, text=True, timeout=600
    )
