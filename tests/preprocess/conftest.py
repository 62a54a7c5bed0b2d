"""Fixtures of the preprocessing tests: small page and label images drawn in code."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym.color_map import default_color_map_path, load_color_map


@pytest.fixture(scope="session")
def color_map():
    return load_color_map(default_color_map_path())


def png_bytes(image: Image.Image | np.ndarray, **save_args) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="PNG", **save_args)
    return out.getvalue()


def draw_page(width: int = 120, height: int = 160, seed: int = 0) -> np.ndarray:
    """A white RGB page with dark 'text lines' and a coloured block."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), 255, dtype=np.uint8)
    for y in range(8, height - 8, 6):
        x_end = int(rng.integers(width // 2, width - 6))
        page[y : y + 3, 6:x_end] = rng.integers(0, 60)
    page[height // 2 : height // 2 + 20, 10:40] = (30, 120, 200)
    return page


def draw_label(width: int = 120, height: int = 160, keys=(1, 12, 24)) -> np.ndarray:
    """A grey label image: horizontal bands of the given class keys on background 0."""
    label = np.zeros((height, width), dtype=np.uint8)
    band = height // (len(keys) + 1)
    for i, key in enumerate(keys):
        label[i * band + 2 : (i + 1) * band - 2, 4 : width - 4] = key
    return label


def write_pair(folder: str, name: str, page=None, label=None, seed: int = 0) -> tuple[str, str]:
    """Write <folder>/<name>-page1.png and <name>-page1.annot.png; returns both paths."""
    os.makedirs(folder, exist_ok=True)
    page_path = os.path.join(folder, f"{name}-page1.png")
    label_path = os.path.join(folder, f"{name}-page1.annot.png")
    with open(page_path, "wb") as f:
        f.write(
            page
            if isinstance(page, bytes)
            else png_bytes(draw_page(seed=seed) if page is None else page)
        )
    with open(label_path, "wb") as f:
        f.write(
            label
            if isinstance(label, bytes)
            else png_bytes(draw_label() if label is None else label)
        )
    return page_path, label_path


def decompression_bomb_png(width: int = 20000, height: int = 10000) -> bytes:
    """A valid, tiny greyscale PNG whose pixel count is beyond Pillow's decompression-bomb limit."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    rows_per_block = 500
    data = b"".join(
        compressor.compress(row * rows_per_block) for _ in range(height // rows_per_block)
    )
    data += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
