"""A Cloud Storage emulator on 127.0.0.1 for the storage and cloud tests (one per session, started
by the first test that asks for it, wiped per test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sciencebeam_gym.cloud.emulator import gcs_emulator

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_PROJECT = "gym-test"
TEST_BUCKET = f"{TEST_PROJECT}-ml"  # the default BUCKET for PROJECT=gym-test


@pytest.fixture(scope="session")
def gcs_session():
    with gcs_emulator(buckets=[TEST_BUCKET, "other-bucket"]) as emulator:
        yield emulator


@pytest.fixture
def gcs(gcs_session):
    """The running emulator with empty buckets; STORAGE_EMULATOR_HOST points at it."""
    gcs_session.wipe()
    return gcs_session


@pytest.fixture
def storage_client(gcs):
    from google.cloud import storage

    return storage.Client(project=TEST_PROJECT)


@pytest.fixture
def script_env(gcs, tmp_path):
    """Environment for running the toolkit's scripts against the emulator (no .config read)."""
    env = dict(os.environ)
    env.update(
        {
            "STORAGE_EMULATOR_HOST": gcs.url,
            "NO_GCE_CHECK": "True",
            "PROJECT": TEST_PROJECT,
            "GYM_QUIET": "true",
            "GYM_CONFIG_FILE": str(tmp_path / "no.config"),
            "LOCAL_PATH_ROOT": str(tmp_path / "models"),
            "JOB_ID": "test_job",
        }
    )
    env.pop("BUCKET", None)
    return env


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> Path:
    """An export of an untrained 32-pixel generator: real TensorFlow, meaningless classes (the
    extraction, word-model and service tests share it)."""
    import keras

    from sciencebeam_gym.serving import export
    from tests.serving.conftest import make_model_dir

    keras.mixed_precision.set_dtype_policy("float32")  # whatever an earlier test left
    trained = make_model_dir(tmp_path_factory.mktemp("tiny-training"))
    path = tmp_path_factory.mktemp("tiny-exports") / "export"
    assert export.main(["--model_path", str(trained), "--export_path", str(path)]) == 0
    return path
