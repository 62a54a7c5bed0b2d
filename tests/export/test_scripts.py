"""The scripts' wiring: save-model.sh --cloud submits the export module as a Vertex AI job."""

from __future__ import annotations

import json
import os
import subprocess

from .conftest import REPO_ROOT


def test_save_model_cloud_submits_the_export_module(tmp_path):
    env = dict(
        os.environ,
        PROJECT="my-project",
        GYM_QUIET="true",
        JOB_ID="job1",
        GYM_CONFIG_FILE=str(tmp_path / "no.config"),
    )
    result = subprocess.run(
        [str(REPO_ROOT / "save-model.sh"), "--cloud", "--dry-run"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["displayName"] == "job1_export"
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert pool["pythonPackageSpec"]["pythonModule"] == "sciencebeam_gym.trainer.export"
    args = pool["pythonPackageSpec"]["args"]
    bucket = "gs://my-project-ml/sciencebeam/pix2pix/v4-default"
    assert args[args.index("--model_path") + 1] == f"{bucket}/training"
    assert args[args.index("--export_path") + 1] == f"{bucket}/export"
    assert "acceleratorCount" not in pool["machineSpec"]  # a CPU job
