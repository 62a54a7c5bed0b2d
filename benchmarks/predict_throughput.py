"""Pages per second of the exported SavedModel on CPU, against the checkpoint's Keras model.

    .venv/bin/python benchmarks/predict_throughput.py                 # a fresh quick-preset model
    .venv/bin/python benchmarks/predict_throughput.py --model_path "$TRAIN_MODEL_PATH"

Without --model_path a model of the quick preset's shape (256 x 256, ngf 16, 24 classes) with
untrained weights is written to a temporary folder: throughput does not depend on the weights.
The model is exported there, then three ways of predicting run on the same pages:
- `keras_eager` (the baseline): the restored checkpoint's generator called eagerly, plus the
  class decoding, as a script would use the checkpoint;
- `saved_model`: the export's `serving_default` signature on model-sized uint8 pages;
- `saved_model_png`: its `predict_png` signature on full-size page PNGs (decode + resize inside).
Prints one JSON object: pages/s of each (best of interleaved rounds, every round listed), and
the speed-up of `saved_model` over the baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU figures, also on a machine with a GPU
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def make_model_dir(folder: str, size: dict) -> str:
    """A training folder (config.json + one checkpoint) of the quick preset's shape."""
    import tensorflow as tf

    from sciencebeam_gym.color_map import (
        CONFIG_CLASSES_KEY,
        default_color_map_path,
        load_color_map,
    )
    from sciencebeam_gym.trainer import config as config_module
    from sciencebeam_gym.trainer import model, model_dir

    color_map = load_color_map(default_color_map_path())
    config = config_module.resolve_config("quick", {**size, "color_map": default_color_map_path()})
    config[CONFIG_CLASSES_KEY] = color_map.to_config()
    config_module.save_config(folder, config)
    generator, _ = model.build_models(config, color_map.num_classes)
    step = tf.Variable(0, dtype=tf.int64)
    model_dir.make_checkpoint(step, generator).save(
        os.path.join(model_dir.checkpoint_dir(folder), "ckpt")
    )
    return folder


def page_pngs(count: int, width: int, height: int) -> list[bytes]:
    """Page-like PNGs at a scanned page's size."""
    rng = np.random.default_rng(0)
    pages = []
    for _ in range(count):
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        for y in range(100, height - 100, 30):
            right = width - 100 - int(rng.integers(0, width // 3))
            draw.rectangle([100, y, right, y + 12], fill=(40, 40, 40))
        out = io.BytesIO()
        image.save(out, format="PNG")
        pages.append(out.getvalue())
    return pages


def pages_per_second(run_batch, batches: list, warmup: int) -> tuple[float, float]:
    """(pages/s, seconds) of running every batch once, after `warmup` untimed batches."""
    for batch in batches[:warmup]:
        run_batch(batch)
    started = time.perf_counter()
    pages = 0
    for batch in batches:
        run_batch(batch)
        pages += len(batch)
    seconds = time.perf_counter() - started
    return pages / seconds, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_path", default="", help="training folder (default: a fresh one)")
    parser.add_argument("--image_size", type=int, default=256, help="for the fresh model")
    parser.add_argument("--image_width", type=int, default=0, help="0: --image_size")
    parser.add_argument("--image_height", type=int, default=0, help="0: --image_size")
    parser.add_argument("--pages", type=int, default=32, help="pages per measurement")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=1, help="untimed batches first")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds over the three ways, interleaved; the best round of each is reported",
    )
    parser.add_argument("--page_width", type=int, default=850, help="of the PNG pages")
    parser.add_argument("--page_height", type=int, default=1100, help="of the PNG pages")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from sciencebeam_gym import model_contract
    from sciencebeam_gym.serving import export
    from sciencebeam_gym.serving.inference import class_probabilities
    from sciencebeam_gym.serving.metadata import ModelInfo
    from sciencebeam_gym.trainer import model_dir

    with tempfile.TemporaryDirectory(prefix="predict-benchmark-") as temp:
        training = args.model_path or make_model_dir(
            os.path.join(temp, "training"),
            {key: getattr(args, key) for key in ("image_size", "image_width", "image_height")},
        )
        export_path = os.path.join(temp, "export")
        started = time.perf_counter()
        export.export_from_checkpoint(training, export_path)
        export_seconds = time.perf_counter() - started

        generator, config, _step = model_dir.load_generator(training)
        info = ModelInfo.from_config(config)
        width, height = info.input_size
        colors = model_dir.classes_colors(config)
        rng = np.random.default_rng(1)
        images = rng.integers(0, 256, (args.pages, height, width, 3), dtype=np.uint8)
        image_batches = [
            images[i : i + args.batch_size] for i in range(0, args.pages, args.batch_size)
        ]
        pngs = page_pngs(min(args.pages, args.batch_size), args.page_width, args.page_height)
        png_batches = [
            [pngs[j % len(pngs)] for j in range(i, min(i + args.batch_size, args.pages))]
            for i in range(0, args.pages, args.batch_size)
        ]

        def keras_eager(batch):
            output = generator(tf.cast(batch, tf.float32) / 127.5 - 1.0, training=False)
            model_contract.predict_class_index(
                output, info.base_loss, info.use_separate_channels, colors
            ).numpy()
            class_probabilities(output, info).numpy()

        loaded = tf.saved_model.load(export_path)
        serve = loaded.signatures["serving_default"]
        serve_png = loaded.signatures["predict_png"]

        def saved_model(batch):
            {k: v.numpy() for k, v in serve(images=tf.constant(batch)).items()}

        def saved_model_png(batch):
            {k: v.numpy() for k, v in serve_png(png=tf.constant(batch)).items()}

        ways = (
            ("keras_eager", keras_eager, image_batches),
            ("saved_model", saved_model, image_batches),
            ("saved_model_png", saved_model_png, png_batches),
        )
        rounds: dict[str, list[float]] = {name: [] for name, _run, _batches in ways}
        # interleaved rounds, so a busy moment of a shared machine hits every way alike
        for _ in range(args.repeats):
            for name, run, batches in ways:
                rounds[name].append(pages_per_second(run, batches, args.warmup)[0])
        results = {
            name: {
                "pages_per_s": round(max(rates), 2),
                "rounds_pages_per_s": [round(rate, 2) for rate in rates],
            }
            for name, rates in rounds.items()
        }

    report = {
        "benchmark": "predict_throughput",
        "device": "CPU",
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "tensorflow": tf.__version__,
        "model": {
            "image_width": width,
            "image_height": height,
            "ngf": config["ngf"],
            "base_loss": config["base_loss"],
            "classes": len(info.classes),
            "fresh_untrained": not args.model_path,
        },
        "pages": args.pages,
        "batch_size": args.batch_size,
        "png_page_size": [args.page_width, args.page_height],
        "export_seconds": round(export_seconds, 2),
        "baseline": "keras_eager",
        "results": results,
        "saved_model_speedup": round(
            results["saved_model"]["pages_per_s"] / results["keras_eager"]["pages_per_s"], 2
        ),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
