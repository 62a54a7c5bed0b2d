"""Export the latest checkpoint as a TensorFlow SavedModel, with its metadata beside it.

    python -m sciencebeam_gym.serving.export \\
        --model_path .models/pix2pix/v4-default/training \\
        --export_path .models/pix2pix/v4-default/export

The export folder holds the SavedModel (serving signatures `serving_default` for uint8 RGB
batches and `predict_png` for encoded images, see `inference.py`) and `metadata.json` (class
names and colours, image size, training step, source checkpoint, and `--dpi`, the resolution the
training pages were rendered at, which extraction and prediction render PDF pages at).
`metadata.json` is written last: an export without it is incomplete and is never used. Locally
the whole folder is written as a partial export under a temporary name
(`.<name>.tmp-<host>-<pid>-<random>`) and renamed into place; the partial exports of killed runs
are removed by the next export (see `temp_folders`). TensorFlow is imported when a model is
loaded, so --help answers at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import ColorMapError, load_color_map
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.serving.metadata import (
    METADATA_FILENAME,
    InferenceError,
    ModelInfo,
    check_same_classes,
)
from sciencebeam_gym.serving.temp_folders import owned_name, remove_stale
from sciencebeam_gym.storage import fs

LOGGER = logging.getLogger(__name__)


class ExportError(cli.CliError, ValueError):
    """An export that cannot be made or used; the message names the path and what to do."""


def is_complete_export(export_path: str) -> bool:
    """True when an export folder holds its metadata (written last) and a SavedModel."""
    return fs.exists(fs.join(export_path, METADATA_FILENAME)) and fs.exists(
        fs.join(export_path, "saved_model.pb")
    )


def save_local(predictor, folder: str) -> None:
    """The SavedModel of a PagePredictor and its metadata into a new local folder."""
    import tensorflow as tf

    # tracing notes about renamed variable inputs and asset folders say nothing to a user
    loggers = [tf.get_logger(), logging.getLogger("absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        tf.saved_model.save(predictor, folder, signatures=predictor.signatures())
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    with open(os.path.join(folder, METADATA_FILENAME), "w", encoding="utf-8") as f:
        json.dump(predictor.info.to_metadata(), f, indent=2)
        f.write("\n")


def publish_local(partial: str, export_path: str) -> None:
    """Move a finished export folder into place; a previous export is replaced whole."""
    export_path = os.path.abspath(export_path)
    old = None
    if os.path.lexists(export_path):
        old = os.path.join(
            os.path.dirname(export_path), owned_name(f"{os.path.basename(export_path)}.old-")
        )
        os.rename(export_path, old)
    os.rename(partial, export_path)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def publish_remote(partial: str, export_path: str) -> None:
    """Upload a finished export folder; the metadata goes last and the old one goes first."""
    fs.delete([fs.join(export_path, METADATA_FILENAME)])
    fs.delete_matching(fs.join(export_path, "**"))
    fs.copy_tree(partial, export_path, last=[METADATA_FILENAME])


def partial_export_prefix(export_path: str) -> str:
    """The name start of the temporary folders an export of `export_path` is written in."""
    return f".{os.path.basename(os.path.abspath(export_path))}.tmp-"


# the partial exports of earlier versions: `.<name>.tmp-` + 8 hex digits
LEGACY_PARTIAL_EXPORT_RE = re.compile(r"\..+\.tmp-[0-9a-f]{8}")


def remove_interrupted_exports(export_path: str) -> list[str]:
    """The partial exports and replaced exports that killed exports of this path left behind."""
    parent = os.path.dirname(os.path.abspath(export_path))
    name = os.path.basename(os.path.abspath(export_path))
    prefix = partial_export_prefix(export_path)
    removed = remove_stale(parent, prefix, _is_legacy_partial_export_of(name))
    return removed + remove_stale(parent, f"{name}.old-")


def _is_legacy_partial_export_of(name: str):
    prefix = f".{name}.tmp-"
    return lambda path: (
        os.path.basename(path).startswith(prefix)
        and LEGACY_PARTIAL_EXPORT_RE.fullmatch(os.path.basename(path)) is not None
    )


def export_saved_model(generator, info: ModelInfo, export_path: str) -> str:
    """Save `generator` with its pre/post-processing as a SavedModel at `export_path`."""
    from sciencebeam_gym.serving.inference import PagePredictor

    predictor = PagePredictor(generator, info)
    if fs.is_remote(export_path):
        with tempfile.TemporaryDirectory(prefix="export-") as temp:
            partial = os.path.join(temp, "export")
            save_local(predictor, partial)
            publish_remote(partial, export_path)
        return export_path
    parent = os.path.dirname(os.path.abspath(export_path))
    os.makedirs(parent, exist_ok=True)
    remove_interrupted_exports(export_path)
    partial = os.path.join(parent, owned_name(partial_export_prefix(export_path)))
    try:
        save_local(predictor, partial)
        publish_local(partial, export_path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return export_path


def load_checkpoint(model_path: str):
    """(generator, config, step, checkpoint) of the latest checkpoint in a training folder."""
    import tensorflow as tf

    from sciencebeam_gym.trainer import model_dir

    if not fs.exists(model_path):
        raise ExportError(
            f"no training folder at {model_path} (--model_path / TRAIN_MODEL_PATH); "
            "train a model first with ./train.sh"
        )
    checkpoint = model_dir.latest_checkpoint(model_path)
    try:
        generator, config, step = model_dir.load_generator(model_path, checkpoint)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise ExportError(f"cannot load a model from {model_path}: {error}") from error
    return generator, config, step, checkpoint or f"{model_path} (step {step})"


def export_from_checkpoint(
    model_path: str, export_path: str, color_map_path: str = "", dpi: float = DEFAULT_DPI
) -> dict:
    """Export the latest checkpoint of `model_path`, trained on pages rendered at `dpi`; the
    metadata written."""
    generator, config, step, checkpoint = load_checkpoint(model_path)
    info = ModelInfo.from_config(config, step=step, source_checkpoint=checkpoint, dpi=dpi)
    if color_map_path:
        check_same_classes(info.color_map, load_color_map(color_map_path), checkpoint)
    export_saved_model(generator, info, export_path)
    return info.to_metadata()


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.serving.export",
        description="Export the latest checkpoint of a training folder as a SavedModel.",
    )
    parser.add_argument(
        "--model_path",
        required=True,
        help="training folder with the checkpoints and config.json (TRAIN_MODEL_PATH)",
    )
    parser.add_argument(
        "--export_path",
        required=True,
        help="folder to write the SavedModel to (EXPORT_MODEL_PATH); replaced whole",
    )
    cli.add_color_map(
        parser, help="colour map the model must have been trained with (checked, optional)"
    )
    # The training pages' dpi comes from the configuration (save-model.sh passes GENERATE_DPI,
    # the setting generate-data.sh rendered them with) rather than through the records and the
    # trainer: preprocessing and training never render a page, and a mix of sources (the sample
    # corpus picks a dpi per page) has no one dpi to carry.
    parser.add_argument(
        "--dpi",
        type=cli.positive_float,
        default=DEFAULT_DPI,
        help="resolution the training pages were rendered at (GENERATE_DPI), saved in the "
        f"metadata: extraction and prediction render PDF pages at it (default {DEFAULT_DPI:g})",
    )
    return parser


def main(argv=None) -> int:
    args = get_args_parser().parse_args(argv)
    cli.configure_logging()
    started = time.monotonic()
    LOGGER.info("[export] loading the latest checkpoint of %s", args.model_path)
    try:
        metadata = export_from_checkpoint(
            args.model_path, args.export_path, args.color_map, args.dpi
        )
    except (ExportError, InferenceError, ColorMapError) as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    LOGGER.info(
        "[export] step %s (%s), %d classes, %dx%d input, pages at %g dpi -> %s (%.1f s)",
        metadata["training_step"],
        metadata["source_checkpoint"],
        len(metadata["classes"]),
        metadata["image_width"],
        metadata["image_height"],
        metadata["dpi"],
        args.export_path,
        time.monotonic() - started,
    )
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
