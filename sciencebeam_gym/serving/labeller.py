"""A page labeller: an export (or a training folder's latest checkpoint) painting page images.

A labeller is anything with `dpi` (the resolution pages are rendered at for it),
`labels_by_value` (class map value -> class label) and `label_pages(images) -> class maps`
((H, W) uint8 arrays, 0 for background, any size: they are laid over the page by scaling). Its
dpi is the one its training pages were rendered at (the export's metadata; the one default for a
training folder) unless a dpi is given. The extraction paints pages with one; the word
labeller's training fills its painted-class feature with one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image


class ModelLabeller:
    """A SavedModel export (or a training folder's latest checkpoint) painting pages."""

    def __init__(self, predictor, dpi: float | None = None):
        self.predictor = predictor
        self.info = predictor.info
        # an explicit dpi (--dpi) wins over the one the model was trained at
        self.dpi = float(dpi) if dpi else self.info.dpi
        self.labels_by_value = {i: label for i, label in enumerate(self.info.labels, start=1)}
        self.source = predictor.source

    def label_pages(self, images: Sequence[Image.Image]) -> list[np.ndarray]:
        """The class map of each page at the model's size."""
        from sciencebeam_gym.serving.predict import to_model_input

        if not images:
            return []
        batch = np.stack([to_model_input(image, self.info.input_size) for image in images])
        return list(self.predictor.predict(batch)["classes"])


def load_labeller(
    saved_model: str = "",
    export_path: str = "",
    model_path: str = "",
    dpi: float | None = None,
) -> ModelLabeller:
    """The model chosen as predict.sh chooses it: an export, a complete export at
    `export_path`, else the latest checkpoint of `model_path`; ValueError naming what is wrong."""
    from sciencebeam_gym.serving.models import load_predictor

    return ModelLabeller(load_predictor(saved_model, export_path, model_path), dpi)
