"""Raster a laid-out page: the page image (RGB) and its label image (grey k = class key k)."""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from sciencebeam_gym.sample_data.fonts import font_path
from sciencebeam_gym.sample_data.layout import Page

PAPER = (255, 255, 255)


def pixel_size(page: Page, dpi: float) -> tuple[int, int]:
    """Page size in pixels at a DPI: ceil(points * dpi / 72), computed as a PDF renderer does
    (the page box as a 32-bit float), so rendering the PDF at that DPI gives the same size."""
    scale = dpi / 72
    return (
        math.ceil(float(np.float32(page.width)) * scale),
        math.ceil(float(np.float32(page.height)) * scale),
    )


# With text shaping available, glyphs are placed at the font's unhinted advances (kerning and
# ligatures off), exactly where a PDF viewer puts them; the basic layout rounds advances.
_RAQM = features.check("raqm")
_TEXT_FEATURES = ["-kern", "-liga", "-clig"] if _RAQM else None
_LAYOUT = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC


@lru_cache(maxsize=256)
def _pil_font(key: str, size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(key), size_px, layout_engine=_LAYOUT)


def _grey(value):
    """A grey level (0-255) or an (r, g, b) colour as Pillow's RGB triple."""
    if value is None or isinstance(value, tuple):
        return value
    return (value, value, value)


def render_page_image(page: Page, dpi: float) -> Image.Image:
    """The page as a white RGB image with grey-scale text and drawings."""
    scale = dpi / 72
    image = Image.new("RGB", pixel_size(page, dpi), PAPER)
    draw = ImageDraw.Draw(image)
    for shape in page.shapes:
        points = [v * scale for v in shape.points]
        width = max(1, round(shape.width * scale))
        stroke, fill = _grey(shape.stroke), _grey(shape.fill)
        if shape.kind == "rect":
            draw.rectangle(points, fill=fill, outline=stroke, width=width if stroke else 0)
        elif shape.kind == "ellipse":
            draw.ellipse(points, fill=fill, outline=stroke, width=width if stroke else 0)
        else:
            draw.line(points, fill=stroke, width=width, joint="curve")
    for span in page.spans:
        font = _pil_font(span.font, round(span.size * scale, 2))
        draw.text(
            (span.x * scale, span.baseline * scale),
            span.text,
            fill=_grey(span.grey),
            font=font,
            anchor="ls",
            features=_TEXT_FEATURES,
        )
    return image


def render_label_image(page: Page, dpi: float, keys: dict[str, int]) -> Image.Image:
    """The label image ("L"): each region filled with its class key; unknown labels are left
    out (background)."""
    scale = dpi / 72
    image = Image.new("L", pixel_size(page, dpi), 0)
    draw = ImageDraw.Draw(image)
    for region in page.regions:
        key = keys.get(region.label)
        if not key:
            continue
        x0, y0 = math.floor(region.x0 * scale), math.floor(region.y0 * scale)
        x1, y1 = math.ceil(region.x1 * scale) - 1, math.ceil(region.y1 * scale) - 1
        if x1 >= x0 and y1 >= y0:
            draw.rectangle((x0, y0, x1, y1), fill=key)
    return image


def png_bytes(image: Image.Image, dpi: float) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()
