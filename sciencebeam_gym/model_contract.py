"""The generator's contract, read by the trainer that makes a model and by serving that runs it.

    images = to_unit_range(pages_uint8)                       # what the generator takes
    classes = predict_class_index(generator(images), config["base_loss"],
                                  config["use_separate_channels"], colors, logit_offsets(config))
    width, height = image_size_of(config)                     # the size it takes them at

The trainer's config.json (or an export's metadata) holds the settings named here; a model
directory is loaded with `trainer.model_dir`. Nothing here knows how a model is trained.
TensorFlow is imported by the functions that run on tensors only: the trainer's flags and
configuration are read (and --help answered) before it loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sciencebeam_gym.color_map import palette

if TYPE_CHECKING:
    import tensorflow as tf

# Losses whose generator outputs logits over background + classes (the others: tanh channels).
CROSS_ENTROPY_LOSSES = ("cross_entropy", "weighted_cross_entropy")
# A weighted cross-entropy model's logits are shifted by -adjustment x log(class weight)
# (see `logit_offsets`); the trainer's default, and the value for a config.json without it.
DEFAULT_LOGIT_ADJUSTMENT = 1.0


def to_unit_range(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]: the generator's input (and an RGB target's) scale."""
    import tensorflow as tf

    return tf.cast(image, tf.float32) / 127.5 - 1.0


def is_cross_entropy(base_loss: str) -> bool:
    return base_loss in CROSS_ENTROPY_LOSSES


def width_height(size: int | Sequence[int]) -> tuple[int, int]:
    """(width, height) of a size given as one side (square) or as (width, height)."""
    if isinstance(size, int):
        return size, size
    width, height = size
    return int(width), int(height)


def image_size_of(config: dict) -> tuple[int, int]:
    """(width, height) of the model input; a config with image_size alone is square.
    KeyError when it holds neither."""
    side = config.get("image_size") or 0
    width, height = config.get("image_width") or side, config.get("image_height") or side
    if not (width and height):
        raise KeyError("image_size")
    return int(width), int(height)


def logit_offsets(config: dict) -> np.ndarray | None:
    """(1 + C,) float32 added to a weighted cross-entropy model's logits before use, or None.

    Class weights in the loss act as a prior that favours the small classes: the trained
    softmax estimates p(class | page) x weight, normalised, so borders bleed into small classes
    (recall above precision). Adding -logit_adjustment x log(weight) to the logits undoes that
    prior ("logit adjustment", Menon et al., 2021): the model keeps what the weights taught it,
    and its argmax and probabilities estimate the unweighted posterior again.
    """
    weights = config.get("class_weight_values")
    adjustment = float(config.get("logit_adjustment", DEFAULT_LOGIT_ADJUSTMENT))
    if config.get("base_loss") != "weighted_cross_entropy" or not weights or adjustment == 0:
        return None
    return (-adjustment * np.log(np.asarray(weights, dtype=np.float64))).astype(np.float32)


def adjusted_logits(output: tf.Tensor, offsets: np.ndarray | None) -> tf.Tensor:
    """float32 logits with the logit offsets (if any) added."""
    import tensorflow as tf

    output = tf.cast(output, tf.float32)
    return output if offsets is None else output + tf.constant(offsets, tf.float32)


def predict_class_index(
    output: tf.Tensor,
    base_loss: str,
    separate_channels: bool,
    colors: np.ndarray,
    offsets: np.ndarray | None = None,
) -> tf.Tensor:
    """Generator output -> (…, H, W) int32 class index: 0 background, i + 1 for class i.

    `offsets` (from `logit_offsets`) shift a cross-entropy model's logits before the argmax.
    """
    import tensorflow as tf

    output = tf.cast(output, tf.float32)
    if is_cross_entropy(base_loss):
        return tf.argmax(adjusted_logits(output, offsets), axis=-1, output_type=tf.int32)
    if separate_channels:
        best = tf.argmax(output, axis=-1, output_type=tf.int32) + 1
        return tf.where(tf.reduce_max(output, axis=-1) > 0.0, best, 0)
    return nearest_color_index((output + 1.0) * 127.5, colors)


def nearest_color_index(rgb: tf.Tensor, colors: np.ndarray) -> tf.Tensor:
    """(…, 3) RGB values -> index of the nearest of [black] + colours."""
    import tensorflow as tf

    colors = tf.constant(palette(colors).astype(np.float32))
    distances = tf.reduce_sum(tf.square(tf.cast(rgb, tf.float32)[..., None, :] - colors), -1)
    return tf.argmin(distances, axis=-1, output_type=tf.int32)
