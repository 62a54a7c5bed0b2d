import keras
import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym import model_contract
from sciencebeam_gym.trainer import losses, model


@pytest.fixture(autouse=True)
def float32_policy():
    keras.mixed_precision.set_dtype_policy("float32")


def test_generator_at_256_is_the_published_unet():
    generator = model.build_generator(256, 3, 24, ngf=64, output_activation="tanh")
    assert generator.output_shape == (None, 256, 256, 24)
    innermost = generator.get_layer("down8").output.shape
    assert tuple(innermost) == (None, 1, 1, 512)
    assert generator.get_layer("up1").output.shape[-1] == 512
    assert generator.get_layer("up7").output.shape[1:] == (128, 128, 64)


@pytest.mark.parametrize("size", [32, 64, (64, 96)])
def test_small_generator_and_discriminator_shapes(size):
    generator = model.build_generator(size, 3, 5, ngf=4)
    discriminator = model.build_discriminator(size, 3, 5, ndf=4)
    width, height = (size, size) if isinstance(size, int) else size
    pages = tf.zeros((2, height, width, 3))
    output = generator(pages)
    assert output.shape == (2, height, width, 5)
    assert output.dtype == tf.float32
    logits = discriminator([pages, output])
    assert logits.shape[0] == 2 and logits.shape[-1] == 1


@pytest.mark.parametrize(
    ("size", "depth", "innermost"),
    [(256, 8, (1, 1)), (512, 8, (2, 2)), ((256, 320), 6, (5, 4)), ((256, 352), 5, (11, 8))],
)
def test_unet_goes_as_deep_as_both_sides_stay_whole(size, depth, innermost):
    assert model.generator_depth(size) == depth
    generator = model.build_generator(size, 3, 2, ngf=1)
    assert tuple(generator.get_layer(f"down{depth}").output.shape[1:3]) == innermost


@pytest.mark.parametrize("size", [(250, 320), (256, 16), 100])
def test_a_size_the_unet_cannot_halve_is_refused_naming_both_sides(size):
    width, height = (size, size) if isinstance(size, int) else size
    with pytest.raises(ValueError, match=f"image_width={width} and image_height={height}.*32"):
        model.build_generator(size, 3, 2, ngf=1)


def test_discriminator_at_256_is_a_70x70_patchgan():
    discriminator = model.build_discriminator(256, 3, 24, ndf=8)
    assert discriminator.output_shape == (None, 30, 30, 1)


@pytest.mark.parametrize(
    ("base_loss", "separate", "channels"),
    [
        ("L1", True, 24),
        ("cross_entropy", True, 25),
        ("weighted_cross_entropy", True, 25),
        ("L1", False, 3),
    ],
)
def test_output_channels(base_loss, separate, channels):
    assert model.output_channels_for(base_loss, separate, 24) == channels


def test_class_index_from_outputs():
    colors = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    logits = tf.constant([[[[5.0, 1.0, 0.0], [0.0, 1.0, 9.0]]]])
    np.testing.assert_array_equal(
        model_contract.predict_class_index(logits, "cross_entropy", True, colors).numpy(),
        [[[0, 2]]],
    )
    tanh = tf.constant([[[[-0.5, -0.9], [0.3, 0.8]]]])
    np.testing.assert_array_equal(
        model_contract.predict_class_index(tanh, "L1", True, colors).numpy(), [[[0, 2]]]
    )
    rgb = tf.constant([[[[0.9, -1.0, -0.9], [-1.0, -1.0, -1.0]]]])
    np.testing.assert_array_equal(
        model_contract.predict_class_index(rgb, "L1", False, colors).numpy(), [[[1, 0]]]
    )


def test_logit_offsets_undo_the_class_weights():
    weights = [0.5, 2.0, 4.0]
    config = {"base_loss": "weighted_cross_entropy", "class_weight_values": weights}
    np.testing.assert_allclose(model_contract.logit_offsets(config), -np.log(weights), rtol=1e-6)
    half = model_contract.logit_offsets({**config, "logit_adjustment": 0.5})
    np.testing.assert_allclose(half, -0.5 * np.log(weights), rtol=1e-6)
    assert model_contract.logit_offsets({**config, "logit_adjustment": 0.0}) is None
    assert model_contract.logit_offsets({**config, "base_loss": "cross_entropy"}) is None
    assert model_contract.logit_offsets({"base_loss": "weighted_cross_entropy"}) is None


def test_logit_offsets_move_the_argmax_away_from_heavily_weighted_classes():
    colors = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    logits = tf.constant([[[[0.0, 1.0, 1.2]]]])
    offsets = model_contract.logit_offsets(
        {"base_loss": "weighted_cross_entropy", "class_weight_values": [1.0, 1.0, 2.0]}
    )
    plain = model_contract.predict_class_index(logits, "weighted_cross_entropy", True, colors)
    adjusted = model_contract.predict_class_index(
        logits, "weighted_cross_entropy", True, colors, offsets
    )
    assert plain.numpy().tolist() == [[[2]]]
    assert adjusted.numpy().tolist() == [[[1]]]


def first_norm_input(generator, pages):
    """What the first batch-norm layer (in down2) sees for these pages."""
    down2 = generator.get_layer("down2")
    return down2.layers[0](generator.get_layer("down1")(pages))


def test_recalibrate_batch_norm_averages_the_batch_statistics(rng):
    generator = model.build_generator(32, 3, 4, ngf=4)
    norm = generator.get_layer("down2").layers[1]
    norm.moving_mean.assign(tf.fill(norm.moving_mean.shape, 7.0))
    batches = [tf.constant(rng.uniform(-1, 1, (2, 32, 32, 3)), tf.float32) for _ in range(3)]
    before = generator(batches[0], training=False).numpy()

    assert model.recalibrate_batch_norm(generator, batches) == 3

    batch_means = [tf.reduce_mean(first_norm_input(generator, b), [0, 1, 2]) for b in batches]
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean(batch_means, 0), atol=1e-5)
    # momentum and dropout are as they were, and inference-mode output changed
    assert norm.momentum == model.BN_MOMENTUM
    assert all(d.rate == 0.5 for d in model.sublayers(generator) if hasattr(d, "rate"))
    assert np.abs(generator(batches[0], training=False).numpy() - before).max() > 1e-3


def test_recalibrate_batch_norm_runs_without_dropout(rng):
    generator = model.build_generator(32, 3, 4, ngf=4)
    pages = tf.constant(rng.uniform(-1, 1, (2, 32, 32, 3)), tf.float32)
    model.recalibrate_batch_norm(generator, [pages])
    first = [v.numpy() for v in generator.non_trainable_weights]
    model.recalibrate_batch_norm(generator, [pages])
    # the same single batch gives the same statistics: no random dropout mask took part
    for a, b in zip(first, [v.numpy() for v in generator.non_trainable_weights], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gan_weight", [0.0, 1.0])
def test_train_step_lowers_the_loss(gan_weight):
    keras.utils.set_random_seed(0)
    generator = model.build_generator(32, 3, 3, ngf=4)
    discriminator = model.build_discriminator(32, 3, 3, ndf=4)
    pix2pix = model.Pix2Pix(generator, discriminator, "cross_entropy", True)
    pix2pix.compile(keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01), 100.0, gan_weight)
    pages = tf.random.uniform((4, 32, 32, 3), -1, 1)
    target = tf.cast(pages[..., :2] > 0.5, tf.float32)
    step = tf.function(pix2pix.train_step)
    first = step((pages, target))
    for _ in range(15):
        last = step((pages, target))
    assert set(first) == {"gen_total", "gen_gan", "gen_base", "disc"}
    assert float(last["gen_base"]) < float(first["gen_base"])
    assert (float(last["disc"]) > 0) == (gan_weight > 0)
    evaluated = pix2pix.test_step((pages, target))
    assert set(evaluated) == set(first)


def test_train_step_with_unknown_pixels_stays_finite_and_learns():
    keras.utils.set_random_seed(0)
    generator = model.build_generator(32, 3, 3, ngf=4)
    discriminator = model.build_discriminator(32, 3, 3, ndf=4)
    pix2pix = model.Pix2Pix(generator, discriminator, "cross_entropy", True)
    pix2pix.compile(keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01), 100.0, 1.0)
    pages = tf.random.uniform((4, 32, 32, 3), -1, 1)
    target = tf.cast(pages[..., :2] > 0.5, tf.float32)
    target = tf.where(pages[..., 2:] > 0.5, losses.UNKNOWN_TARGET, target)  # a quarter unknown
    step = tf.function(pix2pix.train_step)
    first = step((pages, target))
    for _ in range(15):
        last = step((pages, target))
    assert all(np.isfinite(float(v)) for v in last.values())
    assert float(last["gen_base"]) < float(first["gen_base"])


def test_fused_batch_norm_matches_keras_batch_norm(rng):
    x = tf.constant(rng.normal(2.0, 3.0, size=(4, 8, 8, 5)).astype(np.float32))
    fused = model.FusedBatchNorm(momentum=0.9)
    plain = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    np.testing.assert_allclose(
        fused(x, training=True).numpy(), plain(x, training=True).numpy(), atol=1e-4
    )
    np.testing.assert_allclose(fused.moving_mean.numpy(), plain.moving_mean.numpy(), atol=1e-5)
    # inference uses the moving averages
    np.testing.assert_allclose(
        fused(x, training=False).numpy(), plain(x, training=False).numpy(), rtol=1e-2, atol=1e-2
    )
