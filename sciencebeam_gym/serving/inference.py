"""Inference on pages: a trained generator wrapped as a module that export saves and predict runs.

    predictor = PagePredictor(generator, ModelInfo.from_config(config, color_map, step, source))
    outputs = predictor.predict_images(pages_uint8)  # {"classes", "colors", "probabilities"}

The module's two functions are the SavedModel's serving signatures:
- `serving_default`: `images`, a (N, H, W, 3) uint8 RGB batch of any size;
- `predict_png`: `png`, a (N,) batch of encoded images (PNG, or JPEG/GIF/BMP) of any sizes.
Both resize to the model's size with TF's antialiased bicubic kernel (kept as uint8), which is
close to but not the Pillow resize of the training records (`page_image.page_at_size`): on
rendered article pages the mean difference is under 0.25 grey levels, 99% of the pixels within
3 (tests/serving/test_inference.py). predict.sh resizes with `page_at_size` before the model, so
it sees the records' pixels exactly; an input already at the model's size passes unchanged. Both
normalise as the input pipeline does and return at the model's size, H x W = image_height x
image_width (in the metadata; an older export's `image_size` alone means a square):
- `classes`: (N, H, W) uint8, 0 background, i + 1 for class i of the colour map (by key);
- `colors`: (N, H, W, 3) uint8, each pixel in its class's colour (background black);
- `probabilities`: (N, H, W, 1 + C) float32, background first; they sum to 1 per pixel.
`predict_png` also returns `image_sizes`, (N, 2) int32 height and width of each input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import (
    BACKGROUND_COLOR,
    BACKGROUND_LABEL,
    ColorClass,
    ColorMap,
    color_map_of_config,
)
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.model_contract import (
    adjusted_logits,
    image_size_of,
    is_cross_entropy,
    logit_offsets,
    predict_class_index,
    to_unit_range,
    width_height,
)
from sciencebeam_gym.serving.metadata import METADATA_FORMAT, METADATA_VERSION

# Softness of the class scores of an RGB-output model (distance to the class colours, 0..255).
RGB_SCORE_SCALE = 32.0


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


def class_probabilities(output: tf.Tensor, info: ModelInfo) -> tf.Tensor:
    """Generator output -> (…, 1 + C) float32 scores summing to 1, background first.

    Cross-entropy models: the softmax of their logits. Per-class tanh channels (L1): each class's
    channel mapped to [0, 1], background 1 - the best of them, normalised. RGB output: a softmax
    of the negative distances to the class colours. The argmax is the predicted class in each case.
    """
    output = tf.cast(output, tf.float32)
    if is_cross_entropy(info.base_loss):
        return tf.nn.softmax(adjusted_logits(output, info.offsets), axis=-1)
    if info.use_separate_channels:
        scores = (output + 1.0) / 2.0
        background = 1.0 - tf.reduce_max(scores, axis=-1, keepdims=True)
        scores = tf.concat([background, scores], axis=-1)
        return scores / tf.maximum(tf.reduce_sum(scores, axis=-1, keepdims=True), 1e-6)
    rgb = (output + 1.0) * 127.5
    palette = tf.constant(info.palette.astype(np.float32))
    distances = tf.sqrt(tf.reduce_sum(tf.square(rgb[..., None, :] - palette), -1))
    return tf.nn.softmax(-distances / RGB_SCORE_SCALE, axis=-1)


def resize_to_model(images: tf.Tensor, image_size: int | tuple[int, int]) -> tf.Tensor:
    """(N, H, W, 3) uint8 -> (N, height, width, 3) uint8 for the model's image_size (a square's
    side, or (width, height)): antialiased bicubic (near the records' Pillow resize, see the
    module docstring), or unchanged when already at the model's size."""
    width, height = width_height(image_size)
    shape = tf.shape(images)

    def resize():
        resized = tf.image.resize(images, [height, width], "bicubic", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)

    same = tf.logical_and(tf.equal(shape[1], height), tf.equal(shape[2], width))
    resized = tf.cond(same, lambda: images, resize)
    return tf.ensure_shape(resized, [None, height, width, 3])


class PagePredictor(tf.Module):
    """A generator with its pre- and post-processing, as saved in the SavedModel."""

    def __init__(self, generator, info: ModelInfo):
        super().__init__(name="page_predictor")
        self.generator = generator
        self.info = info
        self._palette = tf.constant(info.palette)
        self._colors = np.asarray(info.color_map.color_array)

    def outputs_from_model_images(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """(N, H, W, 3) uint8 at the model's size -> the outputs; the generator in inference mode."""
        output = self.generator(to_unit_range(images), training=False)
        classes = predict_class_index(
            output,
            self.info.base_loss,
            self.info.use_separate_channels,
            self._colors,
            self.info.offsets,
        )
        return {
            "classes": tf.cast(classes, tf.uint8),
            "colors": tf.gather(self._palette, classes),
            "probabilities": class_probabilities(output, self.info),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def predict_images(self, images):
        """A batch of RGB uint8 images of one size -> classes, colours and probabilities."""
        return self.outputs_from_model_images(resize_to_model(images, self.info.input_size))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="png")])
    def predict_png(self, png):
        """A batch of encoded images of any sizes -> the same outputs plus each input's size."""
        size = self.info.input_size

        def decode(encoded):
            image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
            image = tf.image.convert_image_dtype(image, tf.uint8, saturate=True)
            resized = resize_to_model(image[None], size)[0]
            return resized, tf.shape(image)[:2]

        images, sizes = tf.map_fn(
            decode,
            png,
            fn_output_signature=(
                tf.TensorSpec([size[1], size[0], 3], tf.uint8),
                tf.TensorSpec([2], tf.int32),
            ),
        )
        outputs = self.outputs_from_model_images(images)
        outputs["image_sizes"] = sizes
        return outputs

    def signatures(self) -> dict:
        return {"serving_default": self.predict_images, "predict_png": self.predict_png}
