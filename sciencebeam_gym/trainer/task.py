"""Train the pix2pix model on TFRecords; re-running resumes from the latest checkpoint.

    python -m sciencebeam_gym.trainer.task --preset quick \\
        --train_data_paths '.models/pix2pix/v4/preproc/train/*tfrecord*' \\
        --eval_data_paths '.models/pix2pix/v4/preproc/test/*tfrecord*' \\
        --output_path .models/pix2pix/v4-default/training

Every setting of `config.DEFAULTS` is a flag (`--ngf 32`, `--use_separate_channels false`);
`--preset` picks a named budget first. The run is cut into stages (`training.Trainer`), each
announced in the log: config, data, devices, model, checkpoint, train loop (progress,
evaluation, checkpoints). Arguments are parsed before TensorFlow is imported, so `--help`
answers at once.
On Vertex AI, `AIP_MODEL_DIR`, `AIP_CHECKPOINT_DIR` and `AIP_TENSORBOARD_LOG_DIR` are the
defaults of --output_path, --checkpoint_path and --tensorboard_path (a flag given wins).
A local output path is locked for the run (`sciencebeam_gym.storage.folder_lock`): a second
training on the same folder is refused with the holder's host and PID.
gs:// paths are mapped here, before the run, by `sciencebeam_gym.storage.tensorflow_paths`
(staged locally with a storage emulator, the /gcs mount on Vertex AI, or TensorFlow's own Cloud
Storage support); the Trainer receives the mapped paths. In a multi-worker run only the chief
writes checkpoints and summaries to the output path; the other workers resume from it but write
to a temporary folder of their own.
Exit status: 0 done (or nothing to do), 1 stopped on a non-finite loss, 2 bad input (or the
folder in use, or its disk full), 130/143 interrupted (checkpoint saved).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile

from sciencebeam_gym import cli
from sciencebeam_gym.storage import folder_lock
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.trainer import config as config_module
from sciencebeam_gym.trainer.config import DEFAULTS, ConfigError

EXIT_NON_FINITE = cli.EXIT_FAILED
EXIT_BAD_INPUT = cli.EXIT_USAGE

# Vertex AI's folders for a job with a base output directory: defaults of these settings
VERTEX_DIRS = {
    "output_path": "AIP_MODEL_DIR",
    "checkpoint_path": "AIP_CHECKPOINT_DIR",
    "tensorboard_path": "AIP_TENSORBOARD_LOG_DIR",
}


# --- command line -------------------------------------------------------------------------------


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.task",
        description="Train the pix2pix page-structure model. Settings resolve as "
        "defaults <- --preset <- flags; the resolved config is saved as config.json in the "
        "output path, and a re-run resumes from the latest checkpoint there.",
    )
    parser.add_argument(
        "--preset",
        default="",
        help=f"named budget: {', '.join(sorted(config_module.PRESETS))} (TRAINING_PRESET)",
    )
    cli.add_job_dir(parser, alias_of="--output_path")
    parser.add_argument(
        "--write_predictions",
        action="store_true",
        help="after training, write coloured predictions of the evaluation pages",
    )
    for key, default in DEFAULTS.items():
        flag = f"--{key}"
        help_text = f"(default: {default!r})"
        if key in VERTEX_DIRS:
            help_text += f"; {VERTEX_DIRS[key]} when set"
        if key == "color_map":
            cli.add_color_map(parser)
        elif isinstance(default, bool):
            parser.add_argument(flag, type=_bool, nargs="?", const=True, help=help_text)
        elif isinstance(default, list):
            parser.add_argument(flag, action="append", help="repeatable; " + help_text)
        else:
            parser.add_argument(flag, type=type(default), help=help_text)
    return parser


def vertex_defaults(overrides: dict, env=None) -> dict:
    """Each AIP_* folder Vertex AI sets, for its setting when no flag gave one."""
    env = os.environ if env is None else env
    return {
        key: env[variable]
        for key, variable in VERTEX_DIRS.items()
        if key not in overrides and env.get(variable)
    }


def config_from_args(args: argparse.Namespace, env=None) -> dict:
    overrides = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if args.job_dir and "output_path" not in overrides:
        overrides["output_path"] = args.job_dir
    overrides.update(vertex_defaults(overrides, env))
    config = config_module.resolve_config(args.preset or None, overrides)
    if not config["output_path"]:
        raise ConfigError(
            "no output path: pass --output_path (TRAIN_MODEL_PATH) or --job-dir "
            "(or set AIP_MODEL_DIR)"
        )
    return config


# --- the run --------------------------------------------------------------------------------------


def train(config: dict, write_predictions: bool = False) -> int:
    """Train to config["max_steps"]; gs:// paths are mapped for TensorFlow here, at the edge,
    and the Trainer receives the mapped paths (see `training.RunPaths`)."""
    from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths
    from sciencebeam_gym.trainer.distribute import is_chief

    with TensorflowPaths() as tf_paths:
        if is_chief():
            with folder_lock.hold(config["output_path"], "training"):
                return train_in(config, chief_paths(config, tf_paths), True, write_predictions)
        # Checkpoints are saved by every worker (saving is collective), but only the chief's go
        # to the output path: two workers writing the same checkpoint files break each other's
        # saves. The others write to a folder of their own and resume from the chief's.
        scratch = tempfile.mkdtemp(prefix="gym-worker-")
        try:
            return train_in(config, worker_paths(config, tf_paths, scratch), False, False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def chief_paths(config: dict, tf_paths):
    """The chief's paths: the output, checkpoint and TensorBoard folders, synced after saves."""
    from sciencebeam_gym.trainer import model_dir
    from sciencebeam_gym.trainer.training import RunPaths

    output = tf_paths.writable_folder(config["output_path"])
    checkpoints = model_dir.checkpoint_dir(output)
    if config.get("checkpoint_path"):
        checkpoints = tf_paths.writable_folder(config["checkpoint_path"])
    events = output
    if config.get("tensorboard_path"):
        events = tf_paths.writable_folder(config["tensorboard_path"])
    return RunPaths(
        *readable_data(config, tf_paths),
        output=output,
        checkpoints=checkpoints,
        events=events,
        resume_from=checkpoints,
        sync=tf_paths.sync,
    )


def worker_paths(config: dict, tf_paths, scratch: str):
    """Another worker's paths: everything it writes goes to `scratch`; it reads the chief's
    checkpoints."""
    from sciencebeam_gym.trainer import model_dir
    from sciencebeam_gym.trainer.training import RunPaths

    chief_checkpoints = config.get("checkpoint_path") or model_dir.checkpoint_dir(
        config["output_path"]
    )
    return RunPaths(
        *readable_data(config, tf_paths),
        output=scratch,
        checkpoints=model_dir.checkpoint_dir(scratch),
        events=scratch,
        resume_from=tf_paths.readable_folder(chief_checkpoints),
    )


def readable_data(config: dict, tf_paths) -> tuple[tuple, tuple, tuple[str, ...]]:
    """(training sources as found, the same readable by TensorFlow, evaluation files)."""
    from sciencebeam_gym.trainer import data

    sources, eval_files = data.find_run_files(config)
    readable = tuple(
        dataclasses.replace(found, files=tuple(tf_paths.readable_files(found.files)))
        for found in sources
    )
    return tuple(sources), readable, tuple(tf_paths.readable_files(eval_files))


def train_in(config: dict, paths, chief: bool, write_predictions: bool) -> int:
    """The training run; TensorFlow reads and writes where `paths` (a RunPaths) say."""
    from sciencebeam_gym.trainer.training import Trainer

    return Trainer(config, paths, chief, write_predictions).run()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)  # before TensorFlow's import: --help at once
    from sciencebeam_gym.color_map import ColorMapError
    from sciencebeam_gym.trainer.class_weights import ClassWeightsError
    from sciencebeam_gym.trainer.data import DataError
    from sciencebeam_gym.trainer.model_dir import ModelDirError
    from sciencebeam_gym.trainer.training import NonFiniteLossError, OutputFullError

    try:
        config = config_from_args(args)
        return train(config, write_predictions=args.write_predictions)
    except (
        ConfigError,
        DataError,
        ColorMapError,
        ClassWeightsError,
        StorageError,
        ModelDirError,
        OutputFullError,
        folder_lock.LockError,
    ) as error:
        return cli.report_error(error, EXIT_BAD_INPUT)
    except NonFiniteLossError as error:
        return cli.report_error(error, EXIT_NON_FINITE)


if __name__ == "__main__":
    sys.exit(main())
