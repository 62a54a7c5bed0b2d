"""A trained model directory: its config.json, its checkpoints, and loading the generator.

    generator, config, step = load_generator("$TRAIN_MODEL_PATH")

Layout: `config.json` (the resolved training config, including the classes and class
weights), `checkpoints/ckpt-N.*` (step, generator, discriminator, both optimisers),
`train/` and `eval/` (TensorBoard events; `eval/metrics.json` from ./eval.sh).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sciencebeam_gym import fs
from sciencebeam_gym.color_map import color_map_of_config
from sciencebeam_gym.trainer import config as config_module

CHECKPOINT_DIR = "checkpoints"


class ModelDirError(ValueError):
    """A model directory that cannot be loaded; the message says what is missing."""


def checkpoint_dir(model_dir: str) -> str:
    return fs.join(model_dir, CHECKPOINT_DIR)


def latest_checkpoint(model_dir: str) -> str | None:
    return tf.train.latest_checkpoint(checkpoint_dir(model_dir))


def make_checkpoint(step, generator, discriminator=None, gen_optimizer=None, disc_optimizer=None):
    """The tf.train.Checkpoint every tool reads and writes (same names everywhere)."""
    parts = {"step": step, "generator": generator}
    if discriminator is not None:
        parts["discriminator"] = discriminator
    if gen_optimizer is not None:
        parts["generator_optimizer"] = gen_optimizer
    if disc_optimizer is not None:
        parts["discriminator_optimizer"] = disc_optimizer
    return tf.train.Checkpoint(**parts)


def classes_colors(config: dict) -> np.ndarray:
    """(C, 3) uint8 colours of the classes saved in config.json."""
    return color_map_of_config(config).color_array


def classes_labels(config: dict) -> list[str]:
    return color_map_of_config(config).labels


def load_config(model_dir: str) -> dict:
    config = config_module.load_saved_config(model_dir)
    if config is None:
        raise ModelDirError(
            f"no {config_module.CONFIG_FILENAME} in {model_dir}: it is not a trained model "
            "directory (run ./train.sh first, or check TRAIN_MODEL_PATH / --model_path)"
        )
    return config


def load_generator(model_dir: str, checkpoint_path: str | None = None):
    """(keras generator, resolved config dict, step) restored from the latest checkpoint."""
    from sciencebeam_gym.trainer.model import build_models

    config = load_config(model_dir)
    checkpoint_path = checkpoint_path or latest_checkpoint(model_dir)
    if not checkpoint_path:
        raise ModelDirError(
            f"no checkpoint in {checkpoint_dir(model_dir)}; train first (./train.sh)"
        )
    generator, _ = build_models(config, color_map_of_config(config).num_classes)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = make_checkpoint(step, generator)
    try:
        checkpoint.restore(checkpoint_path).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        raise ModelDirError(
            f"the checkpoint {checkpoint_path} does not fit the model described by "
            f"{config_module.config_path(model_dir)}: {str(error).splitlines()[0]}"
        ) from error
    return generator, config, int(step.numpy())
