import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym.trainer import losses


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
