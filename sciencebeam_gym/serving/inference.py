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

import numpy as np
import tensorflow as tf

from sciencebeam_gym.model_contract import (
    adjusted_logits,
    is_cross_entropy,
    predict_class_index,
    to_unit_range,
    width_height,
)
from sciencebeam_gym.serving.metadata import ModelInfo

# Softness of the class scores of an RGB-output model (distance to the class colours, 0..255).
RGB_SCORE_SCALE = 32.0


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
