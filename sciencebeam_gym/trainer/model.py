"""The pix2pix model: a U-Net generator, a 70x70 PatchGAN discriminator and their training step.

model = Pix2Pix(build_generator(256, 3, 25, ngf=32), build_discriminator(256, 3, 25))
model.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5))
losses = model.train_step((pages, targets))  # {"gen_total", "gen_gan", "gen_base", "disc"}
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import UNKNOWN_INDEX
from sciencebeam_gym.model_contract import (
    image_size_of,
    is_cross_entropy,
    nearest_color_index,
    width_height,
)
from sciencebeam_gym.trainer import config as config_module
from sciencebeam_gym.trainer import losses

MAX_DEPTH = 8  # 256 -> 1, as published
# Moving averages follow 10% of each batch, as in the published model (Keras' default 0.99
# lags far behind the fast-changing early weights, so inference-mode outputs were poor).
BN_MOMENTUM = 0.9


class FusedBatchNorm(keras.layers.Layer):
    """Batch normalisation of NHWC images with TensorFlow's fused kernel.

    The same maths as keras.layers.BatchNormalization, about 2.5x faster per layer on CPU
    (one kernel instead of a chain of element-wise ops); it dominated the step time.
    """

    def __init__(self, momentum: float = BN_MOMENTUM, epsilon: float = 1e-3, **kwargs):
        # the fused kernel takes float32 scale and offset with bfloat16/float16 images
        super().__init__(autocast=False, **kwargs)
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(shape=channels, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(
            shape=channels, initializer="zeros", name="moving_mean", trainable=False
        )
        self.moving_variance = self.add_weight(
            shape=channels, initializer="ones", name="moving_variance", trainable=False
        )

    def call(self, inputs, training=False):
        gamma = tf.convert_to_tensor(self.gamma.value, tf.float32)
        beta = tf.convert_to_tensor(self.beta.value, tf.float32)
        if training:
            outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, epsilon=self.epsilon, is_training=True
            )
            self.moving_mean.assign(
                self.moving_mean.value * self.momentum + mean * (1.0 - self.momentum)
            )
            self.moving_variance.assign(
                self.moving_variance.value * self.momentum + variance * (1.0 - self.momentum)
            )
            return outputs
        outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            gamma,
            beta,
            mean=tf.convert_to_tensor(self.moving_mean.value),
            variance=tf.convert_to_tensor(self.moving_variance.value),
            epsilon=self.epsilon,
            is_training=False,
        )
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


def sublayers(layer) -> list:
    """Every layer inside a model or block, depth first (the model itself excluded)."""
    found = []
    for child in getattr(layer, "layers", []):
        found.append(child)
        found.extend(sublayers(child))
    return found


def recalibrate_batch_norm(generator: keras.Model, pages_batches) -> int:
    """Set every batch-norm layer's statistics to their exact mean over the given batches.

    The moving averages (momentum 0.9) follow only the last ~10 batches, computed with weights
    that were still changing: mid-training the inference-mode output was far worse than the
    weights deserve (one 512 px checkpoint: macro F1 0.75 with the moving averages, 0.89 with
    recomputed statistics). This is "precise batch norm": with the weights fixed, run batches in
    training mode with dropout off, and average each layer's batch statistics (the k-th batch
    counts 1/k). Eager and single-replica. Returns the number of batches used.
    """
    norms = [layer for layer in sublayers(generator) if isinstance(layer, FusedBatchNorm)]
    dropouts = [layer for layer in sublayers(generator) if isinstance(layer, keras.layers.Dropout)]
    saved_momentum = [layer.momentum for layer in norms]
    saved_rates = [layer.rate for layer in dropouts]
    count = 0
    try:
        for layer in dropouts:
            layer.rate = 0.0
        for pages in pages_batches:
            for layer in norms:
                layer.momentum = count / (count + 1.0)  # running mean of the batch statistics
            generator(pages, training=True)
            count += 1
    finally:
        for layer, momentum in zip(norms, saved_momentum, strict=True):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, saved_rates, strict=True):
            layer.rate = rate
    return count


def downsample(filters: int, size: int = 4, batch_norm: bool = True, name: str = None):
    """Conv (stride 2) -> BatchNorm -> LeakyReLU: halves the image."""
    block = keras.Sequential(name=name)
    block.add(
        keras.layers.Conv2D(
            filters,
            size,
            strides=2,
            padding="same",
            use_bias=not batch_norm,
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
        )
    )
    if batch_norm:
        block.add(FusedBatchNorm(momentum=BN_MOMENTUM))
    block.add(keras.layers.LeakyReLU(0.2))
    return block


def upsample(filters: int, size: int = 4, dropout: bool = False, name: str = None):
    """Transposed conv (stride 2) -> BatchNorm -> (Dropout) -> ReLU: doubles the image."""
    block = keras.Sequential(name=name)
    block.add(
        keras.layers.Conv2DTranspose(
            filters,
            size,
            strides=2,
            padding="same",
            use_bias=False,
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
        )
    )
    block.add(FusedBatchNorm(momentum=BN_MOMENTUM))
    if dropout:
        block.add(keras.layers.Dropout(0.5))
    block.add(keras.layers.ReLU())
    return block


def generator_depth(image_size: int | tuple[int, int]) -> int:
    """Halvings of the U-Net: as many as keep both sides whole, at most MAX_DEPTH (256 x 256:
    8, 256 x 320: 6, 256 x 352: 5); ConfigError naming both sides when below 5."""
    problem = config_module.size_problem(image_size)
    if problem:
        raise config_module.ConfigError(problem)
    common = math.gcd(*width_height(image_size))
    return min(MAX_DEPTH, (common & -common).bit_length() - 1)


def build_generator(
    image_size: int | tuple[int, int],
    input_channels: int,
    output_channels: int,
    ngf: int = 64,
    output_activation: str | None = None,
) -> keras.Model:
    """U-Net with skip connections; at 256 x 256 and ngf 64 exactly the published generator.

    image_size: the side of a square input, or (width, height).
    Output: (height, width, output_channels) float32, tanh for L1 or logits.
    """
    depth = generator_depth(image_size)
    multipliers = [1, 2, 4, 8, 8, 8, 8, 8][:depth]
    down_stack = [
        downsample(ngf * 1, batch_norm=False, name="down1"),  # (128, 128, ngf)
        downsample(ngf * 2, name="down2"),  # (64, 64, 2 ngf)
        downsample(ngf * 4, name="down3"),  # (32, 32, 4 ngf)
        downsample(ngf * 8, name="down4"),  # (16, 16, 8 ngf)
        downsample(ngf * 8, name="down5"),  # (8, 8, 8 ngf)
        downsample(ngf * 8, name="down6"),  # (4, 4, 8 ngf)
        downsample(ngf * 8, name="down7"),  # (2, 2, 8 ngf)
        downsample(ngf * 8, name="down8"),  # (1, 1, 8 ngf)
    ][:depth]
    # the up stack mirrors the down stack; dropout on the three innermost, as published
    up_multipliers = list(reversed(multipliers[:-1]))
    up_stack = [
        upsample(ngf * m, dropout=i < 3 and m == 8, name=f"up{i + 1}")
        for i, m in enumerate(up_multipliers)
    ]  # (2, 2, 16 ngf) ... (128, 128, 2 ngf) after concatenating the skips
    last = keras.layers.Conv2DTranspose(
        output_channels,
        4,
        strides=2,
        padding="same",
        dtype="float32",
        kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
        name="output",
    )  # (256, 256, output_channels)

    width, height = width_height(image_size)
    inputs = keras.layers.Input(shape=(height, width, input_channels), name="page")
    x = last(connect_u_net(inputs, down_stack, up_stack))
    if output_activation:
        x = keras.layers.Activation(output_activation, dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=x, name="generator")


def connect_u_net(x, down_stack: list, up_stack: list):
    """The U-Net wiring: down the stack, then up it, each up block joined to its mirror's output."""
    skips = []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    for up, skip in zip(up_stack, reversed(skips[:-1]), strict=True):
        x = up(x)
        x = keras.layers.Concatenate()([x, skip])
    return x


def build_discriminator(
    image_size: int | tuple[int, int], input_channels: int, target_channels: int, ndf: int = 64
) -> keras.Model:
    """70 x 70 PatchGAN: one real/fake logit per patch of (page, target) pairs."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    width, height = width_height(image_size)
    page = keras.layers.Input(shape=(height, width, input_channels), name="page")
    target = keras.layers.Input(shape=(height, width, target_channels), name="target")
    x = keras.layers.Concatenate()([page, target])  # (256, 256, 3 + C)
    x = downsample(ndf, batch_norm=False, name="d_down1")(x)  # (128, 128, ndf)
    x = downsample(ndf * 2, name="d_down2")(x)  # (64, 64, 2 ndf)
    x = downsample(ndf * 4, name="d_down3")(x)  # (32, 32, 4 ndf)
    x = keras.layers.ZeroPadding2D()(x)  # (34, 34, 4 ndf)
    x = keras.layers.Conv2D(ndf * 8, 4, strides=1, kernel_initializer=init, use_bias=False)(x)
    x = FusedBatchNorm(momentum=BN_MOMENTUM)(x)  # (31, 31, 8 ndf)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.ZeroPadding2D()(x)  # (33, 33, 8 ndf)
    x = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=init, dtype="float32")(x)
    return keras.Model(inputs=[page, target], outputs=x, name="discriminator")  # (30, 30, 1)


def output_channels_for(base_loss: str, separate_channels: bool, num_classes: int) -> int:
    """Classes (+ background for softmax losses) with separate channels, else RGB."""
    if not separate_channels:
        return 3
    return num_classes + 1 if is_cross_entropy(base_loss) else num_classes


def output_activation_for(base_loss: str) -> str | None:
    return None if is_cross_entropy(base_loss) else "tanh"


def build_models(config: dict, num_classes: int) -> tuple[keras.Model, keras.Model]:
    """Generator and discriminator for a resolved config."""
    channels = output_channels_for(
        config["base_loss"], config["use_separate_channels"], num_classes
    )
    generator = build_generator(
        image_size_of(config),
        3,
        channels,
        ngf=config["ngf"],
        output_activation=output_activation_for(config["base_loss"]),
    )
    size = image_size_of(config)
    discriminator = build_discriminator(size, 3, channels, ndf=config["ndf"])
    return generator, discriminator


def target_class_index(target: tf.Tensor, separate_channels: bool, colors: np.ndarray):
    """Pipeline target -> (…, H, W) int32 class index: 0 background, i + 1 for class i,
    UNKNOWN_INDEX for unknown pixels."""
    if separate_channels:
        index = tf.argmax(losses.with_background(target), axis=-1, output_type=tf.int32)
    else:
        index = nearest_color_index((target + 1.0) * 127.5, colors)
    return tf.where(losses.unknown_mask(target, separate_channels), UNKNOWN_INDEX, index)


class Pix2Pix(keras.Model):
    """Generator + discriminator trained together; `train_step` returns a dict of losses."""

    def __init__(
        self,
        generator,
        discriminator,
        base_loss="L1",
        separate_channels=True,
        class_weights=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.base_loss = base_loss
        self.separate_channels = separate_channels
        self.class_weights = (
            None if class_weights is None else tf.constant(class_weights, dtype=tf.float32)
        )
        if base_loss == "weighted_cross_entropy" and class_weights is None:
            raise ValueError("base_loss weighted_cross_entropy needs class_weights")

    def compile(
        self,
        generator_optimizer,
        discriminator_optimizer,
        l1_weight=100.0,
        gan_weight=1.0,
        **kwargs,
    ):
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.l1_weight = float(l1_weight)
        self.gan_weight = float(gan_weight)

    def call(self, pages, training=False):
        return self.generator(pages, training=training)

    def _compute_losses(self, pages, target, output, fake_logits, real_logits):
        base = losses.base_loss_value(self.base_loss, target, output, self.class_weights)
        gen = losses.generator_loss(base, fake_logits, self.l1_weight, self.gan_weight)
        disc = (
            losses.discriminator_loss(real_logits, fake_logits)
            if fake_logits is not None
            else tf.constant(0.0)
        )
        return gen, disc

    def train_step(self, data):
        pages, target = data[0], data[1]
        target = losses.prepare_target(target, self.base_loss, self.separate_channels)
        use_gan = self.gan_weight > 0
        # each replica's loss is divided by the replica count: gradients are summed across them
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=use_gan) as tape:
            output = self.generator(pages, training=True)
            fake_logits = real_logits = None
            if use_gan:
                fake = losses.output_as_image(output, self.base_loss)
                real = losses.discriminator_target(target, fake, self.base_loss)
                real_logits = self.discriminator([pages, real], training=True)
                fake_logits = self.discriminator([pages, fake], training=True)
            gen, disc = self._compute_losses(pages, target, output, fake_logits, real_logits)
            gen_scaled = self.generator_optimizer.scale_loss(gen["total"] / replicas)
            if use_gan:
                disc_scaled = self.discriminator_optimizer.scale_loss(disc / replicas)
        gen_vars = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(
            zip(tape.gradient(gen_scaled, gen_vars), gen_vars, strict=True)
        )
        if use_gan:
            disc_vars = self.discriminator.trainable_variables
            self.discriminator_optimizer.apply_gradients(
                zip(tape.gradient(disc_scaled, disc_vars), disc_vars, strict=True)
            )
        del tape
        return {
            "gen_total": gen["total"],
            "gen_gan": gen["gan"],
            "gen_base": gen["base"],
            "disc": disc,
        }

    def test_step(self, data):
        pages, target = data[0], data[1]
        target = losses.prepare_target(target, self.base_loss, self.separate_channels)
        output = self.generator(pages, training=False)
        fake_logits = real_logits = None
        if self.gan_weight > 0:
            fake = losses.output_as_image(output, self.base_loss)
            real = losses.discriminator_target(target, fake, self.base_loss)
            real_logits = self.discriminator([pages, real], training=False)
            fake_logits = self.discriminator([pages, fake], training=False)
        gen, disc = self._compute_losses(pages, target, output, fake_logits, real_logits)
        return {
            "gen_total": gen["total"],
            "gen_gan": gen["gan"],
            "gen_base": gen["base"],
            "disc": disc,
        }
