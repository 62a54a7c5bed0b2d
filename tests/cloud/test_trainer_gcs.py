"""The trainer and evaluation on gs:// records and a gs:// model folder (storage emulator)."""

from __future__ import annotations

import json

import pytest

from sciencebeam_gym.records import COMPLETION_REPORT_NAME as REPORT_NAME
from sciencebeam_gym.storage import fs
from tests.cloud.test_distributed import COLOR_MAP, IMAGE_SIZE, write_tiny_records
from tests.conftest import TEST_BUCKET

ROOT = f"gs://{TEST_BUCKET}/trainer-gcs"
MODEL = f"{ROOT}/training"


def upload(storage_client, local_path: str, url: str) -> None:
    name = url[len(f"gs://{TEST_BUCKET}/") :]
    storage_client.bucket(TEST_BUCKET).blob(name).upload_from_filename(local_path)


def train_args(max_steps: int, color_map: str) -> list[str]:
    return [
        *["--preset", "smoke", "--image_size", str(IMAGE_SIZE), "--precision", "float32"],
        *["--max_steps", str(max_steps), "--save_freq", "2", "--eval_freq", "100"],
        *["--train_data_paths", f"{ROOT}/preproc/train/*.tfrecord.gz"],
        *["--eval_data_paths", f"{ROOT}/preproc/test/*.tfrecord.gz"],
        *["--color_map", color_map, "--output_path", MODEL],
    ]


def test_no_match_on_gcs_names_what_is_there(storage_client, tmp_path):
    from sciencebeam_gym.trainer import data

    write_tiny_records(str(tmp_path / "train.tfrecord.gz"), 1)
    upload(
        storage_client, str(tmp_path / "train.tfrecord.gz"), f"{ROOT}/preproc/train/a.tfrecord.gz"
    )
    with pytest.raises(data.DataError) as error:
        data.find_files([f"{ROOT}/preproc/trian/*.tfrecord.gz"], "training")
    message = str(error.value)
    assert "no training files match" in message
    assert "train/" in message  # the folder that is there


@pytest.mark.slow
def test_train_resume_and_evaluate_on_gcs(storage_client, tmp_path, capfd):
    from sciencebeam_gym.trainer import evaluate_checkpoint, task

    write_tiny_records(str(tmp_path / "train.tfrecord.gz"), 6)
    write_tiny_records(str(tmp_path / "test.tfrecord.gz"), 2)
    upload(
        storage_client, str(tmp_path / "train.tfrecord.gz"), f"{ROOT}/preproc/train/0.tfrecord.gz"
    )
    upload(storage_client, str(tmp_path / "test.tfrecord.gz"), f"{ROOT}/preproc/test/0.tfrecord.gz")
    report = tmp_path / REPORT_NAME  # a finished preprocessing run in both folders
    report.write_text('{"status": "ok"}')
    for split in ("train", "test"):
        upload(storage_client, str(report), f"{ROOT}/preproc/{split}/{REPORT_NAME}")
    color_map = tmp_path / "color_map.conf"
    color_map.write_text(COLOR_MAP)

    assert task.main(train_args(2, str(color_map))) == 0
    assert "starting from scratch" in capfd.readouterr().err
    checkpoints = fs.glob(f"{MODEL}/checkpoints/*")
    assert f"{MODEL}/checkpoints/ckpt-2.index" in checkpoints
    assert f"{MODEL}/checkpoints/checkpoint" in checkpoints
    assert json.loads(fs.read_bytes(f"{MODEL}/config.json"))["max_steps"] == 2
    assert fs.glob(f"{MODEL}/train/events.out.tfevents.*")
    assert fs.glob(f"{MODEL}/eval/events.out.tfevents.*")

    # a second run reads the checkpoints back from the bucket and goes on from step 2
    assert task.main(train_args(4, str(color_map))) == 0
    log = capfd.readouterr().err
    assert "resuming from step 2" in log
    assert "training from step 2 to 4" in log
    assert f"{MODEL}/checkpoints/ckpt-4.index" in fs.glob(f"{MODEL}/checkpoints/*")

    code = evaluate_checkpoint.main(
        ["--model_path", MODEL, "--eval_data_paths", f"{ROOT}/preproc/test/*.tfrecord.gz"]
    )
    assert code == 0
    summary = json.loads(fs.read_bytes(f"{MODEL}/eval/metrics.json"))
    assert summary["step"] == 4
    assert set(summary["classes"]) == {"title", "body"}
    assert fs.exists(f"{MODEL}/eval/confusion_matrix.png")
