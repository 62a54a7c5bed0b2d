"""Multi-worker training as on Vertex AI: two local processes with TF_CONFIG on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sciencebeam_gym import records
from sciencebeam_gym.cloud.emulator import find_free_port
from sciencebeam_gym.records import COMPLETION_REPORT_NAME as REPORT_NAME

IMAGE_SIZE = 32
COLOR_MAP = "[color_map]\n1=(255,0,0)\n2=(0,0,255)\n[color_labels]\n1=title\n2=body\n"


def write_tiny_records(path: str, count: int) -> None:
    """Pages with a dark band per class, and annotations painting the band in its colour."""
    import tensorflow as tf

    colors = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    with tf.io.TFRecordWriter(path, records.COMPRESSION) as writer:
        for i in range(count):
            page = np.full((IMAGE_SIZE, IMAGE_SIZE, 3), 255, dtype=np.uint8)
            annotation = np.zeros_like(page)
            for k, color in enumerate(colors):
                top = 4 + k * 14 + i % 3
                page[top : top + 6, 2:30] = 60 * k
                annotation[top : top + 6, 2:30] = color
            record = records.encode_pair(
                f"doc{i}-page1.png",
                f"doc{i}-page1.annot.png",
                tf.io.encode_png(page).numpy(),
                tf.io.encode_png(annotation).numpy(),
            )
            writer.write(record)


def tf_config(workers: list[str], index: int) -> str:
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})


def run_workers(command: list[str], log_dir, run: str) -> list[str]:
    """Run `command` as worker 0 and worker 1 of one cluster; their logs once both are done."""
    workers = [f"127.0.0.1:{find_free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=tf_config(workers, index), CUDA_VISIBLE_DEVICES="")
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        log = open(log_dir / f"{run}-worker{index}.log", "w")  # noqa: SIM115 (closed below)
        processes.append((subprocess.Popen(command, env=env, stdout=log, stderr=log), log))
    try:
        codes = [process.wait(timeout=240) for process, _ in processes]
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
    logs = [(log_dir / f"{run}-worker{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    return logs


def step_of(checkpoint: str) -> int:
    import tensorflow as tf

    return int(tf.train.load_checkpoint(checkpoint).get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE"))


@pytest.mark.slow
def test_two_workers_share_one_output_path_and_resume(tmp_path):
    import tensorflow as tf

    write_tiny_records(str(tmp_path / "train.tfrecord.gz"), 8)
    (tmp_path / REPORT_NAME).write_text('{"status": "ok"}')  # a finished preprocessing run
    (tmp_path / "color_map.conf").write_text(COLOR_MAP)
    output = tmp_path / "training"
    command = [sys.executable, "-m", "sciencebeam_gym.trainer.task", "--preset", "smoke"]
    command += ["--image_size", str(IMAGE_SIZE), "--precision", "float32"]
    command += ["--batch_size", "2", "--save_freq", "2", "--log_freq", "1"]
    command += ["--train_data_paths", str(tmp_path / "*.tfrecord.gz")]
    command += ["--color_map", str(tmp_path / "color_map.conf")]
    # Both workers get the same --output_path, as on Vertex AI: only worker 0 (the chief, with no
    # "chief" task in this cluster) may write there, or the two saves of one checkpoint collide.
    command += ["--output_path", str(output)]
    logs = run_workers([*command, "--max_steps", "2"], tmp_path, "first")

    for text in logs:
        # one replica per worker, the global batch of 2 split across them
        assert "[devices] 2 replica(s)" in text
        assert "batch 2 (1 per replica)" in text
    # the losses are all-reduced across the workers, so both report the same values
    losses = [re.findall(r"^step \d+/2 .*?(gen_total \S+ .* disc \S+)", t, re.M) for t in logs]
    assert losses[0] and losses[0] == losses[1]

    # the chief's checkpoint only: no half-merged temporary folders left by the other worker
    assert sorted(p.name for p in (output / "checkpoints").iterdir()) == [
        "checkpoint",
        "ckpt-2.data-00000-of-00001",
        "ckpt-2.index",
    ]
    assert sorted(p.name for p in output.iterdir()) == [
        "checkpoints",
        "config.json",
        "eval",
        "train",
    ]
    latest = tf.train.latest_checkpoint(str(output / "checkpoints"))
    assert latest is not None and latest.endswith("ckpt-2")
    assert step_of(latest) == 2

    # a second run: both workers resume from the chief's checkpoint at step 2
    logs = run_workers([*command, "--max_steps", "4"], tmp_path, "second")
    for text in logs:
        assert "resuming from step 2" in text
        assert "training from step 2 to 4" in text
    latest = tf.train.latest_checkpoint(str(output / "checkpoints"))
    assert latest is not None and latest.endswith("ckpt-4")
    assert step_of(latest) == 4
