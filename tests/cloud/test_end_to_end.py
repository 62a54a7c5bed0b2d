"""The --cloud data path end to end on the emulator: sample data -> upload -> preprocess on
gs:// (Beam DirectRunner) -> gzipped TFRecords on gs:// -> the trainer's input pipeline, and a
short training run whose checkpoints land on gs:// (TensorFlow reaches the emulator's files
through `storage.tensorflow_paths`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths
from tests.conftest import REPO_ROOT, TEST_BUCKET

GCS_PATH = f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4"
IMAGE_SIZE = 64


@pytest.mark.slow
def test_sample_data_to_gcs_records_to_training_batches(script_env, tmp_path):
    from sciencebeam_gym.preprocess import pipeline

    data_dir = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "sciencebeam_gym.sample_data", "--output_path", str(data_dir)]
        + ["--train_pages", "3", "--test_pages", "2", "--workers", "1"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for script, args in (("upload-config.sh", []), ("upload-data.sh", [str(data_dir)])):
        result = subprocess.run(
            [str(REPO_ROOT / script), *args],
            env=script_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr

    for split in ("train", "test"):
        code = pipeline.main(
            [
                "--data_paths",
                f"{GCS_PATH}/data/{split}/*/*/*-page1*.png",
                "--output_path",
                f"{GCS_PATH}/preproc/{split}",
                "--image_width",
                str(IMAGE_SIZE),
                "--image_height",
                str(IMAGE_SIZE),
                "--color_map",
                f"{GCS_PATH}/config/color_map.conf",
                "--num_workers",
                "1",
            ]
        )
        assert code == 0
    report = json.loads(fs.read_bytes(f"{GCS_PATH}/preproc/train/preprocess-report.json"))
    assert report["output_path"] == f"{GCS_PATH}/preproc/train"
    train_shards = fs.glob(f"{GCS_PATH}/preproc/train/*tfrecord*")
    test_shards = fs.glob(f"{GCS_PATH}/preproc/test/*tfrecord*")
    assert train_shards and test_shards
    assert all(p.endswith(".tfrecord.gz") for p in train_shards + test_shards)

    from sciencebeam_gym.color_map import load_color_map
    from sciencebeam_gym.trainer import data

    colors = load_color_map(str(REPO_ROOT / "color_map.conf")).color_array
    with TensorflowPaths() as tf_paths:
        files = tf_paths.readable_files(data.find_files([f"{GCS_PATH}/preproc/train/*tfrecord*"]))
        dataset = data.make_dataset(files, 3, IMAGE_SIZE, colors, training=False)
        pages, targets = next(iter(dataset))
    assert tuple(pages.shape) == (3, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert tuple(targets.shape) == (3, IMAGE_SIZE, IMAGE_SIZE, len(colors))
    # the sample pages carry labelled regions, so some target channels are set
    assert float(targets.numpy().sum()) > 0

    from sciencebeam_gym.trainer import task

    with TensorflowPaths() as tf_paths:
        train_files = tf_paths.readable_files(fs.glob(f"{GCS_PATH}/preproc/train/*tfrecord*"))
        model_dir = tf_paths.writable_folder(f"{GCS_PATH}-default/training")
        code = task.main(
            ["--preset", "smoke", "--image_size", str(IMAGE_SIZE), "--precision", "float32"]
            + ["--max_steps", "2", "--save_freq", "2", "--output_path", model_dir]
            + ["--color_map", f"{GCS_PATH}/config/color_map.conf"]
            + [arg for path in train_files for arg in ("--train_data_paths", path)]
            # staged copies, without the completion report that was checked on the bucket above
            + ["--allow_incomplete_data"]
        )
        assert code == 0
    checkpoints = fs.glob(f"{GCS_PATH}-default/training/checkpoints/*")
    assert f"{GCS_PATH}-default/training/checkpoints/ckpt-2.index" in checkpoints
    assert fs.exists(f"{GCS_PATH}-default/training/config.json")
