"""Image work of the preprocessing stage, as pure functions (bytes in, bytes out).

A page image is resized with bicubic resampling; an annotation (label image) with nearest
neighbour, then colour-mapped (grey k -> colour of class k). Both come out as RGB PNG bytes.
Every way an input file can be unusable raises `ImageError` with a short machine-readable reason.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from sciencebeam_gym.color_map import ColorMap

# Reasons an input is skipped (also the suffixes of the Beam counters `skipped_<reason>`).
EMPTY_FILE = "empty_file"
NOT_AN_IMAGE = "not_an_image"
TRUNCATED_IMAGE = "truncated_image"
IMAGE_TOO_LARGE = "image_too_large"
UNSUPPORTED_IMAGE = "unsupported_image"
READ_ERROR = "read_error"
SIZE_MISMATCH = "size_mismatch"
UNMAPPED_COLORS = "unmapped_colors"  # too many annotation pixels outside the colour map
UNEXPECTED_ERROR = "unexpected_error"  # anything else that went wrong with a pair

# Pillow first shrinks by an integer factor while the image stays at least this many times the
# target size, then resamples the rest exactly; 3 is visually identical to a full bicubic resize
# and several times faster on full-size pages.
DEFAULT_REDUCING_GAP = 3.0
# zlib level 1: the PNGs are decoded again by the trainer only, so fast beats small.
DEFAULT_PNG_COMPRESS_LEVEL = 1


class ImageError(ValueError):
    """An input image that cannot be used; `reason` is one of the constants above."""

    def __init__(self, reason: str, message: str, path: str = "<image>"):
        super().__init__(message)
        self.reason = reason
        self.path = path


def open_image(data: bytes, path: str = "<image>", max_pixels: int | None = None) -> Image.Image:
    """Decode image bytes fully, refusing empty, non-image, truncated and oversized files."""
    if not data:
        raise ImageError(EMPTY_FILE, f"{path}: the file is empty (0 bytes)", path)
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if limit and width * height > limit:
                raise ImageError(
                    IMAGE_TOO_LARGE,
                    f"{path}: {width}x{height} pixels is beyond the limit of {limit} pixels "
                    "(a decompression bomb or a wrong file)",
                    path,
                )
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(IMAGE_TOO_LARGE, f"{path}: {error}", path) from error
    except UnidentifiedImageError as error:
        raise ImageError(
            NOT_AN_IMAGE, f"{path}: not an image file Pillow can read", path
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(
            TRUNCATED_IMAGE, f"{path}: broken or truncated image ({error})", path
        ) from error
    return image


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


def page_to_rgb(image: Image.Image, path: str = "<image>") -> Image.Image:
    """An RGB version of a page: transparency over white, palettes and greys expanded."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit or float greys: scale the used range down to 8 bits.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        grey = np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as error:
        raise ImageError(
            UNSUPPORTED_IMAGE, f"{path}: cannot convert mode {image.mode}", path
        ) from error


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
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as error:
        raise ImageError(
            UNSUPPORTED_IMAGE, f"{path}: cannot convert mode {image.mode}", path
        ) from error


def resize_page(
    image: Image.Image, size: tuple[int, int], reducing_gap: float | None = DEFAULT_REDUCING_GAP
) -> Image.Image:
    """Bicubic resize of an RGB page to (width, height)."""
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=reducing_gap)


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
_PAGE_RESIZE_FIRST_MODES = ("L", "RGB")
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
    if image.mode in _PAGE_RESIZE_FIRST_MODES:
        resized = page_to_rgb(resize_page(image, size, reducing_gap=reducing_gap), path)
    else:
        resized = resize_page(page_to_rgb(image, path), size, reducing_gap=reducing_gap)
    return encode_png(resized, compress_level)


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
    mask = color_map.rgb_to_class_index(rgb, unmapped=255) == 255
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
    data: bytes,
    size: tuple[int, int],
    color_map: ColorMap,
    path: str = "<annotation>",
    compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL,
    max_pixels: int | None = None,
) -> bytes:
    """Annotation file bytes -> resized, colour-mapped RGB PNG bytes."""
    return map_annotation(data, size, color_map, path, compress_level, max_pixels).png
