"""Losses of the pix2pix model, as plain functions that return their parts.

Targets come from the input pipeline as one 0/1 channel per class (or RGB in [-1, 1]); each
base loss first turns them into what its output is compared with:
- `L1` (the original): tanh output per class channel vs the channel in {-1, 1}
  (or the RGB annotation in [-1, 1]);
- `cross_entropy`: softmax over background + classes (logits, background first);
- `weighted_cross_entropy`: the same, each pixel weighted by its class weight.

Unknown pixels (white in the annotation: page text no field claimed) hold UNKNOWN_TARGET in
every class channel of a separate-channels target (`data.separate_channels`); an RGB target has
them white. The cross-entropy losses give them weight 0 (their one-hot row is all zeros, see
`with_background`); L1 counts them as background.
"""

from __future__ import annotations

import tensorflow as tf

from sciencebeam_gym.model_contract import is_cross_entropy

# The value of every class channel of an unknown pixel in a separate-channels target.
UNKNOWN_TARGET = -1.0


def unknown_mask(target: tf.Tensor, separate_channels: bool = True) -> tf.Tensor:
    """(…) bool, True at the unknown pixels of a pipeline target: channels holding
    UNKNOWN_TARGET (separate channels), or white (an RGB target in [-1, 1])."""
    if separate_channels:
        return tf.reduce_min(target, axis=-1) < 0.0
    return tf.reduce_min(target, axis=-1) >= 1.0


def with_background(target_channels: tf.Tensor) -> tf.Tensor:
    """(…, C) 0/1 class channels -> (…, C + 1) one-hot with background first.

    An unknown pixel (UNKNOWN_TARGET channels) becomes a row of zeros: no class, not background.
    """
    known = 1.0 - tf.cast(unknown_mask(target_channels), tf.float32)[..., None]
    channels = tf.maximum(target_channels, 0.0)
    background = 1.0 - tf.clip_by_value(tf.reduce_sum(channels, -1, keepdims=True), 0, 1)
    return tf.concat([background * known, channels], axis=-1)


def prepare_target(target: tf.Tensor, base_loss: str, separate_channels: bool) -> tf.Tensor:
    """The pipeline's target in the form the generator's output is compared with (L1: unknown
    pixels as background)."""
    if is_cross_entropy(base_loss):
        return with_background(target)
    if separate_channels:
        return tf.maximum(target, 0.0) * 2.0 - 1.0
    return tf.where(unknown_mask(target, separate_channels=False)[..., None], -1.0, target)


def discriminator_target(target: tf.Tensor, fake: tf.Tensor, base_loss: str) -> tf.Tensor:
    """The prepared target as the discriminator's real image: a cross-entropy target's unknown
    pixels (rows of zeros) show the generator's own output, so they tell real from fake nothing."""
    if not is_cross_entropy(base_loss):
        return target
    unknown = tf.equal(tf.reduce_sum(target, axis=-1, keepdims=True), 0.0)
    return tf.where(unknown, tf.stop_gradient(tf.cast(fake, target.dtype)), target)


def output_as_image(output: tf.Tensor, base_loss: str) -> tf.Tensor:
    """The generator output in the same form as `prepare_target` (what the discriminator sees)."""
    output = tf.cast(output, tf.float32)
    if is_cross_entropy(base_loss):
        return tf.nn.softmax(output, axis=-1)
    return output


def l1_loss(target: tf.Tensor, output: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.abs(target - tf.cast(output, tf.float32)))


def cross_entropy_loss(
    one_hot: tf.Tensor, logits: tf.Tensor, class_weights: tf.Tensor | None = None
) -> tf.Tensor:
    """Softmax cross-entropy per pixel: the mean over the known pixels, or with class weights
    the weighted mean. Unknown pixels (rows of zeros) have cross-entropy 0 and weight 0."""
    per_pixel = tf.nn.softmax_cross_entropy_with_logits(one_hot, tf.cast(logits, tf.float32))
    if class_weights is None:
        known = tf.reduce_sum(one_hot, axis=-1)
        return tf.reduce_sum(per_pixel * known) / tf.maximum(tf.reduce_sum(known), 1.0)
    pixel_weights = tf.reduce_sum(one_hot * class_weights, axis=-1)
    return tf.reduce_sum(per_pixel * pixel_weights) / tf.maximum(tf.reduce_sum(pixel_weights), 1e-6)


def base_loss_value(
    base_loss: str, target: tf.Tensor, output: tf.Tensor, class_weights: tf.Tensor | None = None
) -> tf.Tensor:
    """The base loss between a prepared target and the raw generator output."""
    if base_loss == "L1":
        return l1_loss(target, output)
    if base_loss == "cross_entropy":
        return cross_entropy_loss(target, output)
    if base_loss == "weighted_cross_entropy":
        if class_weights is None:
            raise ValueError("weighted_cross_entropy needs class weights")
        return cross_entropy_loss(target, output, class_weights)
    raise ValueError(f"unknown base loss {base_loss!r}")


def _bce_with_logits(labels_value: float, logits: tf.Tensor) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), labels_value)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


def generator_gan_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """The generator wants the discriminator to call its output real."""
    return _bce_with_logits(1.0, fake_logits)


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    return _bce_with_logits(1.0, real_logits) + _bce_with_logits(0.0, fake_logits)


def generator_loss(
    base: tf.Tensor, fake_logits: tf.Tensor | None, l1_weight: float, gan_weight: float
) -> dict[str, tf.Tensor]:
    """{"total", "gan", "base"}: total = gan_weight * GAN + l1_weight * base."""
    gan = generator_gan_loss(fake_logits) if fake_logits is not None else tf.constant(0.0)
    return {"total": gan_weight * gan + l1_weight * base, "gan": gan, "base": base}
