"""`<script> --cloud --dry-run` prints where the job goes and its complete options, offline.

The environment points every proxy and the metadata server at a closed local port and holds no
credentials, so any network call fails at once instead of passing unnoticed.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import REPO_ROOT

PROJECT = "some-project"
CLOSED = "127.0.0.1:9"


def offline_env(tmp_path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR")) and key != "BUCKET"
    }
    env.update(
        PROJECT=PROJECT,
        HOME=str(tmp_path),
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        GYM_CONFIG_FILE=str(tmp_path / "no.config"),
        GYM_QUIET="true",
        JOB_ID="offline_job",
        HTTP_PROXY=f"http://{CLOSED}",
        HTTPS_PROXY=f"http://{CLOSED}",
        http_proxy=f"http://{CLOSED}",
        https_proxy=f"http://{CLOSED}",
        NO_PROXY="",
        GCE_METADATA_HOST=CLOSED,
        GCE_METADATA_IP=CLOSED,
    )
    return env


def dry_run(tmp_path, script: str, **env) -> str:
    result = subprocess.run(
        [str(REPO_ROOT / script), "--cloud", "--dry-run"],
        cwd=tmp_path,
        env={**offline_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def json_documents(text: str) -> list[dict]:
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def test_preprocess_prints_both_dataflow_jobs_without_reading_the_bucket(tmp_path):
    train, test = json_documents(dry_run(tmp_path, "preprocess.sh"))
    for split, printed in (("train", train), ("test", test)):
        settings, options = printed["preprocess"], printed["pipeline_options"]
        assert settings["color_map"].startswith(f"gs://{PROJECT}-ml/")
        assert settings["num_classes"] == "read when the pipeline runs"
        assert settings["output_path"].endswith(f"/preproc/{split}")
        assert options["runner"] == "DataflowRunner"
        assert options["project"] == PROJECT
        assert options["region"]
        assert options["dataflow_endpoint"].startswith("https://")
        assert options["setup_file"] == f"{REPO_ROOT}/setup.py"
        assert options["job_name"] == f"offline-job-preprocess-{split}"  # one job per split


@pytest.mark.parametrize("script", ["train.sh", "eval.sh", "save-model.sh"])
def test_vertex_scripts_print_project_region_and_endpoint(tmp_path, script):
    printed = json.loads(dry_run(tmp_path, script))
    assert printed["project"] == PROJECT
    assert printed["endpoint"] == f"{printed['region']}-aiplatform.googleapis.com"
    base = printed["custom_job"]["jobSpec"]["baseOutputDirectory"]["outputUriPrefix"]
    assert printed["vertex_sets"]["AIP_MODEL_DIR"] == f"{base}/model/"


def test_train_data_paths_give_one_flag_per_source_unexpanded(tmp_path):
    (tmp_path / "a.tfrecord.gz").write_bytes(b"")  # a glob must reach the trainer as written
    sources = "*tfrecord* gs://bucket/real/*tfrecord*:3"
    printed = json.loads(dry_run(tmp_path, "train.sh", TRAIN_DATA_PATHS=sources))
    args = printed["custom_job"]["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["args"]
    flags = [(flag, value) for flag, value in zip(args, args[1:], strict=False) if "data" in flag]
    assert flags == [
        ("--train_data_paths", "*tfrecord*"),
        ("--train_data_paths", "gs://bucket/real/*tfrecord*:3"),
        ("--eval_data_paths", f"gs://{PROJECT}-ml/sciencebeam/pix2pix/v4/preproc/test/*tfrecord*"),
    ]
