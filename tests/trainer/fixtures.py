"""Tiny TFRecords in the preprocess output format, made in code for the trainer tests.

Each page is white with a few dark blocks; the annotation paints each block in the colour of
its class (block position tells the class), so a small model can learn the mapping.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from sciencebeam_gym import records

COLOR_MAP_TEXT = """
[color_map]
1=(255,0,0)
2=(0,255,0)
3=(0,0,255)
[color_labels]
1=title
2=author
3=body
"""


def write_color_map(directory) -> str:
    path = os.path.join(str(directory), "color_map.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(COLOR_MAP_TEXT)
    return path


def make_page(size, colors: np.ndarray, rng: np.random.Generator):
    """(page uint8 HxWx3, annotation uint8 HxWx3) with one band per class, jittered; size is a
    square's side or (width, height)."""
    width, height = (size, size) if isinstance(size, int) else size
    page = np.full((height, width, 3), 255, dtype=np.uint8)
    annotation = np.zeros((height, width, 3), dtype=np.uint8)
    band = height // (len(colors) + 1)
    for index, color in enumerate(colors):
        top = index * band + int(rng.integers(0, max(1, band // 4)))
        thickness = max(2, band // 2 + int(rng.integers(0, max(1, band // 4))))
        left = int(rng.integers(0, width // 8 + 1))
        right = width - int(rng.integers(0, width // 8 + 1))
        shade = 40 * index  # each class has its own ink, so the page tells the class apart
        page[top : top + thickness, left:right] = shade
        annotation[top : top + thickness, left:right] = color
    return page, annotation


def example_bytes(page: np.ndarray, annotation: np.ndarray, uri: str) -> bytes:
    return records.encode_pair(
        uri,
        uri.replace(".png", ".annot.png"),
        tf.io.encode_png(page).numpy(),
        tf.io.encode_png(annotation).numpy(),
    )


def write_records(
    path,
    count: int,
    size,
    colors: np.ndarray,
    seed: int = 0,
    start: int = 0,
    folder: str = "doc",
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Write `count` examples (URIs `<folder>/page-<n>.png`) to a gzipped TFRecord file; return
    the (page, annotation) pairs."""
    rng = np.random.default_rng(seed)
    pairs = []
    with tf.io.TFRecordWriter(str(path), records.COMPRESSION) as writer:
        for index in range(count):
            page, annotation = make_page(size, colors, rng)
            writer.write(example_bytes(page, annotation, f"{folder}/page-{start + index}.png"))
            pairs.append((page, annotation))
    return pairs


def write_split(directory, shards: int, per_shard: int, size, colors, seed: int = 0):
    os.makedirs(str(directory), exist_ok=True)
    for shard in range(shards):
        write_records(
            os.path.join(str(directory), f"data-{shard:05d}-of-{shards:05d}.tfrecord.gz"),
            per_shard,
            size,
            colors,
            seed=seed + shard,
            start=shard * per_shard,
        )
    write_completion_report(directory)
    return os.path.join(str(directory), "*tfrecord*")


def write_completion_report(directory) -> None:
    """The report that marks a finished preprocessing run, which the trainer asks for."""
    with open(
        os.path.join(str(directory), records.COMPLETION_REPORT_NAME), "w", encoding="utf-8"
    ) as handle:
        handle.write('{"status": "ok"}\n')
