import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym import model_contract
from sciencebeam_gym.color_map import UNKNOWN_COLOR, UNKNOWN_INDEX
from sciencebeam_gym.trainer import data, losses
from sciencebeam_gym.trainer.model import target_class_index

COLORS = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)


def test_with_background_puts_background_first():
    channels = np.array([[[0, 0], [1, 0], [0, 1]]], dtype=np.float32)
    one_hot = losses.with_background(tf.constant(channels)).numpy()
    np.testing.assert_array_equal(one_hot[0], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_prepare_target_per_loss():
    target = tf.constant([[[0.0, 1.0]]])
    np.testing.assert_array_equal(losses.prepare_target(target, "L1", True).numpy(), [[[-1, 1]]])
    np.testing.assert_array_equal(
        losses.prepare_target(target, "cross_entropy", True).numpy(), [[[0, 0, 1]]]
    )


def test_weighted_cross_entropy_matches_numpy(rng):
    logits = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=(2, 4, 4))
    one_hot = np.eye(3, dtype=np.float32)[labels]
    weights = np.array([0.5, 2.0, 4.0], dtype=np.float32)
    shifted = logits - logits.max(-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    per_pixel = -(one_hot * log_softmax).sum(-1)
    pixel_weights = weights[labels]
    expected = (per_pixel * pixel_weights).sum() / pixel_weights.sum()
    value = losses.base_loss_value(
        "weighted_cross_entropy", tf.constant(one_hot), tf.constant(logits), tf.constant(weights)
    )
    assert float(value) == pytest.approx(expected, rel=1e-5)
    plain = losses.base_loss_value("cross_entropy", tf.constant(one_hot), tf.constant(logits))
    assert float(plain) == pytest.approx(per_pixel.mean(), rel=1e-5)


def test_l1_and_generator_loss_parts():
    base = losses.base_loss_value("L1", tf.constant([1.0, -1.0]), tf.constant([0.5, -1.0]))
    assert float(base) == pytest.approx(0.25)
    fake_logits = tf.zeros((1, 2, 2, 1))
    parts = losses.generator_loss(base, fake_logits, l1_weight=100.0, gan_weight=2.0)
    assert float(parts["gan"]) == pytest.approx(np.log(2.0), rel=1e-5)
    assert float(parts["total"]) == pytest.approx(2 * np.log(2.0) + 25.0, rel=1e-5)
    no_gan = losses.generator_loss(base, None, l1_weight=100.0, gan_weight=0.0)
    assert float(no_gan["total"]) == pytest.approx(25.0)


def test_discriminator_loss_is_low_when_it_is_right():
    right = losses.discriminator_loss(tf.fill((1, 4), 10.0), tf.fill((1, 4), -10.0))
    wrong = losses.discriminator_loss(tf.fill((1, 4), -10.0), tf.fill((1, 4), 10.0))
    assert float(right) < 0.01 < 10 < float(wrong)


def _annotation_with_unknown():
    """A 1x4 annotation: background, class 1, unknown (white), class 2."""
    return np.array([[[0, 0, 0], [255, 0, 0], UNKNOWN_COLOR, [0, 0, 255]]], dtype=np.uint8)


def test_unknown_pixels_are_no_class_and_not_background_in_the_target():
    target = data.separate_channels(tf.constant(_annotation_with_unknown()), COLORS)
    assert target.shape == (1, 4, 2)  # the shape of a target without unknown pixels
    np.testing.assert_array_equal(target[0, 2], [losses.UNKNOWN_TARGET] * 2)
    one_hot = losses.with_background(target).numpy()
    np.testing.assert_array_equal(one_hot[0], [[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]])
    index = target_class_index(target, True, COLORS).numpy()
    assert index.tolist() == [[0, 1, UNKNOWN_INDEX, 2]]
    rgb = model_contract.to_unit_range(tf.constant(_annotation_with_unknown()))
    assert target_class_index(rgb, False, COLORS).numpy().tolist() == [[0, 1, UNKNOWN_INDEX, 2]]
    # L1 compares unknown pixels with background (-1 in every channel / black)
    np.testing.assert_array_equal(losses.prepare_target(target, "L1", True)[0, 2], [-1, -1])
    np.testing.assert_array_equal(losses.prepare_target(rgb, "L1", False)[0, 2], [-1, -1, -1])


@pytest.mark.parametrize("base_loss", ["cross_entropy", "weighted_cross_entropy"])
def test_predictions_under_unknown_pixels_do_not_change_the_loss(base_loss, rng):
    annotation = np.tile(_annotation_with_unknown(), (3, 2, 1))  # (3, 8, 3), a quarter unknown
    target = losses.prepare_target(
        data.separate_channels(tf.constant(annotation), COLORS), base_loss, True
    )
    weights = tf.constant([0.5, 2.0, 4.0])
    logits = rng.normal(size=(3, 8, 3)).astype(np.float32)
    value = losses.base_loss_value(base_loss, target, tf.constant(logits), weights)
    unknown = (annotation == UNKNOWN_COLOR).all(-1)
    changed = logits.copy()
    changed[unknown] = rng.normal(size=(unknown.sum(), 3)) * 10
    changed_value = losses.base_loss_value(base_loss, target, tf.constant(changed), weights)
    assert float(changed_value) == pytest.approx(float(value), rel=1e-6)
    # the same value as the loss over the known pixels alone
    known = tf.constant(target.numpy()[~unknown][None])
    alone = losses.base_loss_value(base_loss, known, tf.constant(logits[~unknown][None]), weights)
    assert float(value) == pytest.approx(float(alone), rel=1e-6)
    # and predictions on known pixels do change it
    changed[~unknown] += 1.0 * rng.normal(size=((~unknown).sum(), 3))
    assert float(losses.base_loss_value(base_loss, target, tf.constant(changed), weights)) != (
        pytest.approx(float(value), rel=1e-3)
    )


def test_the_discriminator_sees_the_output_at_unknown_pixels_of_a_softmax_target():
    target = losses.with_background(
        data.separate_channels(tf.constant(_annotation_with_unknown()), COLORS)
    )
    fake = tf.fill(target.shape, 0.25)
    real = losses.discriminator_target(target, fake, "cross_entropy").numpy()
    np.testing.assert_array_equal(real[0, 2], [0.25] * 3)
    np.testing.assert_array_equal(np.delete(real[0], 2, 0), np.delete(target.numpy()[0], 2, 0))
    l1_target = tf.constant([[[-1.0, 1.0]]])
    assert losses.discriminator_target(l1_target, l1_target * 0, "L1") is l1_target
