"""A page image: decode it safely, make it RGB, and resize it to a model's size.

The one page resize of the toolkit: preprocessing makes the training records with it and
serving resizes pages with it before the model, so both see the same pixels. Every way an input
file can be unusable raises `ImageError` with a short machine-readable reason.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

# Reasons an input is skipped (also the suffixes of the Beam counters `skipped_<reason>`).
EMPTY_FILE = "empty_file"
NOT_AN_IMAGE = "not_an_image"
TRUNCATED_IMAGE = "truncated_image"
IMAGE_TOO_LARGE = "image_too_large"
UNSUPPORTED_IMAGE = "unsupported_image"
READ_ERROR = "read_error"
UNEXPECTED_ERROR = "unexpected_error"  # anything else that went wrong with a pair

# Pillow first shrinks by an integer factor while the image stays at least this many times the
# target size, then resamples the rest exactly; 3 is visually identical to a full bicubic resize
# and several times faster on full-size pages.
DEFAULT_REDUCING_GAP = 3.0


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
    return convert_to_rgb(image, path)


def convert_to_rgb(image: Image.Image, path: str = "<image>") -> Image.Image:
    """PIL's own RGB conversion; ImageError (UNSUPPORTED_IMAGE) for a mode it cannot convert."""
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


# Modes where resampling before the colour conversion gives the same pixels (and is cheaper).
_RESIZE_FIRST_MODES = ("L", "RGB")


def page_at_size(
    image: Image.Image,
    size: tuple[int, int],
    path: str = "<page>",
    reducing_gap: float | None = DEFAULT_REDUCING_GAP,
) -> Image.Image:
    """An RGB page resized to (width, height), as the training records are made."""
    if image.mode in _RESIZE_FIRST_MODES:
        return page_to_rgb(resize_page(image, size, reducing_gap=reducing_gap), path)
    return resize_page(page_to_rgb(image, path), size, reducing_gap=reducing_gap)
