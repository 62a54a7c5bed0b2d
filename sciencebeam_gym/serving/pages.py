"""The pages of a prediction input (an image, a folder of them, or a PDF) and their output names.

Pages are read (or rendered) one at a time while the model runs, so a 500-page PDF or a large
folder costs the memory of a batch. Output folders are made when the outputs are written, and
refused up front when they are a data split (see `check_not_a_data_split`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from sciencebeam_gym.color_map import ANNOTATION_NAME_PATTERN
from sciencebeam_gym.data_layout import SPLITS
from sciencebeam_gym.document import limits
from sciencebeam_gym.document.pdf import DEFAULT_DPI, DEFAULT_MAX_PAGE_PIXELS, count_pages
from sciencebeam_gym.document.pdf import render_pages as render_pdf_pages
from sciencebeam_gym.document.sources import PDF_SUFFIXES
from sciencebeam_gym.page_image import READ_ERROR, ImageError, open_image
from sciencebeam_gym.serving.errors import PredictError
from sciencebeam_gym.storage import fs

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
OUTPUT_SUFFIX = ".out.png"
OVERLAY_SUFFIX = ".overlay.png"
BOXES_SUFFIX = ".boxes.json"
ANNOTATION_RE = re.compile(ANNOTATION_NAME_PATTERN)
# Files in an input folder that are not pages: annotations (as preprocess tells them) and outputs.
NOT_A_PAGE_RE = re.compile(
    rf"{ANNOTATION_NAME_PATTERN}|{re.escape(OUTPUT_SUFFIX)}$|{re.escape(OVERLAY_SUFFIX)}$"
)


@dataclass(frozen=True)
class PageSource:
    """One page to predict: its name and where its outputs go (without suffix)."""

    name: str  # shown in progress and in the boxes JSON
    output_base: str  # output path without `.out.png` / `.overlay.png` / `.boxes.json`
    output_file: str = ""  # the coloured annotation's path when given; else base + .out.png

    @property
    def annotation_path(self) -> str:
        return self.output_file or self.output_base + OUTPUT_SUFFIX


@dataclass(frozen=True)
class PageInputs:
    """The pages of an input: their sources, and a generator of their images in the same order."""

    sources: list[PageSource]
    # the page images, given the dpi a PDF's pages are rendered at (images ignore it)
    read_pages: Callable[[float], Iterator[Image.Image]]

    def __len__(self) -> int:
        return len(self.sources)

    def pages(self, pdf_dpi: float = DEFAULT_DPI) -> Iterator[tuple[PageSource, Image.Image]]:
        """(source, page image) one page at a time; a PDF's pages rendered at `pdf_dpi` unless
        the PdfOptions named a dpi."""
        return zip(self.sources, self.read_pages(pdf_dpi), strict=True)


@dataclass(frozen=True)
class PdfOptions:
    dpi: float | None = None  # None: the dpi given to PageInputs.pages (the model's)
    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS


def strip_image_extension(path: str) -> str:
    root, extension = os.path.splitext(path)
    return root if extension.lower() in IMAGE_EXTENSIONS else path


def names_an_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def output_base_for_file(output: str) -> str:
    """`x.out.png` and `x.png` both give the base `x`."""
    if output.endswith(OUTPUT_SUFFIX):
        return output[: -len(OUTPUT_SUFFIX)]
    return strip_image_extension(output)


def is_pdf_path(path: str) -> bool:
    return path.lower().endswith(PDF_SUFFIXES)


def is_folder(path: str) -> bool:
    if fs.is_remote(path):
        return path.endswith("/") or (not fs.exists(path) and bool(fs.glob(fs.join(path, "*"))))
    return os.path.isdir(path)


def pdf_stem(name: str) -> str:
    """`x.pdf` and `x.pdf.gz` -> `x`."""
    for suffix in PDF_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_input(path: str) -> bytes:
    """An input file's bytes; PredictError when it cannot be read, is no regular file (a FIFO
    would never end) or is beyond limits.MAX_PDF_BYTES."""
    try:
        return limits.read_document(path, limits.MAX_PDF_BYTES)
    except (OSError, ValueError) as error:  # LimitError is a ValueError
        raise PredictError(f"{path}: cannot be read ({error})") from error


def load_image(path: str) -> Image.Image:
    """A page image file, decoded; ImageError when it cannot be read."""
    try:
        data = fs.read_bytes(path)
    except (OSError, ValueError) as error:
        raise ImageError(READ_ERROR, f"{path}: cannot be read ({error})", path) from error
    return open_image(data, path)


def find_folder_pages(folder: str) -> list[str]:
    """Page images under a folder, recursively, without annotations and earlier outputs."""
    found = fs.glob(fs.join(fs.escape_glob(folder.rstrip("/")), "**"))
    return [
        path
        for path in found
        if names_an_image(path) and not NOT_A_PAGE_RE.search(fs.basename(path))
    ]


def folder_inputs(folder: str, output: str | None, max_pages: int = 0) -> PageInputs:
    paths = find_folder_pages(folder)
    if not paths:
        raise PredictError(
            f"{folder}: no page images (*.png, *.jpg) in this folder or below "
            "(annotations and earlier outputs are left out)"
        )
    if max_pages:
        paths = paths[:max_pages]
    out_folder = output or folder
    if names_an_image(out_folder):
        raise PredictError(f"the output for a folder must be a folder, got {out_folder}")
    root = folder.rstrip("/")
    sources = []
    for path in paths:
        relative = path[len(root) :].lstrip("/\\")
        base = fs.join(out_folder, strip_image_extension(relative))
        sources.append(PageSource(name=relative, output_base=base))
    return PageInputs(sources, lambda _dpi: (load_image(path) for path in paths))


def pdf_inputs(path: str, output: str | None, options: PdfOptions, max_pages: int) -> PageInputs:
    data = read_input(path)
    count = count_pages(data, path)  # a PDF that does not open stops before the model loads
    if max_pages:
        count = min(count, max_pages)
    out_folder = output or fs.dirname(path) or "."
    if names_an_image(out_folder):
        raise PredictError(f"the output for a PDF must be a folder, got {out_folder}")
    stem = pdf_stem(fs.basename(path))
    sources = [
        PageSource(
            name=f"{fs.basename(path)} page {number}",
            output_base=fs.join(out_folder, f"{stem}-page{number}"),
        )
        for number in range(1, count + 1)
    ]

    def read_pages(dpi: float) -> Iterator[Image.Image]:
        pages = render_pdf_pages(data, path, options.dpi or dpi, count, options.max_pixels)
        return (image for _number, image in pages)

    return PageInputs(sources, read_pages)


def image_inputs(path: str, output: str | None) -> PageInputs:
    """One page image; an output naming an image file is its annotation, else a folder."""
    # decoded now, so a broken page stops the run before the model is loaded
    image = open_image(read_input(path), path)
    output_file = ""
    if output and os.path.abspath(output) == os.path.abspath(path):
        raise PredictError(f"the output {output} is the input page: choose another name")
    if output and names_an_image(output):
        base, output_file = output_base_for_file(output), output
    elif output:
        base = fs.join(output, strip_image_extension(fs.basename(path)))
    else:
        base = strip_image_extension(path)
    source = PageSource(name=fs.basename(path), output_base=base, output_file=output_file)
    return PageInputs([source], lambda _dpi: iter([image]))


def find_inputs(
    input_path: str,
    output: str | None,
    pdf: PdfOptions | None = None,
    max_pages: int = 0,
) -> PageInputs:
    """The pages of an input (image, folder or PDF) with their output names."""
    if not input_path:
        raise PredictError("no input given: pass a page image, a folder of them, or a PDF")
    if is_folder(input_path):
        return folder_inputs(input_path, output, max_pages)
    if not fs.exists(input_path):
        raise PredictError(f"{input_path}: no such file or folder (the input)")
    if is_pdf_path(input_path):
        return pdf_inputs(input_path, output, pdf or PdfOptions(), max_pages)
    return image_inputs(input_path, output)


def output_folders(inputs: PageInputs) -> list[str]:
    """The folders the outputs of these pages go to, each once."""
    folders = {fs.dirname(source.annotation_path) or "." for source in inputs.sources}
    folders.update(fs.dirname(source.output_base) or "." for source in inputs.sources)
    return sorted(folders)


def _within(path: str, folder: str) -> bool:
    if fs.is_remote(path) or fs.is_remote(folder):
        path, folder = path.rstrip("/"), folder.rstrip("/")
    else:
        path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/\\") + "/")


def holds_annotations(folder: str) -> bool:
    """Whether a folder holds annotation images (label images beside their pages)."""
    if fs.is_remote(folder):
        names = [fs.basename(path) for path in fs.glob(fs.join(folder.rstrip("/"), "*"))]
    else:
        names = os.listdir(folder) if os.path.isdir(folder) else []
    return any(names_an_image(name) and ANNOTATION_RE.search(name) for name in names)


def check_not_a_data_split(folder: str, data_path: str = "") -> None:
    """Refuse an output folder that is a data split.

    A folder counts as a data split when it lies in `<data_path>/train` or `<data_path>/test`
    (DATA_PATH, the splits preprocess.sh reads), or when it holds annotation images (names such
    as `x-page1.annot.png`): preprocessing would take the outputs written there for pages.
    """
    inside = [
        fs.join(data_path, split)
        for split in SPLITS
        if data_path and _within(folder, fs.join(data_path, split))
    ]
    if inside or holds_annotations(folder):
        why = (
            f"it is inside the data split {inside[0]} (DATA_PATH)"
            if inside
            else "it holds annotation images (*.annot.png): it is training or test data"
        )
        raise PredictError(
            f"the output folder {folder} is a data split: {why}, and the next ./preprocess.sh "
            "would read the predictions as pages. Write them elsewhere, e.g. "
            "./predict.sh INPUT predictions/ (a folder outside DATA_PATH's train/ and test/)"
        )


def check_output_folders(inputs: PageInputs, data_path: str = "") -> None:
    """Refuse outputs that would land in a data split (missing folders are made when written)."""
    for folder in output_folders(inputs):
        check_not_a_data_split(folder, data_path)
