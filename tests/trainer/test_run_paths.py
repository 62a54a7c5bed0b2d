"""The trainer's command line maps every path before the run; Trainer receives only paths.

Vertex AI's /gcs mount (fuse mode) is stood in for by a temporary folder, so no bucket is needed.
"""

from __future__ import annotations

import os

import pytest

from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths
from sciencebeam_gym.trainer import config as config_module
from sciencebeam_gym.trainer import task

BUCKET = "my-bucket"


@pytest.fixture
def config(tmp_path):
    for name in ("train/part-0.tfrecord.gz", "train/part-1.tfrecord.gz", "test/part-0.tfrecord.gz"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    overrides = {
        "train_data_paths": [str(tmp_path / "train" / "*.tfrecord.gz")],
        "eval_data_paths": [str(tmp_path / "test" / "*.tfrecord.gz")],
        "output_path": f"gs://{BUCKET}/model/training",
        "tensorboard_path": f"gs://{BUCKET}/tensorboard",
        "allow_incomplete_data": True,  # no preprocessing reports beside these files
    }
    return config_module.resolve_config("smoke", overrides)


def test_the_chief_writes_to_the_mapped_folders_and_syncs_them(config, tmp_path):
    fuse_root = tmp_path / "gcs"
    tf_paths = TensorflowPaths(mode="fuse", fuse_root=str(fuse_root))
    paths = task.chief_paths(config, tf_paths)
    output = str(fuse_root / BUCKET / "model" / "training")
    assert paths.output == output and os.path.isdir(output)
    assert paths.checkpoints == paths.resume_from == os.path.join(output, "checkpoints")
    assert paths.events == str(fuse_root / BUCKET / "tensorboard")
    assert paths.sync == tf_paths.sync
    assert [found.files for found in paths.train_sources] == [
        (
            str(tmp_path / "train" / "part-0.tfrecord.gz"),
            str(tmp_path / "train" / "part-1.tfrecord.gz"),
        )
    ]
    assert paths.found_sources == paths.train_sources  # local files: nothing to map
    assert paths.eval_files == (str(tmp_path / "test" / "part-0.tfrecord.gz"),)


def test_another_worker_writes_to_its_own_folder_and_resumes_from_the_chiefs(config, tmp_path):
    fuse_root = tmp_path / "gcs"
    scratch = str(tmp_path / "worker")
    paths = task.worker_paths(
        config, TensorflowPaths(mode="fuse", fuse_root=str(fuse_root)), scratch
    )
    assert paths.output == paths.events == scratch
    assert paths.checkpoints == os.path.join(scratch, "checkpoints")
    assert paths.resume_from == str(fuse_root / BUCKET / "model" / "training" / "checkpoints")
    assert paths.sync() is None  # a worker sends nothing to the bucket


def test_a_checkpoint_path_is_mapped_for_the_chief_and_read_by_the_others(config, tmp_path):
    fuse_root = tmp_path / "gcs"
    config["checkpoint_path"] = f"gs://{BUCKET}/checkpoints"
    mapped = str(fuse_root / BUCKET / "checkpoints")
    chief = task.chief_paths(config, TensorflowPaths(mode="fuse", fuse_root=str(fuse_root)))
    assert chief.checkpoints == chief.resume_from == mapped
    worker = task.worker_paths(
        config, TensorflowPaths(mode="fuse", fuse_root=str(fuse_root)), str(tmp_path / "w")
    )
    assert worker.resume_from == mapped and worker.checkpoints != mapped
