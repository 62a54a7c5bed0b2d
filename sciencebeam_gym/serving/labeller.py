"""A page labeller: an export (or a training folder's latest checkpoint) painting page images.

A labeller is anything with `dpi` (the resolution pages are rendered at for it),
`labels_by_value` (class map value -> class label) and `label_pages(images) -> class maps`
((H, W) uint8 arrays, 0 for background, any size: they are laid over the page by scaling). The
extraction paints pages with one; the word labeller's training fills its painted-class feature
with one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

# Pages are rendered as generate-data.sh renders training pages (GENERATE_DPI's default).
DEFAULT_DPI = 100.0


class ModelLabeller:
    """A SavedModel export (or a training folder's latest checkpoint) painting pages."""

    def __init__(self, predictor, dpi: float = DEFAULT_DPI):
        self.predictor = predictor
        self.dpi = dpi
        self.info = predictor.info
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
    saved_model: str = "", export_path: str = "", model_path: str = "", dpi: float = DEFAULT_DPI
) -> ModelLabeller:
    """The model chosen as predict.sh chooses it: an export, a complete export at
    `export_path`, else the latest checkpoint of `model_path`; ValueError naming what is wrong."""
    from sciencebeam_gym.serving.models import load_predictor

    return ModelLabeller(load_predictor(saved_model, export_path, model_path), dpi)
