"""Training throughput of the default pix2pix step against a plain Keras pix2pix, in one run.

    .venv/bin/python benchmarks/train_throughput.py --image_size 256 --batch_size 10 --steps 10

Prints one JSON line:
- images_per_sec: our training step of the published pix2pix (ngf/ndf 64, one channel per
  class of the colour map, L1 x 100 + GAN, precision chosen per device) on in-memory tensors
- tfrecord_images_per_sec: the same step fed by the tf.data pipeline from gzipped TFRecords
- baseline_images_per_sec: the same architecture written the straightforward way in Keras,
  float32 (Keras BatchNormalization, a tf.function step with two gradient tapes)
- peak_rss_mib: the process's peak resident memory
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import default_color_map_path, load_color_map


def plain_downsample(filters, batch_norm=True):
    block = keras.Sequential()
    block.add(keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False))
    if batch_norm:
        block.add(keras.layers.BatchNormalization())
    block.add(keras.layers.LeakyReLU(0.2))
    return block


def plain_upsample(filters, dropout=False):
    block = keras.Sequential()
    block.add(keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False))
    block.add(keras.layers.BatchNormalization())
    if dropout:
        block.add(keras.layers.Dropout(0.5))
    block.add(keras.layers.ReLU())
    return block


def plain_generator(size, channels, ngf):
    depth = min(8, int(np.log2(size)))
    multipliers = [1, 2, 4, 8, 8, 8, 8, 8][:depth]
    downs = [plain_downsample(ngf * m, batch_norm=i > 0) for i, m in enumerate(multipliers)]
    ups = [
        plain_upsample(ngf * m, dropout=i < 3 and m == 8)
        for i, m in enumerate(reversed(multipliers[:-1]))
    ]
    from sciencebeam_gym.trainer.model import connect_u_net

    inputs = keras.layers.Input((size, size, 3))
    x = connect_u_net(inputs, downs, ups)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(inputs, x)


def plain_discriminator(size, channels, ndf):
    page = keras.layers.Input((size, size, 3))
    target = keras.layers.Input((size, size, channels))
    x = keras.layers.Concatenate()([page, target])
    x = plain_downsample(ndf, batch_norm=False)(x)
    x = plain_downsample(ndf * 2)(x)
    x = plain_downsample(ndf * 4)(x)
    x = keras.layers.ZeroPadding2D()(x)
    x = keras.layers.Conv2D(ndf * 8, 4, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.ZeroPadding2D()(x)
    x = keras.layers.Conv2D(1, 4)(x)
    return keras.Model([page, target], x)


def plain_train_step(size, channels, ngf, ndf):
    """The straightforward float32 pix2pix step: two tapes, Keras losses."""
    keras.mixed_precision.set_dtype_policy("float32")
    generator = plain_generator(size, channels, ngf)
    discriminator = plain_discriminator(size, channels, ndf)
    gen_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    disc_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(pages, target):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            output = generator(pages, training=True)
            real = discriminator([pages, target], training=True)
            fake = discriminator([pages, output], training=True)
            gan = bce(tf.ones_like(fake), fake)
            gen_loss = gan + 100.0 * tf.reduce_mean(tf.abs(target - output))
            disc_loss = bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)
        gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        gen_opt.apply_gradients(zip(gen_grads, generator.trainable_variables, strict=True))
        disc_opt.apply_gradients(zip(disc_grads, discriminator.trainable_variables, strict=True))
        return gen_loss

    return step


def our_train_step(size, num_classes):
    """The trainer's step for the published pix2pix (L1 x 100 + GAN, ngf/ndf 64), precision
    chosen per device: the same work as the baseline's step."""
    from sciencebeam_gym.trainer import config as config_module
    from sciencebeam_gym.trainer import distribute, optimizer
    from sciencebeam_gym.trainer.model import Pix2Pix, build_models

    config = config_module.resolve_config(
        None,
        {
            "image_size": size,
            "ngf": 64,
            "ndf": 64,
            "base_loss": "L1",
            "l1_weight": 100.0,
            "gan_weight": 1.0,
        },
    )
    policy = distribute.apply_precision(distribute.choose_precision(config["precision"]))
    generator, discriminator = build_models(config, num_classes)
    model = Pix2Pix(generator, discriminator, config["base_loss"], True)
    model.compile(
        optimizer.make_optimizer(config, policy),
        optimizer.make_optimizer(config, policy),
        config["l1_weight"],
        config["gan_weight"],
    )
    step = tf.function(lambda pages, target: model.train_step((pages, target))["gen_total"])
    return step, policy, config


def synthetic_batch(batch_size, size, colors, seed=0):
    rng = np.random.default_rng(seed)
    pages = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype(np.float32)
    index = rng.integers(0, len(colors) + 1, (batch_size, size // 16, size // 16))
    index = np.kron(index, np.ones((16, 16), dtype=np.int64))
    target = (index[..., None] == np.arange(1, len(colors) + 1)).astype(np.float32)
    return tf.constant(pages), tf.constant(target), index


def write_records(directory, count, size, colors):
    """Gzipped TFRecords like the preprocess output (two shards)."""
    from sciencebeam_gym import records
    from sciencebeam_gym.color_map import palette

    rng = np.random.default_rng(1)
    class_colors = palette(colors)
    paths = [os.path.join(directory, f"part-{i:05d}-of-00002.tfrecord.gz") for i in range(2)]
    writers = [tf.io.TFRecordWriter(p, records.COMPRESSION) for p in paths]
    for i in range(count):
        page = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        index = np.kron(
            rng.integers(0, len(colors) + 1, (size // 16, size // 16)),
            np.ones((16, 16), dtype=np.int64),
        )
        record = records.encode_pair(
            "p.png",
            "a.png",
            tf.io.encode_png(page).numpy(),
            tf.io.encode_png(class_colors[index]).numpy(),
        )
        writers[i % 2].write(record)
    for writer in writers:
        writer.close()
    return paths


def time_steps(run_step, batches, steps, warmup=2):
    """Images per second over `steps` steps after `warmup` (each step synchronised)."""
    for _ in range(warmup):
        pages, target = next(batches)
        float(run_step(pages, target))
    started = time.perf_counter()
    images = 0
    for _ in range(steps):
        pages, target = next(batches)
        float(run_step(pages, target))
        images += int(pages.shape[0])
    return images / (time.perf_counter() - started)


def repeat(batch):
    while True:
        yield batch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image_size", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--color_map", default="")
    parser.add_argument("--skip_baseline", action="store_true")
    args = parser.parse_args(argv)
    from sciencebeam_gym.trainer import data

    color_map = load_color_map(args.color_map or default_color_map_path())
    colors = color_map.color_array
    pages, target, _ = synthetic_batch(args.batch_size, args.image_size, colors)
    result = {}

    if not args.skip_baseline:
        baseline = plain_train_step(args.image_size, color_map.num_classes, 64, 64)
        result["baseline_images_per_sec"] = time_steps(
            baseline, repeat((pages, target * 2 - 1)), args.steps
        )
        print(f"baseline: {result['baseline_images_per_sec']:.2f} img/s", file=sys.stderr)

    ours, policy, _ = our_train_step(args.image_size, color_map.num_classes)
    result["images_per_sec"] = time_steps(ours, repeat((pages, target)), args.steps)
    print(f"ours ({policy}): {result['images_per_sec']:.2f} img/s", file=sys.stderr)

    with tempfile.TemporaryDirectory() as directory:
        paths = write_records(directory, 4 * args.batch_size, args.image_size, colors)
        dataset = data.make_dataset(
            paths, args.batch_size, args.image_size, colors, training=True, shuffle_buffer=64
        )
        batches = iter(dataset)
        result["tfrecord_images_per_sec"] = time_steps(ours, batches, args.steps)
    print(f"ours from TFRecords: {result['tfrecord_images_per_sec']:.2f} img/s", file=sys.stderr)

    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if "baseline_images_per_sec" in result:
        result["speedup"] = result["images_per_sec"] / result["baseline_images_per_sec"]
    result["tfrecord_vs_memory"] = result["tfrecord_images_per_sec"] / result["images_per_sec"]
    result.update(
        precision=policy,
        image_size=args.image_size,
        batch_size=args.batch_size,
        steps=args.steps,
        cpu_count=os.cpu_count(),
    )
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
