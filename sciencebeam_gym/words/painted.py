"""The vision model's classes under each word of a token file's page, for the painted features.

The page PNG beside the token file (`<base>.png`, as generate-data rendered it) is painted by the
labeller (serving.labeller: an export), turned upright as the page's /Rotate asks, and each
word's box gets the share of every class under it (`document.words.class_shares`), as the
extraction computes it from the same labeller's map of the page it renders. Class maps are kept
in a cache folder per labeller, so the folds of a leave-publisher-out run paint each page once.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from sciencebeam_gym.document.tokens import PageTokens, page_base
from sciencebeam_gym.document.words import class_shares
from sciencebeam_gym.storage import fs

PAINT_BATCH = 8


class PaintedError(ValueError):
    """A page whose painted classes cannot be had; the message names the file."""


def labels_of(labeller) -> list[str]:
    """The labeller's classes in value order (value 1 first): the painted features' names."""
    top = max(labeller.labels_by_value, default=0)
    return [labeller.labels_by_value.get(value, f"class{value}") for value in range(1, top + 1)]


def upright(class_map: np.ndarray, rotation: int) -> np.ndarray:
    """A class map of a page shown turned by `rotation` degrees, turned back upright."""
    return np.rot90(class_map, k=(rotation // 90) % 4)


def word_shares(tokens: PageTokens, class_map: np.ndarray, classes: int) -> np.ndarray:
    """(W, 1 + classes): the share of each class under each word of the page."""
    return class_shares(
        tokens.words, upright(class_map, tokens.rotation), (tokens.width, tokens.height), classes
    )


class PaintedMaps:
    """Class maps of token files' pages by one labeller, cached in `cache` (None: no cache)."""

    def __init__(self, labeller, cache: str | None = None):
        self.labeller = labeller
        self.cache = cache
        self.labels = labels_of(labeller)

    def _cache_file(self, tokens_path: str) -> str | None:
        if not self.cache:
            return None
        digest = hashlib.sha1(os.path.abspath(tokens_path).encode("utf-8")).hexdigest()[:20]
        return os.path.join(self.cache, f"{digest}.npy")

    def class_maps(self, paths: Sequence[str]) -> list[np.ndarray]:
        """The class map of each token file's page (as painted, not turned upright)."""
        maps: dict[str, np.ndarray] = {}
        missing = []
        for path in paths:
            cached = self._cache_file(path)
            if cached and os.path.exists(cached):
                maps[path] = np.load(cached)
            else:
                missing.append(path)
        for start in range(0, len(missing), PAINT_BATCH):
            batch = missing[start : start + PAINT_BATCH]
            for path, class_map in zip(batch, self._paint(batch), strict=True):
                maps[path] = np.asarray(class_map, dtype=np.uint8)
                self._store(path, maps[path])
        return [maps[path] for path in paths]

    def _paint(self, paths: Sequence[str]) -> list[np.ndarray]:
        images = []
        for path in paths:
            png = f"{page_base(path)}.png"
            try:
                image = Image.open(io.BytesIO(fs.read_bytes(png)))
                image.load()
            except Exception as error:  # noqa: BLE001 - missing, truncated, not a PNG: one reason
                raise PaintedError(
                    f"{png}: the page image beside {path} cannot be read ({error}); write the "
                    "data again with ./generate-data.sh, or train with --no_painted"
                ) from error
            images.append(image.convert("RGB"))
        return list(self.labeller.label_pages(images))

    def _store(self, path: str, class_map: np.ndarray) -> None:
        cached = self._cache_file(path)
        if cached:
            os.makedirs(self.cache, exist_ok=True)
            temporary = f"{cached}.{os.getpid()}.tmp.npy"
            np.save(temporary, class_map)
            os.replace(temporary, cached)
