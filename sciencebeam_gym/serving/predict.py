"""Paint the structure of pages: a page image, a folder of them, or a PDF -> coloured annotations.

    python -m sciencebeam_gym.serving.predict page.png --saved_model .models/.../export --overlay

Model: `--saved_model PATH` (an export of save-model.sh); else the export at `--export_path` when
it is complete; else the latest checkpoint of `--model_path` (the training folder).
Input: a page image (PNG or JPEG), a folder (searched recursively; annotations and earlier outputs
are left out), or a PDF (pages rendered at `--pdf_dpi`, by default the dpi the model's training
pages were rendered at, one at a time, each within `--max_page_pixels`).
Output, at each input's size: `<name>.out.png` (the page painted in the class colours; background
black), with `--overlay` `<name>.overlay.png` (the colours laid over the page), with `--boxes`
`<name>.boxes.json` (per class, the boxes of its connected regions). A single image's output
defaults to `<input stem>.out.png` beside it (an output naming no image file is a folder, made
when missing); a folder's and a PDF's to the input's folder. Outputs are never written into a
data split (see `pages.check_not_a_data_split`), and only once every page succeeded: a failure
leaves no partial output.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import ColorMapError
from sciencebeam_gym.document.pdf import DEFAULT_DPI, DEFAULT_MAX_PAGE_PIXELS, PdfError
from sciencebeam_gym.page_image import ImageError, page_at_size
from sciencebeam_gym.serving.errors import PredictError
from sciencebeam_gym.serving.metadata import InferenceError
from sciencebeam_gym.serving.models import load_predictor
from sciencebeam_gym.serving.outputs import (
    PendingOutputs,
    PredictOptions,
    check_output_files,
    page_outputs,
)
from sciencebeam_gym.serving.pages import PageInputs, PdfOptions, check_output_folders, find_inputs

LOGGER = logging.getLogger(__name__)


def to_model_input(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """(height, width, 3) uint8 for the model's (width, height), resized by the function that
    made the training records."""
    return np.asarray(page_at_size(image, size), dtype=np.uint8)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items (the last one shorter), taken from an iterator as needed."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def predict_pages(predictor, inputs: PageInputs, options: PredictOptions) -> list[str]:
    """Predict every page and write the outputs once all succeeded; the paths written."""
    pending = PendingOutputs()
    done = 0
    started = time.monotonic()
    try:
        for batch in batches(inputs.pages(predictor.info.dpi), options.batch_size):
            model_input = [to_model_input(page, predictor.info.input_size) for _s, page in batch]
            outputs = predictor.predict(np.stack(model_input))
            for index, (source, page) in enumerate(batch):
                files = page_outputs(source, page, outputs, index, predictor.info, options)
                for path, data in files.items():
                    pending.add(path, data)
            done += len(batch)
            LOGGER.info(
                "[predict] %d/%d pages (%.1f s)", done, len(inputs), time.monotonic() - started
            )
        return pending.commit()
    finally:
        pending.discard()


# --- command line -----------------------------------------------------------------------------


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.serving.predict",
        description=(
            "Paint the structure of pages with a trained model. Input: a page image, a folder "
            "of them, or a PDF. Output: <name>.out.png at the input's size (and with --overlay "
            "<name>.overlay.png, with --boxes <name>.boxes.json)."
        ),
    )
    parser.add_argument("input", help="a page image (PNG/JPEG), a folder of them, or a PDF")
    parser.add_argument(
        "output",
        nargs="?",
        default=None,
        help="output image (*.png) or folder for an image input (default <input stem>.out.png "
        "beside it), output folder for a folder or PDF input (default: beside the input); "
        "a missing folder is made, a data split refused",
    )
    add_model_arguments(parser.add_argument_group("model (the first available is used)"))
    add_output_arguments(parser.add_argument_group("outputs"))
    add_run_arguments(parser.add_argument_group("input and run"))
    return parser


def add_model_arguments(model) -> None:
    """Which model: an export, the configured export, or a training folder's checkpoint."""
    model.add_argument(
        "--saved_model",
        default="",
        help="an exported model (./save-model.sh); used when given",
    )
    model.add_argument(
        "--export_path",
        default="",
        help="the configured export (EXPORT_MODEL_PATH); used when a complete export is there",
    )
    model.add_argument(
        "--model_path",
        default="",
        help="training folder (TRAIN_MODEL_PATH); its latest checkpoint is used otherwise",
    )
    model.add_argument(
        "--from_checkpoint",
        action="store_true",
        help="ignore --export_path and predict from the latest checkpoint of --model_path",
    )
    cli.add_color_map(
        model, help="colour map the model must have been trained with (checked, optional)"
    )


def add_output_arguments(out) -> None:
    """The files written beside the coloured annotation."""
    out.add_argument("--overlay", action="store_true", help="also write <name>.overlay.png")
    out.add_argument(
        "--overlay_alpha",
        type=float,
        default=0.5,
        help="opacity of the colours in the overlay, 0..1 (default 0.5)",
    )
    out.add_argument(
        "--boxes",
        action="store_true",
        help="also write <name>.boxes.json: per class, the boxes of its connected regions",
    )
    out.add_argument(
        "--min_box_pixels",
        type=int,
        default=4,
        help="leave out regions smaller than this many pixels at the model's size (default 4)",
    )


def add_run_arguments(run) -> None:
    """How the input is read and the model called."""
    run.add_argument(
        "--pdf_dpi",
        type=cli.positive_float,
        default=None,
        help="resolution PDF pages are rendered at (default: the one the model's training pages "
        f"were rendered at, from its export; {DEFAULT_DPI:g} for a training folder)",
    )
    run.add_argument(
        "--max_page_pixels",
        type=int,
        default=DEFAULT_MAX_PAGE_PIXELS,
        help="pixel budget of one rendered PDF page: a larger page is rendered at the lower dpi "
        f"that fits, with a warning (default {DEFAULT_MAX_PAGE_PIXELS})",
    )
    run.add_argument(
        "--data_path",
        default="",
        help="training data folder (DATA_PATH): outputs inside its train/ and test/ are refused",
    )
    run.add_argument(
        "--max_pages",
        type=int,
        default=0,
        help="only the first N pages of a PDF, or of a folder in sorted order (default 0: all)",
    )
    run.add_argument(
        "--batch_size",
        type=int,
        default=8,
        help="pages per model call (default 8)",
    )


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0.0 <= args.overlay_alpha <= 1.0:
        parser.error(f"--overlay_alpha must be between 0 and 1, got {args.overlay_alpha}")
    if args.batch_size < 1:
        parser.error(f"--batch_size must be >= 1, got {args.batch_size}")
    if args.max_page_pixels < 1:
        parser.error(f"--max_page_pixels must be >= 1, got {args.max_page_pixels}")
    if args.max_pages < 0:
        parser.error(f"--max_pages must be >= 0, got {args.max_pages}")
    if args.min_box_pixels < 1:
        parser.error(f"--min_box_pixels must be >= 1, got {args.min_box_pixels}")


def options_from_args(args: argparse.Namespace) -> PredictOptions:
    return PredictOptions(
        overlay=args.overlay,
        overlay_alpha=args.overlay_alpha,
        boxes=args.boxes,
        min_box_pixels=args.min_box_pixels,
        batch_size=args.batch_size,
    )


def run(args: argparse.Namespace) -> tuple[int, list[str]]:
    """Find the pages, load the model, predict; (pages, paths written)."""
    pdf = PdfOptions(dpi=args.pdf_dpi, max_pixels=args.max_page_pixels)
    inputs = find_inputs(args.input, args.output, pdf, args.max_pages)
    check_output_folders(inputs, args.data_path)
    check_output_files(inputs.sources, options_from_args(args))
    LOGGER.info("[predict] %d page(s) from %s", len(inputs), args.input)
    predictor = load_predictor(
        saved_model=args.saved_model,
        export_path="" if args.from_checkpoint else args.export_path,
        model_path=args.model_path,
        color_map=args.color_map,
    )
    info = predictor.info
    LOGGER.info(
        "[predict] model: %s (step %s, %d classes, %dx%d)",
        predictor.source,
        info.training_step,
        len(info.classes),
        info.image_width,
        info.image_height,
    )
    return len(inputs), predict_pages(predictor, inputs, options_from_args(args))


def main(argv=None) -> int:
    parser = get_args_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    cli.configure_logging()
    started = time.monotonic()
    try:
        pages, written = run(args)
    except (PredictError, InferenceError, ImageError, PdfError, ColorMapError) as error:
        cli.report_error(error)
        print("  no output was written", file=sys.stderr)
        return cli.EXIT_USAGE
    for path in written:
        print(path)
    LOGGER.info(
        "[predict] %d page(s) -> %d file(s) in %.1f s",
        pages,
        len(written),
        time.monotonic() - started,
    )
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
