"""Fixtures of the export and predict tests: a tiny trained-model folder, its export, pages."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from sciencebeam_gym.color_map import default_color_map_path, load_color_map

IMAGE_SIZE = 32
REPO_ROOT = Path(__file__).resolve().parents[2]


def sharpen_output(generator, factor: float = 30.0) -> None:
    """Scale the last layer's weights: an untrained generator's outputs all sit near zero, so
    its classes would be near-ties that float rounding decides; scaled, they are decisive."""
    layer = generator.get_layer("output")
    layer.kernel.assign(layer.kernel * factor)


def make_model_dir(path: Path, base_loss: str = "cross_entropy", separate: bool = True) -> Path:
    """A training folder as the trainer leaves it: config.json and one checkpoint.

    The generator's batch-norm statistics are moved by one training-mode call, so the model
    answers differently on different pages.
    """
    import keras
    import tensorflow as tf

    from sciencebeam_gym.trainer import config as config_module
    from sciencebeam_gym.trainer import model, model_dir

    keras.utils.set_random_seed(5)

    color_map = load_color_map(default_color_map_path())
    config = config_module.resolve_config(
        "smoke",
        {
            "image_size": IMAGE_SIZE,
            "ngf": 4,
            "ndf": 4,
            "base_loss": base_loss,
            "use_separate_channels": separate,
            "gan_weight": 0.0,
            "color_map": default_color_map_path(),
        },
    )
    config["classes"] = [
        {"key": c.key, "label": c.label, "color": list(c.color)} for c in color_map.classes
    ]
    config_module.save_config(str(path), config)
    generator, _ = model.build_models(config, color_map.num_classes)
    pages = tf.random.stateless_uniform([4, IMAGE_SIZE, IMAGE_SIZE, 3], seed=[1, 2]) * 2 - 1
    generator(pages, training=True)
    sharpen_output(generator)
    step = tf.Variable(7, dtype=tf.int64)
    checkpoint = model_dir.make_checkpoint(step, generator)
    checkpoint.save(os.path.join(model_dir.checkpoint_dir(str(path)), "ckpt"))
    return path


def draw_page(width: int = 90, height: int = 120, seed: int = 0) -> Image.Image:
    """A page-like RGB image: white, a title bar, text lines and a grey figure, placed by seed."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    top = int(rng.integers(1, max(2, height // 8)))
    draw.rectangle([2, top, width - int(rng.integers(3, width // 3)), top + 4], fill=(20, 20, 20))
    for y in range(top + 8, height - height // 4, 4):
        draw.line([2, y, width - 2 - int(rng.integers(0, width // 3)), y], fill=(60, 60, 60))
    left = int(rng.integers(1, width // 3))
    draw.rectangle(
        [left, height - height // 5, left + width // 2, height - 2], fill=(150, 150, 150)
    )
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def run_module(module: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """`python -m module args` in a fresh process, from the repository root."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def float32_policy():
    """Models built here in float32, whatever an in-process training left as the global policy."""
    import keras

    keras.mixed_precision.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("training"))


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained_dir) -> Path:
    from sciencebeam_gym.serving import export

    path = tmp_path_factory.mktemp("exports") / "export"
    assert export.main(["--model_path", str(trained_dir), "--export_path", str(path)]) == 0
    return path


@pytest.fixture
def page_file(tmp_path) -> Path:
    path = tmp_path / "doc-page1.png"
    draw_page().save(path)
    return path


@pytest.fixture
def other_color_map(tmp_path) -> Path:
    path = tmp_path / "other_color_map.conf"
    path.write_text("[color_map]\n1=(255,0,0)\n2=(0,255,0)\n[color_labels]\n1=title\n2=body\n")
    return path


def decided(probabilities: np.ndarray, margin: float = 1e-6) -> np.ndarray:
    """Pixels whose best class beats the second by more than float rounding could move."""
    top = np.sort(probabilities, axis=-1)
    return top[..., -1] - top[..., -2] > margin


def assert_same_classes(actual: np.ndarray, expected: np.ndarray, probabilities: np.ndarray):
    """Identical classes wherever the scores decide; near-ties (rare, untrained models) aside."""
    sure = decided(probabilities)
    assert sure.mean() > 0.9, f"only {sure.mean():.1%} of the pixels are decided"
    np.testing.assert_array_equal(actual[sure], expected[sure])


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
