"""What a trained model is, read without TensorFlow: `ModelInfo` and the export's metadata file.

`metadata.json` beside a SavedModel (written last by `export`) is `ModelInfo.to_metadata()`: the
classes, the model's input size and loss, the training step and `dpi`, the resolution the
training pages were rendered at, which extraction and prediction render PDF pages at. A training
folder's config.json gives the same (`ModelInfo.from_config`), the dpi aside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.color_map import (
    BACKGROUND_COLOR,
    BACKGROUND_LABEL,
    ColorClass,
    ColorMap,
    color_map_of_config,
)
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.model_contract import image_size_of, logit_offsets

METADATA_FILENAME = "metadata.json"
METADATA_FORMAT = "sciencebeam-gym-export"
# Version 1 gained `dpi` without a new number: older toolkits ignore the key, and an export
# without it was rendered at the one default (document.pdf.DEFAULT_DPI).
METADATA_VERSION = 1


class InferenceError(ValueError):
    """A model or its description that cannot be used for prediction; the message says why."""


@dataclass(frozen=True)
class ModelInfo:
    """What prediction needs to know about a trained generator; saved as the export metadata."""

    image_width: int
    image_height: int
    base_loss: str
    use_separate_channels: bool
    classes: tuple[ColorClass, ...]
    training_step: int | None = None
    source_checkpoint: str = ""
    # added to the logits of a weighted cross-entropy model (model_contract.logit_offsets); ()
    # for none
    logit_offsets: tuple[float, ...] = ()
    # the resolution the training pages were rendered at: PDF pages are rendered at it
    dpi: float = DEFAULT_DPI

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) the model paints pages at."""
        return self.image_width, self.image_height

    @property
    def color_map(self) -> ColorMap:
        return ColorMap(classes=self.classes, source=self.source_checkpoint or "<model>")

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.classes]

    @property
    def palette(self) -> np.ndarray:
        """(1 + C, 3) uint8: black for background, then the class colours by key."""
        return self.color_map.palette

    @property
    def offsets(self) -> np.ndarray | None:
        return np.array(self.logit_offsets, dtype=np.float32) if self.logit_offsets else None

    @classmethod
    def from_config(
        cls,
        config: dict,
        color_map: ColorMap | None = None,
        step: int | None = None,
        source_checkpoint: str = "",
        dpi: float = DEFAULT_DPI,
    ) -> ModelInfo:
        """From the trainer's resolved config (config.json); classes from it or the colour map;
        `dpi` of the training pages (a training folder does not record it)."""
        if color_map is None:
            color_map = color_map_of_config(config)
        try:
            width, height = image_size_of(config)
            return cls(
                image_width=width,
                image_height=height,
                base_loss=str(config["base_loss"]),
                use_separate_channels=bool(config["use_separate_channels"]),
                classes=tuple(color_map.classes),
                training_step=step,
                source_checkpoint=source_checkpoint,
                logit_offsets=_offsets_tuple(logit_offsets(config)),
                dpi=float(dpi),
            )
        except KeyError as error:
            raise InferenceError(f"the training config lacks the setting {error}") from error

    def to_metadata(self) -> dict:
        """The JSON-ready metadata written beside an export."""
        return {
            "format": METADATA_FORMAT,
            "format_version": METADATA_VERSION,
            **square_size(self.input_size),
            "image_width": self.image_width,
            "image_height": self.image_height,
            "base_loss": self.base_loss,
            "use_separate_channels": self.use_separate_channels,
            "background": {"index": 0, "label": BACKGROUND_LABEL, "color": list(BACKGROUND_COLOR)},
            "classes": [
                {"index": i, "key": c.key, "label": c.label, "color": list(c.color)}
                for i, c in enumerate(self.classes, start=1)
            ],
            "training_step": self.training_step,
            "source_checkpoint": self.source_checkpoint,
            "logit_offsets": list(self.logit_offsets),
            "dpi": self.dpi,
        }

    @classmethod
    def from_metadata(cls, metadata: dict, source: str = "<metadata>") -> ModelInfo:
        if metadata.get("format") != METADATA_FORMAT:
            raise InferenceError(f"{source}: not the metadata of a ScienceBeam Gym export")
        if metadata.get("format_version", 0) > METADATA_VERSION:
            raise InferenceError(
                f"{source}: export format version {metadata.get('format_version')} is newer "
                f"than this toolkit reads ({METADATA_VERSION}); update the toolkit"
            )
        try:
            classes = ColorMap.from_config(metadata["classes"], source=source).classes
            width, height = image_size_of(metadata)  # an older export: image_size alone
            return cls(
                image_width=width,
                image_height=height,
                base_loss=str(metadata["base_loss"]),
                use_separate_channels=bool(metadata["use_separate_channels"]),
                classes=classes,
                training_step=metadata.get("training_step"),
                source_checkpoint=str(metadata.get("source_checkpoint", "")),
                logit_offsets=tuple(float(v) for v in metadata.get("logit_offsets", ())),
                dpi=float(metadata.get("dpi", DEFAULT_DPI)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InferenceError(f"{source}: incomplete export metadata ({error!r})") from error


def square_size(size: tuple[int, int]) -> dict:
    """{"image_size": side} for a square model, as exports before width and height wrote it."""
    return {"image_size": size[0]} if size[0] == size[1] else {}


def _offsets_tuple(offsets: np.ndarray | None) -> tuple[float, ...]:
    return () if offsets is None else tuple(round(float(v), 6) for v in offsets)


def describe_classes(color_map: ColorMap, limit: int = 4) -> str:
    labels = color_map.labels
    more = f", ... ({len(labels)} in all)" if len(labels) > limit else ""
    return ", ".join(labels[:limit]) + more


def check_same_classes(model_map: ColorMap, given: ColorMap, model_source: str) -> None:
    """Refuse a colour map whose classes (keys, labels, colours) differ from the model's."""
    if list(model_map.classes) == list(given.classes):
        return
    difference = next(
        (
            f"class {i}: model {a.key}={a.label} {a.color}, colour map {b.key}={b.label} {b.color}"
            for i, (a, b) in enumerate(zip(model_map.classes, given.classes, strict=False), start=1)
            if a != b
        ),
        f"the model has {model_map.num_classes} classes, the colour map {given.num_classes}",
    )
    raise InferenceError(
        f"{model_source} was trained with another class set than the colour map {given.source} "
        f"({difference}); model classes: {describe_classes(model_map)}. Use the colour map the "
        "model was trained with (--color_map / COLOR_MAP_FILENAME) or another model"
    )
