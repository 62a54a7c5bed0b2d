"""A trained model directory: its config.json, its checkpoints, and loading the generator.

    generator, config, step = load_generator("$TRAIN_MODEL_PATH")

Layout: `config.json` (the resolved training config, including the classes and class
weights), `checkpoints/ckpt-N.*` (step, generator, discriminator, both optimisers; elsewhere
when config.json names a `checkpoint_path`), `train/` and `eval/` (TensorBoard events;
`eval/metrics.json` from ./eval.sh).

Every tool finds its checkpoint through `latest_checkpoint`, which reads each candidate whole
(sizes and checksums) newest first and falls back past damaged ones with a warning naming them.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import color_map_of_config
from sciencebeam_gym.storage import fs
from sciencebeam_gym.trainer import config as config_module

CHECKPOINT_DIR = "checkpoints"


class ModelDirError(ValueError):
    """A model directory that cannot be loaded; the message says what is missing."""


def checkpoint_dir(model_dir: str) -> str:
    return fs.join(model_dir, CHECKPOINT_DIR)


def checkpoints_of(model_dir: str) -> str:
    """The checkpoint folder of a trained model directory (config.json may name another)."""
    config = config_module.load_saved_config(model_dir) or {}
    return config.get("checkpoint_path") or checkpoint_dir(model_dir)


def latest_checkpoint(model_dir: str) -> str | None:
    """The newest checkpoint of the model directory that reads whole (None: none at all)."""
    return readable_checkpoint(checkpoints_of(model_dir))


def checkpoint_step(path: str) -> int:
    match = re.search(r"-(\d+)$", path)
    return int(match.group(1)) if match else -1


def checkpoint_candidates(folder: str) -> list[str]:
    """Checkpoint prefixes in `folder`, newest (highest step) first."""
    if not tf.io.gfile.isdir(folder):
        return []
    prefixes = [p[: -len(".index")] for p in tf.io.gfile.glob(fs.join(folder, "*.index"))]
    return sorted(prefixes, key=checkpoint_step, reverse=True)


def checkpoint_problem(path: str) -> str | None:
    """Why the checkpoint cannot be read (every tensor is read and checksummed), or None."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_dtype_map():
            reader.get_tensor(name)
    except Exception as error:  # noqa: BLE001 - truncated files raise IndexError, others OpError
        text = getattr(error, "message", None) or str(error) or type(error).__name__
        return text.strip().splitlines()[0][:300]
    return None


def readable_checkpoint(folder: str) -> str | None:
    """The newest checkpoint in `folder` that reads; each damaged newer one is named."""
    damaged = []
    for path in checkpoint_candidates(folder):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        print(
            f"warning: the checkpoint {path} is damaged ({problem}); trying the one before it",
            file=sys.stderr,
            flush=True,
        )
        damaged.append(path)
    if damaged:
        raise ModelDirError(
            f"every checkpoint in {folder} is damaged ({', '.join(damaged)}); restore them "
            "from a copy, or remove them to train from scratch"
        )
    return None


def remove_partial_saves(folder: str) -> list[str]:
    """Remove `ckpt-N_temp` folders that a save cut short (a kill, a full disk) left behind.

    Only while holding the output folder's lock: another run's save in progress looks alike.
    """
    leftovers = [p for p in tf.io.gfile.glob(fs.join(folder, "*_temp")) if tf.io.gfile.isdir(p)]
    for path in leftovers:
        tf.io.gfile.rmtree(path)
        print(f"[checkpoint] removed {path}, left by an interrupted save", file=sys.stderr)
    return leftovers


def restore_checkpoint(checkpoint, path: str, error_type=None, partial: bool = False) -> None:
    """Restore `path` into `checkpoint`; `error_type` (ModelDirError) when it does not fit."""
    try:
        status = checkpoint.restore(path)
        if partial:
            status = status.expect_partial()
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as error:
        raise (error_type or ModelDirError)(
            f"cannot restore {path}: it does not fit this model or cannot be read "
            f"({str(error).splitlines()[0][:300] if str(error) else type(error).__name__}); "
            "use the output path it was trained in, or another output path for a new model"
        ) from error


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
            f"no checkpoint in {checkpoints_of(model_dir)}; train first (./train.sh)"
        )
    generator, _ = build_models(config, color_map_of_config(config).num_classes)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = make_checkpoint(step, generator)
    restore_checkpoint(checkpoint, checkpoint_path, partial=True)
    return generator, config, int(step.numpy())
