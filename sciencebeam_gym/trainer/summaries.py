"""What the user sees while training: progress lines, TensorBoard scalars and images.

TensorBoard tags (under `$TRAIN_MODEL_PATH/train` and `$TRAIN_MODEL_PATH/eval`):
- scalars `loss/gen_total`, `loss/gen_gan`, `loss/gen_base`, `loss/disc`, `learning_rate`,
  `images_per_sec`; evaluation: `eval/macro_f1`, `eval/pixel_accuracy`, `eval_f1/<label>`,
  and per group of pages `eval/<group>/macro_f1`, `eval/<group>/pixel_accuracy`
- images `input`, `target`, `output` (in the colour map's colours), `target_channels`,
  `output_channels` (one tile per class), `confusion_matrix`
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import BACKGROUND_LABEL, UNKNOWN_COLOR, UNKNOWN_INDEX, palette

SEPARATOR = 2


def color_class_index(class_index: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """(…, H, W) class index -> (…, H, W, 3) uint8 in the colour map's colours (UNKNOWN_INDEX:
    UNKNOWN_COLOR)."""
    table = np.concatenate([palette(colors), np.array([UNKNOWN_COLOR], dtype=np.uint8)])
    index = np.asarray(class_index, dtype=np.int64)
    return table[np.where(index == UNKNOWN_INDEX, len(table) - 1, index)]


def page_to_uint8(page: np.ndarray) -> np.ndarray:
    """[-1, 1] float page -> uint8."""
    return np.clip((np.asarray(page, dtype=np.float32) + 1.0) * 127.5, 0, 255).astype(np.uint8)


def tile_channels(channels: np.ndarray, max_tile: int = 128) -> np.ndarray:
    """(H, W, C) values in [0, 1] -> one (rows, cols, 1) uint8 grey image, a tile per channel."""
    channels = np.asarray(channels, dtype=np.float32)
    height, width, count = channels.shape
    step = max(1, math.ceil(max(height, width) / max_tile))
    channels = channels[::step, ::step]
    height, width = channels.shape[:2]
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = np.full(
        (rows * (height + SEPARATOR) - SEPARATOR, columns * (width + SEPARATOR) - SEPARATOR),
        64,
        dtype=np.uint8,
    )
    for index in range(count):
        top = (index // columns) * (height + SEPARATOR)
        left = (index % columns) * (width + SEPARATOR)
        tile = np.clip(channels[..., index], 0, 1) * 255
        grid[top : top + height, left : left + width] = tile.astype(np.uint8)
    return grid[..., None]


def confusion_matrix_image(matrix: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """A row-normalised confusion matrix drawn with labels, as an (H, W, 3) uint8 image."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    matrix = np.asarray(matrix, dtype=np.float64)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    names = [BACKGROUND_LABEL, *labels]
    figure, axes = plt.subplots(figsize=(9, 8), dpi=80)
    axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(names)))
    axes.set_yticks(range(len(names)))
    axes.set_xticklabels(names, rotation=90, fontsize=7)
    axes.set_yticklabels(names, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (rows normalised)")
    for i in range(len(names)):
        if rows[i, 0] > 0:
            value = normalised[i, i]
            axes.text(
                i,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=5,
                color="white" if value > 0.5 else "black",
            )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return tf.io.decode_png(buffer.getvalue(), channels=3).numpy()


def write_scalars(writer, step: int, values: dict[str, float], prefix: str = "") -> None:
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(prefix + name, float(value))
    writer.flush()


def write_images(writer, step: int, images: dict[str, np.ndarray], max_outputs: int = 3) -> None:
    """uint8 images, (N, H, W, C) or (H, W, C)."""
    with writer.as_default(step=step):
        for name, image in images.items():
            image = np.asarray(image)
            if image.ndim == 3:
                image = image[None]
            tf.summary.image(name, image, max_outputs=max_outputs)
    writer.flush()


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def progress_line(
    step: int, max_steps: int, losses: dict[str, float], images_per_sec: float, eta_secs: float
) -> str:
    """`step 150/1000 gen_total 0.8120 ... 12.3 img/s ETA 11m05s`."""
    parts = [f"step {step}/{max_steps}"]
    parts += [f"{name} {value:.4f}" for name, value in losses.items()]
    parts += [f"{images_per_sec:.1f} img/s", f"ETA {format_duration(eta_secs)}"]
    return "  ".join(parts)
