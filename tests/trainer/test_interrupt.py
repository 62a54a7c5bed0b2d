"""A training process killed mid-run resumes from its last checkpoint (subprocesses)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from tests.trainer.conftest import train_args

pytestmark = pytest.mark.slow


def start_training(tiny_data, output, *extra):
    args = train_args(
        tiny_data,
        output,
        "--max_steps",
        "100000",
        "--log_freq",
        "1",
        "--eval_freq",
        "100000",
        "--eval_interval_secs",
        "0",
        *extra,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sciencebeam_gym.trainer.task", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def latest_step(output) -> int:
    path = tf.train.latest_checkpoint(os.path.join(str(output), "checkpoints"))
    return int(path.rsplit("-", 1)[1]) if path else 0


def wait_for_step(process, output, step: int, timeout: float = 120) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, process.stdout.read()
        if latest_step(output) >= step:
            return latest_step(output)
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"no checkpoint at step {step} within {timeout}s")


def read_until(process, prefix: str, timeout: float = 120) -> str:
    """Output lines up to the first starting with `prefix` (all of them, joined)."""
    deadline = time.time() + timeout
    lines = []
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if line.startswith(prefix):
            return "".join(lines)
    process.kill()
    raise AssertionError(f"no line starting {prefix!r}:\n{''.join(lines)}")


def test_kill_9_then_rerun_continues_then_sigterm_saves(tiny_data, tmp_path):
    output = tmp_path / "model"
    process = start_training(tiny_data, output, "--save_freq", "2")
    wait_for_step(process, output, 4)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    killed_at = latest_step(output)
    assert killed_at >= 4

    # the re-run continues from the last checkpoint, not from scratch
    rerun = start_training(tiny_data, output, "--save_freq", "1000")
    seen = read_until(rerun, f"step {killed_at + 2}/")
    assert f"resuming from step {killed_at}" in seen
    assert f"training from step {killed_at} to" in seen
    assert "step 1/" not in seen

    # SIGTERM: a checkpoint at the current step, then exit 128 + 15
    rerun.send_signal(signal.SIGTERM)
    out, _ = rerun.communicate(timeout=60)
    assert rerun.returncode == 128 + signal.SIGTERM, out
    assert "saving a checkpoint and stopping" in out
    assert latest_step(output) >= killed_at + 2
