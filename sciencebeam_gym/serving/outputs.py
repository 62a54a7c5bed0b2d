"""The files written for each predicted page, held back until every page succeeded.

`<name>.out.png` (the page painted in the class colours; background black), with `--overlay`
`<name>.overlay.png` (the colours laid over the page), with `--boxes` `<name>.boxes.json`. Each
carries the toolkit's mark (`output_marks`): an existing file without it is never overwritten.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sciencebeam_gym.page_image import page_to_rgb
from sciencebeam_gym.serving.errors import PredictError
from sciencebeam_gym.serving.metadata import ModelInfo
from sciencebeam_gym.serving.pages import BOXES_SUFFIX, OVERLAY_SUFFIX, PageSource
from sciencebeam_gym.serving.regions import class_boxes, format_boxes_json
from sciencebeam_gym.serving.temp_folders import owned_name, remove_stale
from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.output_marks import mark_json, png_info, unmarked_files

PENDING_PREFIX = "sciencebeam-gym-predict-"
MARK_STAGE = "predict"
# the pending-output folders of earlier versions: tempfile's `predict-` + 8 random characters
LEGACY_PENDING_RE = re.compile(r"predict-[a-z0-9_]{8}")


def is_legacy_pending_folder(path: str) -> bool:
    """An earlier version's pending-output folder: its name, and only numbered files inside."""
    if not LEGACY_PENDING_RE.fullmatch(os.path.basename(path)) or not os.path.isdir(path):
        return False
    try:
        return all(name.isdigit() for name in os.listdir(path))
    except OSError:
        return False


@dataclass
class PredictOptions:
    overlay: bool = False
    overlay_alpha: float = 0.5
    boxes: bool = False
    min_box_pixels: int = 8
    batch_size: int = 8


def resize_classes(classes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) class map at the model's size -> (height, width) for size (width, height), nearest."""
    if classes.shape[::-1] == size:
        return classes
    return np.asarray(Image.fromarray(classes).resize(size, Image.Resampling.NEAREST))


def overlay_colors(page: np.ndarray, colors: np.ndarray, classes: np.ndarray, alpha: float):
    """The page with the class colours laid over it where a class was found."""
    blended = page.astype(np.float32) * (1.0 - alpha) + colors.astype(np.float32) * alpha
    mixed = np.where(classes[..., None] > 0, np.round(blended), page)
    return mixed.astype(np.uint8)


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes carrying the toolkit's mark (a later run may replace the file, nobody else's)."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", pnginfo=png_info(MARK_STAGE))
    return out.getvalue()


def output_paths(source: PageSource, options: PredictOptions) -> list[str]:
    """The files a page's prediction writes (see `page_outputs`)."""
    paths = [source.annotation_path]
    if options.overlay:
        paths.append(source.output_base + OVERLAY_SUFFIX)
    if options.boxes:
        paths.append(source.output_base + BOXES_SUFFIX)
    return paths


def check_output_files(sources: list[PageSource], options: PredictOptions) -> None:
    """PredictError, before the model loads, for two pages that would write one file (x.png
    and x.jpg) and for an output file that exists and was not written by predict (an output
    file named on the command line is the user's choice and is not checked)."""
    by_path: dict[str, str] = {}
    for source in sources:
        for path in output_paths(source, options):
            if path in by_path:
                raise PredictError(
                    f"{by_path[path]} and {source.name} would both be written to {path}; "
                    "rename one or predict them in separate runs"
                )
            by_path[path] = source.name
    named = {source.output_file for source in sources}
    foreign = unmarked_files(path for path in by_path if path not in named)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise PredictError(
            f"{foreign[0]}{more} already exist(s) and was not written by predict; it would be "
            "overwritten. Pass another OUTPUT folder (or move the file away)"
        )


class PendingOutputs:
    """Outputs kept in a local temporary folder and written to their places only on `commit`.

    The folder is named for this process (see `temp_folders`): the next run removes the folder of
    a run that was killed, and leaves a live one's alone.
    """

    def __init__(self):
        temp = tempfile.gettempdir()
        remove_stale(temp, PENDING_PREFIX, is_legacy_pending_folder)
        self._folder = os.path.join(temp, owned_name(PENDING_PREFIX))
        os.makedirs(self._folder)
        self._pending: list[tuple[str, str]] = []

    def add(self, path: str, data: bytes) -> None:
        pending = os.path.join(self._folder, f"{len(self._pending)}")
        with open(pending, "wb") as f:
            f.write(data)
        self._pending.append((pending, path))

    def commit(self) -> list[str]:
        written = []
        for pending, path in self._pending:
            with open(pending, "rb") as f:
                fs.write_bytes(path, f.read())
            written.append(path)
        self.discard()
        return written

    def discard(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
        self._pending = []


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
        document = mark_json(document, MARK_STAGE)
        files[source.output_base + BOXES_SUFFIX] = format_boxes_json(document).encode("utf-8")
    return files
