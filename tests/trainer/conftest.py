"""Tiny data for the trainer tests: 32 x 32 pages, three classes, gzipped TFRecords."""

from __future__ import annotations

import numpy as np
import pytest

from sciencebeam_gym.color_map import load_color_map
from tests.trainer import fixtures

IMAGE_SIZE = 32


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """{"color_map", "colors", "train", "test"}: paths of a tiny corpus, written once."""
    root = tmp_path_factory.mktemp("tiny-data")
    color_map_path = fixtures.write_color_map(root)
    colors = load_color_map(color_map_path).color_array
    return {
        "color_map": color_map_path,
        "colors": colors,
        "train": fixtures.write_split(root / "train", 2, 6, IMAGE_SIZE, colors, seed=0),
        "test": fixtures.write_split(root / "test", 1, 4, IMAGE_SIZE, colors, seed=100),
    }


def train_args(tiny_data, output_path, *extra) -> list[str]:
    """Trainer flags for a few steps on the tiny corpus."""
    return [
        "--preset",
        "smoke",
        "--image_size",
        str(IMAGE_SIZE),
        "--ngf",
        "4",
        "--ndf",
        "4",
        "--color_map",
        tiny_data["color_map"],
        "--train_data_paths",
        tiny_data["train"],
        "--eval_data_paths",
        tiny_data["test"],
        "--output_path",
        str(output_path),
        *extra,
    ]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
