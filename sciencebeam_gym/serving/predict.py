"""Paint the structure of pages: a page image, a folder of them, or a PDF -> coloured annotations.

    python -m sciencebeam_gym.trainer.predict page.png --saved_model .models/.../export --overlay

Model: `--saved_model PATH` (an export of save-model.sh); else the export at `--export_path` when
it is complete; else the latest checkpoint of `--model_path` (the training folder).
Input: a page image (PNG or JPEG), a folder (searched recursively; annotations and earlier outputs
are left out), or a PDF (pages rendered at `--pdf_dpi`).
Output, at each input's size: `<name>.out.png` (the page painted in the class colours; background
black), with `--overlay` `<name>.overlay.png` (the colours laid over the page), with `--boxes`
`<name>.boxes.json` (per class, the boxes of its connected regions). A single image's output
defaults to `<input stem>.out.png` beside it; a folder's and a PDF's to the input's folder.
Outputs are written only once every page succeeded: a failure leaves no partial output.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sciencebeam_gym import cli, fs
from sciencebeam_gym.color_map import ANNOTATION_NAME_PATTERN, ColorMapError, load_color_map
from sciencebeam_gym.preprocess.images import ImageError, open_image, page_to_rgb, resize_page
from sciencebeam_gym.trainer.inference import (
    METADATA_FILENAME,
    InferenceError,
    ModelInfo,
    check_same_classes,
)
from sciencebeam_gym.trainer.pdf_pages import DEFAULT_DPI, PdfError, render_pdf_pages

LOGGER = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
OUTPUT_SUFFIX = ".out.png"
OVERLAY_SUFFIX = ".overlay.png"
BOXES_SUFFIX = ".boxes.json"
# Files in an input folder that are not pages: annotations (as preprocess tells them) and outputs.
NOT_A_PAGE_RE = re.compile(rf"{ANNOTATION_NAME_PATTERN}|\.out\.png$|\.overlay\.png$")
# Pages resized as the training records were (see preprocess/images.py).
DIRECT_RESIZE_MODES = ("L", "RGB")


class PredictError(cli.CliError, ValueError):
    """A prediction that cannot run; the message names the input, model or flag."""


# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSource:
    """One page to predict: where it comes from and where its outputs go (without suffix)."""

    name: str  # shown in progress and in the boxes JSON
    output_base: str  # output path without `.out.png` / `.overlay.png` / `.boxes.json`
    path: str = ""  # an image file, read when the page is needed
    image: Image.Image | None = None  # an already rendered page (PDF)
    output_file: str = ""  # the coloured annotation's path when given; else base + .out.png

    @property
    def annotation_path(self) -> str:
        return self.output_file or self.output_base + OUTPUT_SUFFIX

    def load(self) -> Image.Image:
        """The page as an RGB-convertible Pillow image; ImageError when it cannot be read."""
        if self.image is not None:
            return self.image
        try:
            data = fs.read_bytes(self.path)
        except (OSError, ValueError) as error:
            raise ImageError("read_error", f"{self.path}: cannot be read ({error})") from error
        return open_image(data, self.path)


def strip_image_extension(path: str) -> str:
    root, extension = os.path.splitext(path)
    return root if extension.lower() in IMAGE_EXTENSIONS else path


def output_base_for_file(output: str) -> str:
    """`x.out.png` and `x.png` both give the base `x`."""
    if output.endswith(OUTPUT_SUFFIX):
        return output[: -len(OUTPUT_SUFFIX)]
    return strip_image_extension(output)


def is_pdf_path(path: str) -> bool:
    return path.lower().endswith(".pdf")


def is_folder(path: str) -> bool:
    if fs.is_remote(path):
        return path.endswith("/") or (not fs.exists(path) and bool(fs.glob(fs.join(path, "*"))))
    return os.path.isdir(path)


def find_folder_pages(folder: str) -> list[str]:
    """Page images under a folder, recursively, without annotations and earlier outputs."""
    found = fs.glob(fs.join(folder.rstrip("/"), "**"))
    return [
        path
        for path in found
        if path.lower().endswith(IMAGE_EXTENSIONS) and not NOT_A_PAGE_RE.search(fs.basename(path))
    ]


def folder_sources(folder: str, output: str | None, max_pages: int = 0) -> list[PageSource]:
    paths = find_folder_pages(folder)
    if not paths:
        raise PredictError(
            f"{folder}: no page images (*.png, *.jpg) in this folder or below "
            "(annotations and earlier outputs are left out)"
        )
    if max_pages:
        paths = paths[:max_pages]
    out_folder = output or folder
    if out_folder.lower().endswith(IMAGE_EXTENSIONS):
        raise PredictError(f"the output for a folder must be a folder, got {out_folder}")
    root = folder.rstrip("/")
    sources = []
    for path in paths:
        relative = path[len(root) :].lstrip("/\\")
        base = fs.join(out_folder, strip_image_extension(relative))
        sources.append(PageSource(name=relative, output_base=base, path=path))
    return sources


def pdf_sources(path: str, output: str | None, dpi: float, max_pages: int) -> list[PageSource]:
    data = read_input(path)
    pages = render_pdf_pages(data, source=path, dpi=dpi, max_pages=max_pages)
    out_folder = output or fs.dirname(path) or "."
    if out_folder.lower().endswith(IMAGE_EXTENSIONS):
        raise PredictError(f"the output for a PDF must be a folder, got {out_folder}")
    stem = os.path.splitext(fs.basename(path))[0]
    return [
        PageSource(
            name=f"{fs.basename(path)} page {number}",
            output_base=fs.join(out_folder, f"{stem}-page{number}"),
            image=image,
        )
        for number, image in enumerate(pages, start=1)
    ]


def image_sources(path: str, output: str | None) -> list[PageSource]:
    # decoded now, so a broken page stops the run before the model is loaded
    image = open_image(read_input(path), path)
    output_file = ""
    if output and os.path.abspath(output) == os.path.abspath(path):
        raise PredictError(f"the output {output} is the input page: choose another name")
    if output and is_folder(output):
        base = fs.join(output, strip_image_extension(fs.basename(path)))
    elif output:
        base, output_file = output_base_for_file(output), output
    else:
        base = strip_image_extension(path)
    return [
        PageSource(
            name=fs.basename(path),
            output_base=base,
            path=path,
            image=image,
            output_file=output_file,
        )
    ]


def read_input(path: str) -> bytes:
    try:
        return fs.read_bytes(path)
    except (OSError, ValueError) as error:
        raise PredictError(f"{path}: cannot be read ({error})") from error


def find_sources(
    input_path: str, output: str | None, dpi: float = DEFAULT_DPI, max_pages: int = 0
) -> list[PageSource]:
    """The pages of an input (image, folder or PDF) with their output names."""
    if not input_path:
        raise PredictError("no input given: pass a page image, a folder of them, or a PDF")
    if is_folder(input_path):
        return folder_sources(input_path, output, max_pages)
    if not fs.exists(input_path):
        raise PredictError(f"{input_path}: no such file or folder (the input)")
    if is_pdf_path(input_path):
        return pdf_sources(input_path, output, dpi, max_pages)
    return image_sources(input_path, output)


def to_model_input(image: Image.Image, image_size: int) -> np.ndarray:
    """(S, S, 3) uint8, resized exactly as the training records were."""
    size = (image_size, image_size)
    if image.mode in DIRECT_RESIZE_MODES:
        resized = page_to_rgb(resize_page(image, size))
    else:
        resized = resize_page(page_to_rgb(image), size)
    return np.asarray(resized, dtype=np.uint8)


# --- models -----------------------------------------------------------------------------------


class SavedModelPredictor:
    """An export of save-model.sh; `predict` runs its `serving_default` signature."""

    def __init__(self, path: str):
        import tensorflow as tf

        if not fs.exists(fs.join(path, METADATA_FILENAME)):
            raise PredictError(
                f"no exported model at {path} (no {METADATA_FILENAME}; --saved_model / "
                "EXPORT_MODEL_PATH): run ./save-model.sh first, or predict from the checkpoint "
                "with --model_path"
            )
        metadata_path = fs.join(path, METADATA_FILENAME)
        try:
            metadata = json.loads(fs.read_bytes(metadata_path).decode("utf-8"))
        except ValueError as error:
            raise PredictError(f"{metadata_path}: not valid JSON ({error})") from error
        self.info = ModelInfo.from_metadata(metadata, source=metadata_path)
        self.source = path
        self._temp = None
        local = path
        if fs.is_remote(path):
            self._temp = tempfile.mkdtemp(prefix="saved-model-")
            local = download_folder(path, self._temp)
        try:
            self._model = tf.saved_model.load(local)
            self._serve = self._model.signatures["serving_default"]
        except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
            raise PredictError(
                f"{path}: the SavedModel cannot be loaded ({error}); export it again with "
                "./save-model.sh"
            ) from error
        finally:
            if self._temp:
                shutil.rmtree(self._temp, ignore_errors=True)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        import tensorflow as tf

        outputs = self._serve(images=tf.constant(images, dtype=tf.uint8))
        return {key: value.numpy() for key, value in outputs.items()}


class CheckpointPredictor:
    """The latest checkpoint of a training folder, with the same processing as an export."""

    def __init__(self, model_path: str):
        import tensorflow as tf

        from sciencebeam_gym.trainer.export import ExportError, load_checkpoint
        from sciencebeam_gym.trainer.inference import PagePredictor

        try:
            generator, config, step, checkpoint = load_checkpoint(model_path)
        except ExportError as error:
            raise PredictError(str(error)) from error
        self.info = ModelInfo.from_config(config, step=step, source_checkpoint=checkpoint)
        self.source = checkpoint
        self._module = PagePredictor(generator, self.info)
        self._tf = tf

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self._module.predict_images(self._tf.constant(images, dtype=self._tf.uint8))
        return {key: value.numpy() for key, value in outputs.items()}


def download_folder(remote: str, local: str) -> str:
    """Copy every file under a remote folder to a local folder; the local folder."""
    fs.copy_tree(remote, local)
    return local


def load_predictor(
    saved_model: str = "", export_path: str = "", model_path: str = "", color_map: str = ""
):
    """The model to predict with (see the module docstring), checked against the colour map."""
    from sciencebeam_gym.trainer.export import is_complete_export

    if saved_model:
        predictor = SavedModelPredictor(saved_model)
    elif export_path and is_complete_export(export_path):
        predictor = SavedModelPredictor(export_path)
    elif model_path:
        try:
            predictor = CheckpointPredictor(model_path)
        except PredictError as error:
            if not export_path:
                raise
            raise PredictError(
                f"{error}; nor is there an export at {export_path} (EXPORT_MODEL_PATH, "
                "./save-model.sh)"
            ) from error
    else:
        raise PredictError(
            "no model: pass --saved_model (an export of ./save-model.sh) or --model_path "
            f"(a training folder){f'; nothing exported at {export_path}' if export_path else ''}"
        )
    if color_map:
        check_same_classes(predictor.info.color_map, load_color_map(color_map), predictor.source)
    return predictor


# --- outputs ----------------------------------------------------------------------------------


def resize_classes(classes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(S, S) class map -> (height, width) for size (width, height), nearest neighbour."""
    if classes.shape[::-1] == size:
        return classes
    return np.asarray(Image.fromarray(classes).resize(size, Image.Resampling.NEAREST))


def overlay_colors(page: np.ndarray, colors: np.ndarray, classes: np.ndarray, alpha: float):
    """The page with the class colours laid over it where a class was found."""
    blended = page.astype(np.float32) * (1.0 - alpha) + colors.astype(np.float32) * alpha
    mixed = np.where(classes[..., None] > 0, np.round(blended), page)
    return mixed.astype(np.uint8)


def connected_regions(classes: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """8-connected regions of equal non-zero class: (region map, 1 = first region; regions).

    Each region: class index, box [x0, y0, x1, y1) and pixel count. Runs of equal class per
    row are joined to touching runs of the row above (union-find), then numbered.
    """
    height, width = classes.shape
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    runs: list[tuple[int, int, int, int, int]] = []  # (row, start, end, class, run id)
    previous: list[tuple[int, int, int, int]] = []
    for y in range(height):
        row = classes[y]
        changes = np.flatnonzero(row[1:] != row[:-1]) + 1
        starts = np.concatenate([[0], changes]).tolist()
        ends = np.concatenate([changes, [width]]).tolist()
        current = []
        k = 0
        for start, end in zip(starts, ends, strict=True):
            value = int(row[start])
            if value == 0:
                continue
            run_id = len(parent)
            parent.append(run_id)
            # runs above that end before this one (diagonals touch) can touch no later run
            while k < len(previous) and previous[k][1] < start:
                k += 1
            j = k
            while j < len(previous) and previous[j][0] <= end:
                if previous[j][2] == value:
                    a, b = find(run_id), find(previous[j][3])
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                j += 1
            current.append((start, end, value, run_id))
            runs.append((y, start, end, value, run_id))
        previous = current

    region_map = np.zeros(classes.shape, dtype=np.int32)
    numbers: dict[int, int] = {}
    regions: list[dict] = []
    for y, start, end, value, run_id in runs:
        root = find(run_id)
        if root not in numbers:
            numbers[root] = len(regions) + 1
            regions.append({"class_index": value, "box": [start, y, end, y + 1], "pixels": 0})
        number = numbers[root]
        region = regions[number - 1]
        box = region["box"]
        box[0], box[2], box[3] = min(box[0], start), max(box[2], end), y + 1
        region["pixels"] += end - start
        region_map[y, start:end] = number
    return region_map, regions


def class_boxes(
    classes: np.ndarray,
    probabilities: np.ndarray,
    info: ModelInfo,
    size: tuple[int, int],
    min_pixels: int = 1,
) -> dict[str, list[dict]]:
    """Per class label, the boxes of its regions in input pixels, sorted top to bottom.

    Box: [x0, y0, x1, y1) at the input's size; score: the region's mean class probability;
    pixels: its area at the model's resolution.
    """
    region_map, regions = connected_regions(classes)
    own = np.take_along_axis(probabilities, classes[..., None].astype(np.int64), axis=-1)[..., 0]
    sums = np.bincount(region_map.ravel(), weights=own.ravel(), minlength=len(regions) + 1)
    scale_x = size[0] / classes.shape[1]
    scale_y = size[1] / classes.shape[0]
    boxes: dict[str, list[dict]] = {}
    for number, region in enumerate(regions, start=1):
        if region["pixels"] < min_pixels:
            continue
        x0, y0, x1, y1 = region["box"]
        label = info.classes[region["class_index"] - 1].label
        boxes.setdefault(label, []).append(
            {
                "box": [
                    math.floor(x0 * scale_x),
                    math.floor(y0 * scale_y),
                    min(size[0], math.ceil(x1 * scale_x)),
                    min(size[1], math.ceil(y1 * scale_y)),
                ],
                "score": round(float(sums[number] / region["pixels"]), 4),
                "pixels": region["pixels"],
            }
        )
    for label_boxes in boxes.values():
        label_boxes.sort(key=lambda b: (b["box"][1], b["box"][0]))
    return {label: boxes[label] for label in info.labels if label in boxes}


def format_boxes_json(document: dict) -> str:
    """The boxes document as JSON with one box per line, for people and diff tools alike."""
    head = {key: value for key, value in document.items() if key != "classes"}
    lines = [json.dumps(head)[:-1] + ', "classes": {']
    classes = list(document["classes"].items())
    for number, (label, boxes) in enumerate(classes, start=1):
        lines.append(f"  {json.dumps(label)}: [")
        lines.extend(
            f"    {json.dumps(box)}{',' if i < len(boxes) else ''}"
            for i, box in enumerate(boxes, start=1)
        )
        lines.append(f"  ]{',' if number < len(classes) else ''}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def encode_png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


class StagedOutputs:
    """Outputs kept in a local temporary folder and written to their places only on `commit`."""

    def __init__(self):
        self._folder = tempfile.mkdtemp(prefix="predict-")
        self._staged: list[tuple[str, str]] = []

    def add(self, path: str, data: bytes) -> None:
        staged = os.path.join(self._folder, f"{len(self._staged)}")
        with open(staged, "wb") as f:
            f.write(data)
        self._staged.append((staged, path))

    def commit(self) -> list[str]:
        written = []
        for staged, path in self._staged:
            with open(staged, "rb") as f:
                fs.write_bytes(path, f.read())
            written.append(path)
        self.discard()
        return written

    def discard(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
        self._staged = []


@dataclass
class PredictOptions:
    overlay: bool = False
    overlay_alpha: float = 0.5
    boxes: bool = False
    min_box_pixels: int = 8
    batch_size: int = 8


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def page_outputs(
    source: PageSource,
    page: Image.Image,
    outputs: dict[str, np.ndarray],
    index: int,
    info: ModelInfo,
    options: PredictOptions,
) -> dict[str, bytes]:
    """The files of one page: coloured annotation, and optionally overlay and boxes."""
    size = page.size
    classes = resize_classes(outputs["classes"][index], size)
    colors = info.palette[classes]
    files = {source.annotation_path: encode_png(colors)}
    if options.overlay:
        rgb = np.asarray(page_to_rgb(page), dtype=np.uint8)
        overlay = overlay_colors(rgb, colors, classes, options.overlay_alpha)
        files[source.output_base + OVERLAY_SUFFIX] = encode_png(overlay)
    if options.boxes:
        boxes = class_boxes(
            outputs["classes"][index],
            outputs["probabilities"][index],
            info,
            size,
            options.min_box_pixels,
        )
        document = {"page": source.name, "width": size[0], "height": size[1], "classes": boxes}
        files[source.output_base + BOXES_SUFFIX] = format_boxes_json(document).encode("utf-8")
    return files


def predict_sources(predictor, sources: Sequence[PageSource], options: PredictOptions) -> list[str]:
    """Predict every page and write the outputs once all succeeded; the paths written."""
    staged = StagedOutputs()
    done = 0
    started = time.monotonic()
    try:
        for batch in batches(sources, options.batch_size):
            pages = [source.load() for source in batch]
            inputs = np.stack([to_model_input(page, predictor.info.image_size) for page in pages])
            outputs = predictor.predict(inputs)
            for index, (source, page) in enumerate(zip(batch, pages, strict=True)):
                for path, data in page_outputs(
                    source, page, outputs, index, predictor.info, options
                ).items():
                    staged.add(path, data)
            done += len(batch)
            LOGGER.info(
                "[predict] %d/%d pages (%.1f s)", done, len(sources), time.monotonic() - started
            )
        return staged.commit()
    finally:
        staged.discard()


# --- command line -----------------------------------------------------------------------------


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.predict",
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
        help="output image for an image input (default <input stem>.out.png), or output folder "
        "for a folder or PDF input (default: beside the input)",
    )
    model = parser.add_argument_group("model (the first available is used)")
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
    out = parser.add_argument_group("outputs")
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
    run = parser.add_argument_group("input and run")
    run.add_argument(
        "--pdf_dpi",
        type=float,
        default=DEFAULT_DPI,
        help=f"resolution PDF pages are rendered at (default {DEFAULT_DPI:g})",
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
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0.0 <= args.overlay_alpha <= 1.0:
        parser.error(f"--overlay_alpha must be between 0 and 1, got {args.overlay_alpha}")
    if args.batch_size < 1:
        parser.error(f"--batch_size must be >= 1, got {args.batch_size}")
    if args.pdf_dpi <= 0:
        parser.error(f"--pdf_dpi must be > 0, got {args.pdf_dpi}")
    if args.max_pages < 0:
        parser.error(f"--max_pages must be >= 0, got {args.max_pages}")
    if args.min_box_pixels < 1:
        parser.error(f"--min_box_pixels must be >= 1, got {args.min_box_pixels}")


def main(argv=None) -> int:
    parser = get_args_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    cli.configure_logging()
    options = PredictOptions(
        overlay=args.overlay,
        overlay_alpha=args.overlay_alpha,
        boxes=args.boxes,
        min_box_pixels=args.min_box_pixels,
        batch_size=args.batch_size,
    )
    started = time.monotonic()
    try:
        sources = find_sources(args.input, args.output, args.pdf_dpi, args.max_pages)
        LOGGER.info("[predict] %d page(s) from %s", len(sources), args.input)
        predictor = load_predictor(
            saved_model=args.saved_model,
            export_path="" if args.from_checkpoint else args.export_path,
            model_path=args.model_path,
            color_map=args.color_map,
        )
        LOGGER.info(
            "[predict] model: %s (step %s, %d classes, %dx%d)",
            predictor.source,
            predictor.info.training_step,
            len(predictor.info.classes),
            predictor.info.image_size,
            predictor.info.image_size,
        )
        written = predict_sources(predictor, sources, options)
    except (PredictError, InferenceError, ImageError, PdfError, ColorMapError) as error:
        cli.report_error(error)
        print("  no output was written", file=sys.stderr)
        return cli.EXIT_USAGE
    for path in written:
        print(path)
    LOGGER.info(
        "[predict] %d page(s) -> %d file(s) in %.1f s",
        len(sources),
        len(written),
        time.monotonic() - started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
