"""The trainer's CLI -> ./save-model.sh -> ./predict.sh, each in its own process, as a user runs them.

The SavedModel, loaded in a fresh process, must give the checkpoint's predictions.
"""

from __future__ import annotations

import io
import json
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sciencebeam_gym import model_contract, records
from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.records import COMPLETION_REPORT_NAME as REPORT_NAME
from sciencebeam_gym.serving.inference import class_probabilities
from sciencebeam_gym.serving.metadata import ModelInfo
from sciencebeam_gym.trainer import model_dir

from .conftest import REPO_ROOT, assert_same_classes, draw_page, run_module
from .test_export import FRESH_PROCESS_PREDICT, run_module_script

SIZE = 32


def encode(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def write_records(path, count: int, seed: int) -> None:
    """Tiny records in the preprocess format: a title bar and a paragraph per page."""
    colors = load_color_map(default_color_map_path()).colors
    rng = np.random.default_rng(seed)
    with tf.io.TFRecordWriter(str(path), records.COMPRESSION) as writer:
        for index in range(count):
            page = np.full((SIZE, SIZE, 3), 255, np.uint8)
            annotation = np.zeros((SIZE, SIZE, 3), np.uint8)
            top = int(rng.integers(1, 8))
            page[top : top + 4, 4:28] = 20
            annotation[top : top + 4, 4:28] = colors[8]  # manuscript_title
            page[16:28:2, 4:28] = 80
            annotation[16:28, 4:28] = colors[11]  # section_paragraph
            writer.write(
                records.encode_pair(
                    f"page{index}.png", f"page{index}.annot.png", encode(page), encode(annotation)
                )
            )


def run_script(script: str, *args, root) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        LOCAL_PATH_ROOT=str(root),
        GYM_CONFIG_FILE=str(root / "no.config"),
        GYM_QUIET="true",
        JOB_ID="test",
    )
    return subprocess.run(
        [str(REPO_ROOT / script), *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_train_export_predict(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    write_records(records / "train-00000-of-00001.tfrecord.gz", 4, seed=1)
    write_records(records / "test-00000-of-00001.tfrecord.gz", 2, seed=2)
    (records / REPORT_NAME).write_text('{"status": "ok"}')  # a finished preprocessing run
    # the paths prepare-shell.sh derives from LOCAL_PATH_ROOT
    training = tmp_path / "pix2pix" / "v4-default" / "training"
    export = tmp_path / "pix2pix" / "v4-default" / "export"
    result = run_module(
        "sciencebeam_gym.trainer.task",
        "--preset",
        "smoke",
        "--image_size",
        str(SIZE),
        "--max_steps",
        "2",
        "--train_data_paths",
        str(records / "train*"),
        "--eval_data_paths",
        str(records / "test*"),
        "--output_path",
        str(training),
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    # predict.sh before any export: from the checkpoint
    page = tmp_path / "page.png"
    draw_page(120, 150, seed=3).save(page)
    result = run_script("predict.sh", page, tmp_path / "from-checkpoint.png", root=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checkpoints/ckpt-2" in result.stderr

    result = run_script("save-model.sh", root=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (export / "saved_model.pb").is_file() and (export / "metadata.json").is_file()

    # predict.sh now finds the export by itself
    result = run_script("predict.sh", page, "--overlay", root=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert str(export) in result.stderr
    painted = tmp_path / "page.out.png"
    assert Image.open(painted).size == (120, 150)
    assert (tmp_path / "page.overlay.png").is_file()
    assert painted.read_bytes() == (tmp_path / "from-checkpoint.png").read_bytes()

    # raw outputs: the SavedModel in a fresh process vs the restored checkpoint run eagerly
    pages = np.stack([np.asarray(draw_page(SIZE, SIZE, seed=s)) for s in range(3)])
    np.save(tmp_path / "pages.npy", pages)
    script = tmp_path / "load_and_predict.py"
    script.write_text(FRESH_PROCESS_PREDICT)
    result = run_module_script(script, export, tmp_path / "pages.npy", tmp_path / "out.npz")
    assert result.returncode == 0, result.stderr[-3000:]
    served = np.load(tmp_path / "out.npz")
    generator, config, step = model_dir.load_generator(str(training))
    assert step == 2
    raw = generator(tf.cast(pages, tf.float32) / 127.5 - 1.0, training=False)
    classes = model_contract.predict_class_index(
        raw,
        config["base_loss"],
        config["use_separate_channels"],
        model_dir.classes_colors(config),
        model_contract.logit_offsets(config),
    ).numpy()
    probabilities = class_probabilities(raw, ModelInfo.from_config(config)).numpy()
    assert_same_classes(served["classes"], classes, probabilities)
    np.testing.assert_allclose(served["probabilities"], probabilities, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_portrait_pages_train_export_predict_and_extract_in_process(tmp_path, capsys):
    """64 x 96 records -> a few training steps -> export -> predict and extraction at W x H."""
    from sciencebeam_gym.extract import load_model
    from sciencebeam_gym.serving import export, predict
    from sciencebeam_gym.trainer import task
    from tests.trainer import fixtures

    width, height = 64, 96
    color_map = fixtures.write_color_map(tmp_path)
    colors = load_color_map(color_map).color_array
    train = fixtures.write_split(tmp_path / "train", 1, 4, (width, height), colors, seed=1)
    test = fixtures.write_split(tmp_path / "test", 1, 2, (width, height), colors, seed=2)
    training, exported = tmp_path / "training", tmp_path / "export"
    flags = ["--preset", "smoke", "--ngf", "4", "--ndf", "4", "--color_map", color_map]
    flags += ["--train_data_paths", train, "--eval_data_paths", test]
    flags += ["--max_steps", "2", "--bn_recalibration_batches", "0", "--gan_weight", "0"]
    square = ["--output_path", str(tmp_path / "square"), "--image_size", "64"]
    assert task.main([*flags, *square]) == 2
    assert "records of 64 x 96 but the trainer's image_width x image_height is 64 x 64" in (
        capsys.readouterr().err
    )
    portrait = ["--output_path", str(training), "--image_width", "64", "--image_height", "96"]
    assert task.main([*flags, *portrait]) == 0
    saved = model_dir.load_config(str(training))
    assert (saved["image_size"], saved["image_width"], saved["image_height"]) == (0, 64, 96)

    assert export.main(["--model_path", str(training), "--export_path", str(exported)]) == 0
    metadata = json.loads((exported / "metadata.json").read_text())
    assert ModelInfo.from_metadata(metadata).input_size == (64, 96)
    assert (metadata["image_width"], metadata["image_height"]) == (64, 96)
    assert "image_size" not in metadata  # a square's shorthand only

    page = tmp_path / "page.png"
    draw_page(130, 170, seed=3).save(page)
    assert predict.main([str(page), "--saved_model", str(exported)]) == 0
    assert Image.open(tmp_path / "page.out.png").size == (130, 170)
    class_maps = load_model(str(exported)).label_pages([Image.open(page)])
    assert class_maps[0].shape == (height, width)
