"""The trainer's configuration: defaults in one place, named presets, checked overrides.

    python -m sciencebeam_gym.trainer.task --preset quick --ngf 16 ...

Resolution order: DEFAULTS <- PRESETS[preset] <- explicit overrides (flags, TRAINING_ARGS).
Every override is type-checked against its default and unknown keys are refused. The resolved
config is saved as `config.json` in the model directory, so evaluation, export and prediction
read it instead of asking again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sciencebeam_gym.color_map import CONFIG_CLASSES_KEY, ColorMap
from sciencebeam_gym.model_contract import DEFAULT_LOGIT_ADJUSTMENT, image_size_of, width_height
from sciencebeam_gym.records import DEFAULT_IMAGE_SIZE
from sciencebeam_gym.storage import fs

CONFIG_FILENAME = "config.json"

DEFAULTS: dict[str, Any] = {
    # --- data -------------------------------------------------------------------------------
    # sources of gzipped TFRecord shards, GLOB[,GLOB...][:WEIGHT] each (repeatable flag); several
    # are mixed by weight (doc/training.md, "Training on several sources")
    "train_data_paths": [],
    "eval_data_paths": [],  # globs of the evaluation shards
    "output_path": "",  # model directory: checkpoints, config.json, TensorBoard events
    # empty: <output_path>/checkpoints; on Vertex AI AIP_CHECKPOINT_DIR when it is set
    "checkpoint_path": "",
    # empty: train/ and eval/ under <output_path>; on Vertex AI AIP_TENSORBOARD_LOG_DIR
    "tensorboard_path": "",
    "color_map": "",  # color_map.conf; empty: the one shipped with the toolkit
    "use_separate_channels": True,  # one output channel per class (else RGB output)
    # the model input, W x H: records are decoded and checked against it. image_size sets both
    # sides (square); image_width / image_height, when not 0, set their side and win over it.
    # Both must be multiples of SIZE_MULTIPLE. Resolved: image_size is the side when square,
    # else 0; a config.json with image_size alone (older models) is square.
    "image_size": DEFAULT_IMAGE_SIZE,
    "image_width": 0,
    "image_height": 0,
    "shuffle_buffer": 256,  # examples held for shuffling
    "skip_corrupt_records": False,  # skip unreadable records instead of stopping
    # train on record folders without preprocess-report.json (interrupted or foreign runs)
    "allow_incomplete_data": False,
    "augment": 0.1,  # training pages stretched and shifted by up to this fraction (0: off)
    # --- model ------------------------------------------------------------------------------
    "model": "pix2pix",
    "ngf": 64,  # generator filters in the first layer
    "ndf": 64,  # discriminator filters in the first layer
    # --- loss -------------------------------------------------------------------------------
    # weighted_cross_entropy measured best (doc/measurements.md); L1 is the original's loss
    "base_loss": "weighted_cross_entropy",  # L1 | cross_entropy | weighted_cross_entropy
    "l1_weight": 100.0,  # weight of the base loss (named as in the original)
    "gan_weight": 1.0,  # weight of the GAN loss; 0 trains the generator alone
    "class_weights": "",  # JSON from calculate-class-weights.sh; empty: computed at start
    "class_weights_max_records": 2000,  # records read when computing weights at start
    "class_weights_power": 0.5,  # weights ** power: 0.5 softens median-frequency weights
    # predictions subtract adjustment x log(class weight) from the logits: 1 undoes the bias the
    # weights give towards small classes (macro F1 0.818 -> 0.859, doc/measurements.md); 0: off
    "logit_adjustment": DEFAULT_LOGIT_ADJUSTMENT,
    # --- optimiser --------------------------------------------------------------------------
    "lr": 0.0002,
    "beta1": 0.5,
    "lr_decay_start": 1.0,  # fraction of max_steps after which lr falls linearly to 0 (1: never)
    "precision": "auto",  # auto | float32 | mixed_bfloat16 | mixed_float16
    "seed": 1,
    # --- task -------------------------------------------------------------------------------
    "batch_size": 10,  # global batch, split across replicas
    "eval_set_size": 10,  # evaluation pages per evaluation during training; 0: all
    # before evaluations and checkpoints, batch-norm statistics are recomputed over this many
    # training batches with the current weights (precise batch norm); 0: keep moving averages
    "bn_recalibration_batches": 25,
    "max_steps": 1000,
    "save_max_to_keep": 3,
    "log_freq": 50,  # steps between progress lines and TensorBoard scalars
    "eval_freq": 500,  # steps between evaluations (metrics + images)
    "save_freq": 500,  # steps between checkpoints
    "log_interval_secs": 600,  # also log when this many seconds passed (0: off)
    "eval_interval_secs": 300,
    "save_interval_secs": 300,
}

# Keys that fix the shape of the network: a checkpoint only resumes with the same values.
MODEL_SHAPE_KEYS = (
    *("model", "ngf", "ndf", "base_loss", "use_separate_channels"),
    *("image_width", "image_height"),
)
# Both sides of the model input must be multiples of this: the U-Net halves the page at least
# 5 times (and up to 8, as far as both sides stay whole; model.generator_depth).
SIZE_MULTIPLE = 32

BASE_LOSSES = ("L1", "cross_entropy", "weighted_cross_entropy")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")

# Named budgets: `TRAINING_PRESET=quick` in .config selects one; TRAINING_ARGS override it.
# The values were chosen by measurement on the sample corpus (see doc/measurements.md).
QUICK_PRESET: dict[str, Any] = {
    # ngf 16 runs ~3.5x more steps than ngf 32 in the same time: 0.818 against 0.756 (before
    # logit adjustment; 0.859 with it)
    "ngf": 16,
    "ndf": 16,
    "base_loss": "weighted_cross_entropy",
    "class_weights_power": 0.5,
    "gan_weight": 0.0,  # the GAN term added no F1 at this budget (doc/measurements.md)
    "l1_weight": 1.0,
    "lr": 0.002,
    "beta1": 0.9,
    "lr_decay_start": 0.5,
    "augment": 0.1,
    "batch_size": 8,
    "max_steps": 3000,
    "log_freq": 50,
    "eval_freq": 500,
    "save_freq": 500,
    "eval_set_size": 0,
}

PRESETS: dict[str, dict[str, Any]] = {
    # about 8 minutes on 2 CPU cores at 256 x 256: the quick start's budget
    "quick": QUICK_PRESET,
    # about 45 minutes on 2 CPU cores with 512 x 512 records (IMAGE_WIDTH=IMAGE_HEIGHT=512 before
    # ./preprocess.sh): macro F1 0.90 on the sample corpus; at 256 x 256 about 13 minutes
    "long": {
        **QUICK_PRESET,
        "max_steps": 5000,
        "log_freq": 100,
        "eval_freq": 1000,
        "save_freq": 1000,
    },
    # synthetic pages mixed with real ones (./real-data.sh: 400 synthetic + 189 Hindawi pages,
    # 1:1): the quick settings for twice the steps, about 40 minutes on 2 CPU cores at 256 x 256;
    # macro F1 0.96 on unseen Hindawi first pages, 0.89 already at step 1000 (doc/real-data.md)
    "real": {
        **QUICK_PRESET,
        "max_steps": 6000,
        "log_freq": 100,
        "eval_freq": 1000,
        "save_freq": 1000,
    },
    # a few steps of a tiny network: checks the whole flow
    "smoke": {
        "ngf": 8,
        "ndf": 8,
        "batch_size": 2,
        "max_steps": 4,
        "log_freq": 2,
        "eval_freq": 4,
        "save_freq": 2,
        "eval_set_size": 2,
        "augment": 0.0,
    },
}


class ConfigError(ValueError):
    """A configuration value or key that cannot be used; the message says which and why."""


def _check_type(key: str, value: Any, where: str) -> Any:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
    if isinstance(default, list):
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ConfigError(f"{where}: {key} must be a list of strings, got {value!r}")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    raise ConfigError(f"{where}: {key} has an unsupported default type")


def apply_overrides(config: dict, overrides: dict, where: str = "override") -> dict:
    """A copy of `config` with `overrides` applied; unknown keys and wrong types are refused."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}"
        )
    result = dict(config)
    for key, value in overrides.items():
        result[key] = _check_type(key, value, where)
    return result


def validate(config: dict) -> dict:
    """Check values that types alone do not catch; return the config unchanged."""
    bad_size = size_problem(image_size_of(config))
    checks = [
        (config["base_loss"] in BASE_LOSSES, f"base_loss must be one of {BASE_LOSSES}"),
        (config["precision"] in PRECISIONS, f"precision must be one of {PRECISIONS}"),
        (config["model"] == "pix2pix", "model must be pix2pix (the only model)"),
        (config["ngf"] >= 1 and config["ndf"] >= 1, "ngf and ndf must be >= 1"),
        (config["batch_size"] >= 1, "batch_size must be >= 1"),
        (config["max_steps"] >= 0, "max_steps must be >= 0"),
        (config["save_max_to_keep"] >= 1, "save_max_to_keep must be >= 1"),
        (
            min(config["log_freq"], config["eval_freq"], config["save_freq"]) >= 1,
            "log_freq, eval_freq and save_freq must be >= 1",
        ),
        (config["lr"] > 0, "lr must be > 0"),
        (0 <= config["augment"] < 0.5, "augment must be between 0 and 0.5"),
        (0 <= config["lr_decay_start"] <= 1, "lr_decay_start must be between 0 and 1"),
        (config["logit_adjustment"] >= 0, "logit_adjustment must be >= 0"),
        (config["bn_recalibration_batches"] >= 0, "bn_recalibration_batches must be >= 0"),
        (config["l1_weight"] >= 0 and config["gan_weight"] >= 0, "loss weights must be >= 0"),
        (
            config["l1_weight"] > 0 or config["gan_weight"] > 0,
            "l1_weight and gan_weight cannot both be 0",
        ),
        (not bad_size, bad_size),
        (
            config["use_separate_channels"] or config["base_loss"] == "L1",
            "cross-entropy losses need use_separate_channels=true (RGB output trains with L1)",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    return config


def size_problem(size: int | Sequence[int]) -> str:
    """Why the model cannot take pages of `size` (width, height); empty when it can."""
    width, height = width_height(size)
    if min(width, height) >= SIZE_MULTIPLE and width % SIZE_MULTIPLE == height % SIZE_MULTIPLE == 0:
        return ""
    return (
        f"image_width={width} and image_height={height} (image_size sets both) must both be "
        f"multiples of {SIZE_MULTIPLE} (the U-Net halves the page at least 5 times), e.g. "
        "256 x 320 for portrait pages (IMAGE_WIDTH / IMAGE_HEIGHT, --image_width / --image_height)"
    )


def resolve_image_size(config: dict) -> dict:
    """image_width / image_height from image_size where not given; image_size 0 unless square."""
    width, height = image_size_of(config)
    return dict(
        config, image_width=width, image_height=height, image_size=width * (width == height)
    )


def resolve_config(preset: str | None = None, overrides: dict | None = None) -> dict:
    """DEFAULTS <- preset <- overrides, checked."""
    config = dict(DEFAULTS)
    if preset:
        if preset not in PRESETS:
            raise ConfigError(
                f"unknown preset {preset!r} (TRAINING_PRESET / --preset); "
                f"known: {', '.join(sorted(PRESETS))}"
            )
        config = apply_overrides(config, PRESETS[preset], where=f"preset {preset}")
    config = apply_overrides(config, overrides or {}, where="flags")
    if not config["use_separate_channels"] and "base_loss" not in (overrides or {}):
        # RGB output (USE_SEPARATE_CHANNELS=false) trains with the original's L1 loss
        config["base_loss"] = "L1"
    return validate(resolve_image_size(config))


def describe_overrides(config: dict) -> list[str]:
    """Lines `key = value (default d)` for every value that differs from the defaults."""
    return [
        f"{key} = {config[key]!r} (default {DEFAULTS[key]!r})"
        for key in DEFAULTS
        if key in config and config[key] != DEFAULTS[key]
    ]


def config_path(model_dir: str) -> str:
    return fs.join(model_dir, CONFIG_FILENAME)


def save_config(model_dir: str, config: dict) -> str:
    """Write the resolved config (plus derived facts such as classes) as config.json."""
    path = config_path(model_dir)
    fs.makedirs(model_dir)
    fs.write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


def load_saved_config(model_dir: str) -> dict | None:
    """The config.json of a model directory, or None when there is none yet."""
    path = config_path(model_dir)
    if not fs.exists(path):
        return None
    try:
        return json.loads(fs.read_bytes(path).decode("utf-8"))
    except ValueError as error:
        raise ConfigError(f"{path}: not valid JSON ({error}); delete it to start over") from error


def check_resumable(saved: dict, config: dict, model_dir: str) -> None:
    """Refuse to resume a model directory with a different network shape or class list."""
    saved = resolve_image_size(saved)
    for key in MODEL_SHAPE_KEYS:
        if key in saved and saved[key] != config.get(key):
            raise ConfigError(
                f"{config_path(model_dir)} was trained with {key}={saved[key]!r} but this run "
                f"asks for {key}={config.get(key)!r}; use the same value, or another "
                "output path (TRAINING_SUFFIX) to train a new model"
            )
    saved_labels = ColorMap.from_config(saved.get(CONFIG_CLASSES_KEY) or []).labels
    labels = ColorMap.from_config(config.get(CONFIG_CLASSES_KEY) or []).labels
    if saved_labels and saved_labels != labels:
        raise ConfigError(
            f"the colour map {config.get('color_map')!r} has {len(labels)} classes but the "
            f"checkpoint in {model_dir} was trained with {len(saved_labels)} "
            f"({', '.join(saved_labels[:5])}...); use the colour map it was trained with, "
            "or another output path"
        )
