"""Image work of the preprocessing stage, as pure functions (bytes in, bytes out).

A page image is resized by `page_image.page_at_size` (bicubic; serving resizes with the same
function); an annotation (label image) with nearest neighbour, then colour-mapped (grey k ->
colour of class k). Both come out as RGB PNG bytes. Every way an input file can be unusable
raises `ImageError` with a short machine-readable reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sciencebeam_gym.color_map import ColorMap
from sciencebeam_gym.page_image import (
    DEFAULT_REDUCING_GAP,
    EMPTY_FILE,
    IMAGE_TOO_LARGE,
    NOT_AN_IMAGE,
    READ_ERROR,
    TRUNCATED_IMAGE,
    UNEXPECTED_ERROR,
    UNSUPPORTED_IMAGE,
    ImageError,
    convert_to_rgb,
    open_image,
    page_at_size,
)

# A preprocessing skip reason of its own (the others come from page_image).
SIZE_MISMATCH = "size_mismatch"
UNMAPPED_COLORS = "unmapped_colors"  # too many annotation pixels outside the colour map

# the image errors and skip reasons are the pipeline's too
__all__ = [
    "DEFAULT_PNG_COMPRESS_LEVEL",
    "DEFAULT_REDUCING_GAP",
    "EMPTY_FILE",
    "IMAGE_TOO_LARGE",
    "NOT_AN_IMAGE",
    "READ_ERROR",
    "TRUNCATED_IMAGE",
    "UNMAPPED_COLORS",
    "UNEXPECTED_ERROR",
    "UNSUPPORTED_IMAGE",
    "ImageError",
    "MappedAnnotation",
    "annotation_to_rgb",
    "check_unmapped",
    "color_map_annotation",
    "commonest_unmapped",
    "encode_png",
    "map_annotation",
    "open_image",
    "preprocess_annotation",
    "preprocess_page",
    "resize_annotation",
]

# zlib level 1: the PNGs are decoded again by the trainer only, so fast beats small.
DEFAULT_PNG_COMPRESS_LEVEL = 1


def check_same_size(page: bytes, annotation: bytes, page_path: str, annotation_path: str):
    """ImageError (size_mismatch) when a page and its label differ in pixel size.

    Resizing both to the target size would stretch such a label over the page (a label of
    another run or resolution); only the headers are read, the files have been decoded already.
    """
    page_size = Image.open(io.BytesIO(page)).size
    annotation_size = Image.open(io.BytesIO(annotation)).size
    if page_size != annotation_size:
        raise ImageError(
            SIZE_MISMATCH,
            f"{page_path}: the page is {page_size[0]}x{page_size[1]} pixels but its annotation "
            f"{annotation_path} is {annotation_size[0]}x{annotation_size[1]}; regenerate the pair",
            page_path,
        )


def annotation_to_rgb(image: Image.Image, path: str = "<image>") -> Image.Image:
    """An RGB version of a label image: grey k stays (k,k,k), palettes expanded, alpha dropped."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        values = np.asarray(image)
        if values.max(initial=0) > 255 or values.min(initial=0) < 0:
            raise ImageError(
                UNSUPPORTED_IMAGE,
                f"{path}: label values beyond 0..255 in a {image.mode} image",
                path,
            )
        return Image.fromarray(values.astype(np.uint8)).convert("RGB")
    return convert_to_rgb(image, path)


def resize_annotation(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Nearest-neighbour resize of an RGB label image, so no new colours appear."""
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.NEAREST)


def color_map_annotation(image: Image.Image, color_map: ColorMap) -> np.ndarray:
    """The annotation as an (H, W, 3) uint8 array with grey class keys replaced by class colours."""
    return color_map.map_grey_to_colors(np.asarray(image, dtype=np.uint8))


def encode_png(image: Image.Image | np.ndarray, compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL):
    """PNG bytes of an RGB image or (H, W, 3) uint8 array."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image, mode="RGB") if image.ndim == 3 else Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=compress_level)
    return out.getvalue()


# Modes where resampling before the colour conversion gives the same pixels (and is cheaper).
_ANNOTATION_RESIZE_FIRST_MODES = ("1", "L", "P", "RGB", "RGBA", "LA", "PA")


def preprocess_page(
    data: bytes,
    size: tuple[int, int],
    path: str = "<page>",
    reducing_gap: float | None = DEFAULT_REDUCING_GAP,
    compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL,
    max_pixels: int | None = None,
) -> bytes:
    """Page file bytes -> resized RGB PNG bytes."""
    image = open_image(data, path, max_pixels=max_pixels)
    return encode_png(page_at_size(image, size, path, reducing_gap), compress_level)


@dataclass(frozen=True)
class MappedAnnotation:
    """A resized, colour-mapped annotation and how many of its pixels the map did not cover."""

    png: bytes
    unmapped_pixels: int
    pixels: int
    unmapped_examples: tuple[tuple[int, int, int], ...] = ()  # the commonest such values

    @property
    def unmapped_fraction(self) -> float:
        return self.unmapped_pixels / self.pixels if self.pixels else 0.0


def commonest_unmapped(rgb: np.ndarray, color_map: ColorMap, limit: int = 3) -> tuple:
    """The `limit` commonest colours of pixels outside the colour map (greys as (k,k,k))."""
    mask = color_map.unmapped_mask(rgb)
    values, counts = np.unique(rgb[mask].reshape(-1, 3), axis=0, return_counts=True)
    return tuple(tuple(int(v) for v in values[i]) for i in np.argsort(-counts)[:limit])


def map_annotation(
    data: bytes,
    size: tuple[int, int],
    color_map: ColorMap,
    path: str = "<annotation>",
    compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL,
    max_pixels: int | None = None,
) -> MappedAnnotation:
    """Annotation file bytes -> resized, colour-mapped RGB PNG, with the unmapped pixel count."""
    image = open_image(data, path, max_pixels=max_pixels)
    if image.mode in _ANNOTATION_RESIZE_FIRST_MODES:
        resized = annotation_to_rgb(resize_annotation(image, size), path)
    else:
        resized = resize_annotation(annotation_to_rgb(image, path), size)
    mapped = color_map_annotation(resized, color_map)
    unmapped = color_map.count_unmapped(mapped)
    examples = commonest_unmapped(mapped, color_map) if unmapped else ()
    return MappedAnnotation(
        encode_png(mapped, compress_level), unmapped, mapped.shape[0] * mapped.shape[1], examples
    )


def check_unmapped(mapped: MappedAnnotation, color_map: ColorMap, path: str, limit: float):
    """ImageError (UNMAPPED_COLORS) when more than `limit` of the pixels are outside the map."""
    if mapped.unmapped_fraction <= limit:
        return
    raise ImageError(
        UNMAPPED_COLORS,
        f"{path}: {mapped.unmapped_fraction:.1%} of the pixels ({mapped.unmapped_pixels}) have "
        f"values outside the colour map {color_map.source} (e.g. {list(mapped.unmapped_examples)})"
        f", above --max_unmapped_fraction {limit}; they would train as background: use the "
        "colour map the labels were made with, or fix the labels",
        path,
    )


def preprocess_annotation(
    data: bytes, size: tuple[int, int], color_map: ColorMap, **options
) -> bytes:
    """Annotation file bytes -> resized, colour-mapped RGB PNG bytes (options: `map_annotation`'s)."""
    return map_annotation(data, size, color_map, **options).png
