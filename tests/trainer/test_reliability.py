"""Unlucky runs: a busy folder, damaged checkpoints, corrupt records, leftovers, a full disk,
and Vertex AI's output folders (real training on the tiny corpus)."""

import glob
import gzip
import os
import shutil
import subprocess
import sys

import pytest

from sciencebeam_gym.trainer import class_weights, evaluate_checkpoint, model_dir, task
from sciencebeam_gym.trainer.data import DataError
from tests.trainer import fixtures
from tests.trainer.conftest import IMAGE_SIZE, train_args

HOLD_SCRIPT = """
import sys, time
from sciencebeam_gym.storage import folder_lock
folder_lock.acquire(sys.argv[1], "training")
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """A model trained for 4 steps: checkpoints at steps 2 and 4."""
    output = tmp_path_factory.mktemp("model")
    assert task.main(train_args(tiny_data, output)) == 0
    return output


def copy_of(trained, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained, copy)
    return copy


def data_file(model, step):
    return glob.glob(str(model / "checkpoints" / f"ckpt-{step}.data-*"))[0]


def truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)


def overwrite_middle(path):
    with open(path, "r+b") as handle:
        handle.seek(os.path.getsize(path) // 3)
        handle.write(b"\xff" * 512)


def test_second_training_on_a_held_folder_is_refused_naming_the_holder(tiny_data, tmp_path, capsys):
    output = tmp_path / "model"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(output)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert task.main(train_args(tiny_data, output)) == 2
        err = capsys.readouterr().err
        assert "in use by another run" in err and f"PID {holder.pid}" in err
        assert not (output / "checkpoints").exists() and not (output / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("damage", [truncate, overwrite_middle])
def test_damaged_latest_checkpoint_falls_back_for_every_tool(trained, tmp_path, damage):
    model = copy_of(trained, tmp_path)
    damage(data_file(model, 4))
    # export finds its checkpoint through latest_checkpoint too
    assert model_dir.latest_checkpoint(str(model)).endswith("ckpt-2")
    _generator, _config, step = model_dir.load_generator(str(model))
    assert step == 2


def test_damaged_checkpoint_training_resumes_from_the_one_before_and_cleans_leftovers(
    trained, tiny_data, tmp_path, capsys
):
    model = copy_of(trained, tmp_path)
    truncate(data_file(model, 4))
    leftover = model / "checkpoints" / "ckpt-6_temp"
    leftover.mkdir()
    (leftover / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"half a save")
    assert task.main([*train_args(tiny_data, model), "--max_steps", "6"]) == 0
    err = capsys.readouterr().err
    assert f"the checkpoint {model / 'checkpoints' / 'ckpt-4'} is damaged" in err
    assert "resuming from step 2" in err
    assert not leftover.exists() and "interrupted save" in err
    assert model_dir.latest_checkpoint(str(model)).endswith("ckpt-6")


def test_damaged_checkpoint_eval_falls_back_and_all_damaged_is_one_clear_error(
    trained, tiny_data, tmp_path, capsys
):
    model = copy_of(trained, tmp_path)
    overwrite_middle(data_file(model, 4))
    args = ["--model_path", str(model), "--eval_data_paths", tiny_data["test"]]
    assert evaluate_checkpoint.main(args) == 0
    err = capsys.readouterr().err
    assert "ckpt-4 is damaged" in err and "[eval] step 2 of" in err
    truncate(data_file(model, 2))
    assert evaluate_checkpoint.main(args) == 2
    err = capsys.readouterr().err
    assert "every checkpoint" in err and "ckpt-2" in err and "Traceback" not in err


def write_corrupt_split(tmp_path, colors):
    """A good shard and one whose third record is overwritten (a DataLossError in TF)."""
    folder = tmp_path / "corrupt"
    folder.mkdir()
    good = folder / "good.tfrecord.gz"
    fixtures.write_records(good, 4, IMAGE_SIZE, colors)
    raw = bytearray(gzip.decompress(good.read_bytes()))
    raw[2 * len(raw) // 4 + 20 : 2 * len(raw) // 4 + 60] = b"\x00" * 40
    bad = folder / "bad.tfrecord.gz"
    bad.write_bytes(gzip.compress(bytes(raw)))
    return str(bad), str(folder / "*.tfrecord.gz")


def test_class_weight_pass_names_the_corrupt_file_or_skips_it(tiny_data, tmp_path):
    from sciencebeam_gym.color_map import load_color_map

    bad, pattern = write_corrupt_split(tmp_path, tiny_data["colors"])
    files = sorted(glob.glob(pattern))
    color_map = load_color_map(tiny_data["color_map"])
    with pytest.raises(DataError) as raised:
        class_weights.calculate_class_weights(files, color_map)
    assert bad in str(raised.value) and "record 3" in str(raised.value)
    assert "--skip_corrupt_records" in str(raised.value)
    document = class_weights.calculate_class_weights(files, color_map, skip_corrupt=True)
    assert 4 + 2 <= document["image_counts"][0] < 8


def test_fresh_training_on_corrupt_records_stops_naming_the_file(tiny_data, tmp_path, capsys):
    bad, pattern = write_corrupt_split(tmp_path, tiny_data["colors"])
    args = train_args(tiny_data, tmp_path / "model", "--max_steps", "2", "--allow_incomplete_data")
    args[args.index("--train_data_paths") + 1] = pattern
    assert task.main(args) == 2
    err = capsys.readouterr().err
    assert bad in err and "Traceback" not in err
    assert task.main([*args, "--skip_corrupt_records"]) == 0


def test_vertex_ai_folders_receive_the_output_checkpoints_and_events(
    tiny_data, tmp_path, monkeypatch
):
    folders = {name: tmp_path / name for name in ("model", "checkpoints", "logs")}
    monkeypatch.setenv("AIP_MODEL_DIR", str(folders["model"]))
    monkeypatch.setenv("AIP_CHECKPOINT_DIR", str(folders["checkpoints"]))
    monkeypatch.setenv("AIP_TENSORBOARD_LOG_DIR", str(folders["logs"]))
    args = train_args(tiny_data, "unused")
    del args[args.index("--output_path") : args.index("--output_path") + 2]
    assert task.main(args) == 0
    assert (folders["model"] / "config.json").exists()
    assert not (folders["model"] / "checkpoints").exists()
    assert sorted(p.name for p in folders["checkpoints"].glob("ckpt-*.index")) == [
        "ckpt-2.index",
        "ckpt-4.index",
    ]
    assert glob.glob(str(folders["logs"] / "train" / "events.out.tfevents.*"))
    assert glob.glob(str(folders["logs"] / "eval" / "events.out.tfevents.*"))
    # the model folder alone is enough for the other tools
    assert model_dir.latest_checkpoint(str(folders["model"])).endswith("ckpt-4")


def test_an_explicit_flag_wins_over_vertex_ai_folders():
    env = {"AIP_MODEL_DIR": "gs://b/model", "AIP_CHECKPOINT_DIR": "gs://b/checkpoints"}
    found = task.vertex_defaults({"output_path": "mine"}, env)
    assert found == {"checkpoint_path": "gs://b/checkpoints"}


@pytest.fixture
def small_disk(tmp_path):
    """A 1.5 MB tmpfs (root only): room for one tiny checkpoint, not for two."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root: " + result.stderr.decode()[:100])
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_stops_with_one_line_naming_the_folder(tiny_data, small_disk, capfd):
    output = small_disk / "model"
    assert task.main(train_args(tiny_data, output, "--max_steps", "40", "--save_freq", "2")) == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "no space left" in lines[0] and str(output) in lines[0]
    latest = model_dir.latest_checkpoint(str(output))  # the old checkpoint is intact
    assert latest is not None


def test_training_into_a_read_only_folder_is_one_line_naming_it(tiny_data, tmp_path, capsys):
    from tests.read_only import read_only

    with read_only(tmp_path / "models") as folder:
        assert task.main(train_args(tiny_data, folder / "model")) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and "OSError" not in error
    assert f"{folder / 'model'}" in error and "cannot be written" in error
