"""Evaluate the latest checkpoint on the test split.

    python -m sciencebeam_gym.trainer.evaluate --model_path .models/pix2pix/v4-default/training \\
        --eval_data_paths '.models/pix2pix/v4/preproc/test/*tfrecord*' [--write_predictions]

Writes to `<model_path>/eval/` (or --output_path): `metrics.json` ({"step", "pixel_accuracy",
"macro_f1", "classes": {label: {"precision", "recall", "f1", "iou", "support"}}}),
`confusion_matrix.json` and `confusion_matrix.png`; with --write_predictions, for every page
`predictions/<name>.png` (prediction in the colour map's colours) beside `<name>.input.png` and
`<name>.target.png`.

A gs:// model path is read through `sciencebeam_gym.staging.GcsStaging` (checkpoints
copied down when a storage emulator is used), as are gs:// records; the outputs are written
straight to their gs:// folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import tensorflow as tf

from sciencebeam_gym import cli, fs
from sciencebeam_gym.color_map import BACKGROUND_LABEL
from sciencebeam_gym.trainer import metrics, summaries
from sciencebeam_gym.trainer.model import logit_offsets, predict_class_index, target_class_index

EVAL_DIR = "eval"


def make_predict_fn(generator, config: dict, colors: np.ndarray):
    """pages -> (output, predicted class index), compiled once."""

    offsets = logit_offsets(config)

    @tf.function(reduce_retracing=True)
    def predict(pages):
        output = generator(pages, training=False)
        index = predict_class_index(
            output, config["base_loss"], config["use_separate_channels"], colors, offsets
        )
        return output, index

    return predict


def evaluate_batches(
    predict_fn,
    batches,
    config: dict,
    colors: np.ndarray,
    max_examples: int = 0,
    on_batch=None,
) -> np.ndarray:
    """Confusion matrix over the batches (at most max_examples pages; 0: all).

    `on_batch(pages, target_index, predicted_index, output, uris)` sees every batch (numpy).
    """
    size = len(colors) + 1
    matrix = np.zeros((size, size), dtype=np.int64)
    seen = 0
    for batch in batches:
        pages, target = batch[0], batch[1]
        uris = batch[2].numpy() if len(batch) > 2 else None
        if max_examples:
            keep = max_examples - seen
            if keep <= 0:
                break
            pages, target = pages[:keep], target[:keep]
            uris = uris[:keep] if uris is not None else None
        output, predicted = predict_fn(pages)
        true_index = target_class_index(target, config["use_separate_channels"], colors).numpy()
        predicted = predicted.numpy()
        matrix += metrics.confusion_matrix(true_index, predicted, size)
        seen += len(true_index)
        if on_batch is not None:
            on_batch(pages.numpy(), true_index, predicted, output.numpy(), uris)
    return matrix


def prediction_stem(uri: str, index: int) -> str:
    name = os.path.basename(uri) if uri else f"page-{index:05d}"
    for suffix in (".png", ".jpg", ".jpeg"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or f"page-{index:05d}"


def png_bytes(image: np.ndarray) -> bytes:
    return tf.io.encode_png(np.asarray(image, dtype=np.uint8)).numpy()


def write_confusion_matrix(output_dir: str, matrix: np.ndarray, labels: list[str]) -> None:
    document = {"labels": [BACKGROUND_LABEL, *labels], "matrix": matrix.tolist()}
    fs.write_text(fs.join(output_dir, "confusion_matrix.json"), json.dumps(document) + "\n")
    image = summaries.confusion_matrix_image(matrix, labels)
    fs.write_bytes(fs.join(output_dir, "confusion_matrix.png"), png_bytes(image))


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.evaluate",
        description="Evaluate the latest checkpoint of a model directory on TFRecords and "
        "write metrics.json, the confusion matrix and (optionally) prediction PNGs.",
    )
    parser.add_argument(
        "--model_path",
        help="the training output directory (TRAIN_MODEL_PATH)",
    )
    cli.add_job_dir(parser, alias_of="--model_path")
    parser.add_argument(
        "--eval_data_paths", action="append", help="glob of *.tfrecord.gz shards (repeatable)"
    )
    parser.add_argument(
        "--output_path", default="", help="where to write (default: <model_path>/eval)"
    )
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument(
        "--eval_set_size", type=int, default=0, help="pages to evaluate (0: all of them)"
    )
    parser.add_argument(
        "--write_predictions",
        action="store_true",
        help="write coloured prediction PNGs beside their input pages",
    )
    parser.add_argument("--skip_corrupt_records", action="store_true")
    parser.add_argument("--checkpoint", default="", help="a checkpoint path (default: latest)")
    return parser


def run(args, gcs=None) -> dict:
    from sciencebeam_gym.staging import GcsStaging

    if gcs is not None:
        return run_with(args, gcs)
    with GcsStaging() as own_gcs:
        return run_with(args, own_gcs)


def local_checkpoint(checkpoint: str, model_path: str, local_model: str) -> str:
    """A checkpoint given under a gs:// model path, as a path under its local copy."""
    prefix = model_path.rstrip("/") + "/"
    if checkpoint.startswith(prefix) and local_model != model_path:
        return fs.join(local_model, checkpoint[len(prefix) :])
    return checkpoint


def run_with(args, gcs) -> dict:
    from sciencebeam_gym.trainer import data, model_dir

    model_path = args.model_path or args.job_dir
    if not model_path:
        raise model_dir.ModelDirError("pass --model_path (the training output directory)")
    local_model = gcs.input_dir(model_path)
    checkpoint = local_checkpoint(args.checkpoint, model_path, local_model)
    generator, config, step = model_dir.load_generator(local_model, checkpoint or None)
    labels = model_dir.classes_labels(config)
    colors = model_dir.classes_colors(config)
    files = gcs.local_files(
        data.find_files(args.eval_data_paths or [], "evaluation", "--eval_data_paths")
    )
    output_dir = args.output_path or fs.join(model_path, EVAL_DIR)
    fs.makedirs(output_dir)
    print(f"[eval] step {step} of {model_path}; {len(files)} file(s)", file=sys.stderr)
    dataset = data.make_dataset(
        files,
        args.batch_size,
        config["image_size"],
        colors if config["use_separate_channels"] else None,
        training=False,
        skip_corrupt=args.skip_corrupt_records,
        with_uris=True,
    )
    predictions_dir = fs.join(output_dir, "predictions")
    counter = {"pages": 0}
    started = time.time()

    def on_batch(pages, true_index, predicted, _output, uris):
        for i in range(len(pages)):
            if args.write_predictions:
                uri = uris[i].decode("utf-8") if uris is not None else ""
                stem = prediction_stem(uri, counter["pages"])
                base = fs.join(predictions_dir, stem)
                fs.write_bytes(base + ".input.png", png_bytes(summaries.page_to_uint8(pages[i])))
                fs.write_bytes(
                    base + ".target.png",
                    png_bytes(summaries.color_class_index(true_index[i], colors)),
                )
                fs.write_bytes(
                    base + ".png", png_bytes(summaries.color_class_index(predicted[i], colors))
                )
            counter["pages"] += 1
        print(f"[eval] {counter['pages']} page(s)", file=sys.stderr)

    try:
        matrix = evaluate_batches(
            make_predict_fn(generator, config, colors),
            dataset,
            config,
            colors,
            args.eval_set_size,
            on_batch,
        )
    except tf.errors.OpError as error:
        raise data.explain_data_error(
            error,
            files,
            config["image_size"],
            colors if config["use_separate_channels"] else None,
        ) from error
    if counter["pages"] == 0:
        raise data.DataError(f"no records could be read from {', '.join(files)}")
    summary = metrics.summarize(matrix, labels, step)
    fs.write_text(fs.join(output_dir, "metrics.json"), json.dumps(summary, indent=2) + "\n")
    write_confusion_matrix(output_dir, matrix, labels)
    baseline = metrics.background_baseline(matrix, labels)
    print(
        f"[eval] {counter['pages']} page(s) in {time.time() - started:.1f}s: "
        f"macro F1 {summary['macro_f1']:.4f}, pixel accuracy {summary['pixel_accuracy']:.4f} "
        f"(all-background: {baseline['pixel_accuracy']:.4f})",
        file=sys.stderr,
    )
    for label, values in summary["classes"].items():
        if values["support"]:
            print(
                f"  {label:28s} f1 {values['f1']:.3f}  support {values['support']}", file=sys.stderr
            )
    print(f"[eval] wrote {fs.join(output_dir, 'metrics.json')}", file=sys.stderr)
    return summary


def main(argv=None) -> int:
    from sciencebeam_gym.gcs import StorageError
    from sciencebeam_gym.trainer import data, model_dir

    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (model_dir.ModelDirError, data.DataError, StorageError) as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
