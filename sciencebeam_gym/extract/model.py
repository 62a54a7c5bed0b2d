"""The model side of the extraction: a page labeller that paints pages with a trained model.

A labeller is anything with `labels_by_value` (class map value -> class label) and
`label_pages(images) -> class maps` ((H, W) uint8 arrays, 0 for background, any size: they are
laid over the page by scaling), and `dpi`, the resolution PDF pages are rendered at for it.
`load_model` gives one for an export or a training folder; its dpi is the one its training pages
were rendered at (the export's metadata; the one default for a training folder) unless a dpi is
given. `PaintedLabeller` serves label images painted beforehand (generate/, tests). The labeller
of a model lives in serving (`serving.labeller`), where the word labeller's training finds it too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.serving.labeller import ModelLabeller, load_labeller
from sciencebeam_gym.serving.metadata import METADATA_FILENAME

__all__ = ["DEFAULT_DPI", "ModelLabeller", "PaintedLabeller", "load_labeller", "load_model"]


class PaintedLabeller:
    """Label images painted beforehand, served in page order (no model)."""

    def __init__(self, class_maps: Sequence[np.ndarray], labels_by_value: dict[int, str]):
        self.class_maps = list(class_maps)
        self.labels_by_value = labels_by_value
        self.dpi = DEFAULT_DPI
        self.source = "<painted>"
        self._next = 0

    def label_pages(self, images: Sequence[Image.Image]) -> list[np.ndarray]:
        maps = self.class_maps[self._next : self._next + len(images)]
        self._next += len(images)
        return maps


def model_flags(path: str) -> dict[str, str]:
    """A model path as the loaders take it: `saved_model` for an export (a folder with
    metadata.json, or gs://), else `model_path` (a training folder)."""
    if os.path.exists(os.path.join(path, METADATA_FILENAME)) or path.startswith("gs://"):
        return {"saved_model": path}
    return {"model_path": path}


def load_model(path: str, dpi: float | None = None) -> ModelLabeller:
    """A labeller from an export or a training folder (`model_flags`); pages rendered at `dpi`
    when given, else at the model's."""
    return load_labeller(**model_flags(path), dpi=dpi)


def connected_regions(class_map: np.ndarray) -> list[dict]:
    """The 8-connected regions of each class (predict.sh --boxes): class index, box, pixels."""
    from sciencebeam_gym.serving.regions import connected_regions as regions

    return regions(np.asarray(class_map, dtype=np.uint8))[1]
