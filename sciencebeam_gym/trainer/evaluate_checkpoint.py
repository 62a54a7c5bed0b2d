"""Evaluate the latest checkpoint on the test split.

    python -m sciencebeam_gym.trainer.evaluate_checkpoint --model_path .models/pix2pix/v4-default/training \\
        --eval_data_paths '.models/pix2pix/v4/preproc/test/*tfrecord*' [--write_predictions]

Writes to `<model_path>/eval/` (or --output_path): `metrics.json` ({"step", "pixel_accuracy",
"macro_f1", "classes": {label: {"precision", "recall", "f1", "iou", "support"}}, "groups":
{group: {"macro_f1", "pixel_accuracy", "pages", "classes"}}}, a group being the folder after
`train/` or `test/` in the page's path, see `metrics.page_group`), `confusion_matrix.json`
(overall and per group) and `confusion_matrix.png`; with --write_predictions, for every page
`predictions/<name>.png` (prediction in the colour map's colours) beside `<name>.input.png` and
`<name>.target.png`.

A gs:// model path and gs:// records are mapped for TensorFlow by `run`, at this command
line's edge (`sciencebeam_gym.storage.tensorflow_paths`: checkpoints copied down when a storage
emulator is used); the outputs are written straight to their gs:// folder.
"""

from __future__ import annotations

import argparse
import sys
import time

from sciencebeam_gym import cli
from sciencebeam_gym.storage import fs

EVAL_DIR = "eval"


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.evaluate_checkpoint",
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
    parser.add_argument(
        "--exclude_groups",
        type=lambda text: [g.strip() for g in text.split(",") if g.strip()],
        default=[],
        help="comma-separated groups (the folder under the split, e.g. hindawi) whose pages are "
        "left out: score a model on the publishers it did not train on",
    )
    parser.add_argument("--skip_corrupt_records", action="store_true")
    parser.add_argument("--checkpoint", default="", help="a checkpoint path (default: latest)")
    return parser


def run(args) -> dict:
    """Evaluate as the flags say; gs:// inputs are mapped for TensorFlow here, at the edge."""
    from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths
    from sciencebeam_gym.trainer import model_dir

    model_path = args.model_path or args.job_dir
    if not model_path:
        raise model_dir.ModelDirError("pass --model_path (the training output directory)")
    with TensorflowPaths() as tf_paths:
        readable_model = tf_paths.readable_folder(model_path)
        files = tf_paths.readable_files(find_eval_files(args))
        return evaluate_model(args, model_path, readable_model, files)


def local_checkpoint(checkpoint: str, model_path: str, local_model: str) -> str:
    """A checkpoint given under a gs:// model path, as a path under its local copy."""
    prefix = model_path.rstrip("/") + "/"
    if checkpoint.startswith(prefix) and local_model != model_path:
        return fs.join(local_model, checkpoint[len(prefix) :])
    return checkpoint


def evaluate_model(args, model_path: str, readable_model: str, files: list[str]) -> dict:
    """Score the model on `files`; `readable_model` and `files` are paths TensorFlow can read
    (`model_path` as given, where the outputs go)."""
    from sciencebeam_gym.trainer import evaluation, model_dir

    checkpoint = local_checkpoint(args.checkpoint, model_path, readable_model)
    generator, config, step = model_dir.load_generator(readable_model, checkpoint or None)
    colors = model_dir.classes_colors(config)
    output_dir = args.output_path or fs.join(model_path, EVAL_DIR)
    fs.makedirs(output_dir)
    print(f"[eval] step {step} of {model_path}; {len(files)} file(s)", file=sys.stderr)
    writer = None
    if args.write_predictions:
        writer = evaluation.PredictionWriter(
            fs.join(output_dir, "predictions"), colors, with_inputs=True
        )
    started = time.time()
    result = evaluation.evaluate_files(
        evaluation.make_predict_fn(generator, config, colors),
        files,
        config,
        colors,
        batch_size=args.batch_size,
        max_examples=args.eval_set_size,
        skip_corrupt=args.skip_corrupt_records,
        writer=writer,
        progress=True,
        exclude_groups=frozenset(args.exclude_groups or ()),
    )
    return report(result, config, step, output_dir, time.time() - started, args.exclude_groups)


def find_eval_files(args) -> list[str]:
    from sciencebeam_gym.trainer import data

    return data.find_files(args.eval_data_paths or [], "evaluation", "--eval_data_paths")


def report(result, config: dict, step: int, output_dir: str, seconds: float, excluded=()) -> dict:
    """Write metrics.json and the confusion matrix, print the scores; the summary."""
    from sciencebeam_gym.trainer import data, evaluation, metrics, model_dir

    if result.pages == 0:
        raise data.DataError("no records could be read from the evaluation files")
    labels = model_dir.classes_labels(config)
    summary = evaluation.summarize(result, labels, step)
    if excluded:
        summary["excluded_groups"] = sorted(excluded)
    metrics_path = evaluation.write_results(output_dir, summary, result.confusion, labels)
    baseline = metrics.background_baseline(result.matrix, labels)
    print(
        f"[eval] {result.pages} page(s) in {seconds:.1f}s: "
        f"macro F1 {summary['macro_f1']:.4f}, pixel accuracy {summary['pixel_accuracy']:.4f} "
        f"(all-background: {baseline['pixel_accuracy']:.4f})",
        file=sys.stderr,
    )
    for label, values in summary["classes"].items():
        if values["support"]:
            print(
                f"  {label:28s} f1 {values['f1']:.3f}  support {values['support']}", file=sys.stderr
            )
    print_groups(summary["groups"])
    print(f"[eval] wrote {metrics_path}", file=sys.stderr)
    return summary


def print_groups(groups: dict) -> None:
    """The per-group table: group, pages, macro F1, pixel accuracy."""
    width = max([len("group"), *map(len, groups)])
    print(f"[eval] by group:\n  {'group':{width}s}  pages  macro F1  pixel acc", file=sys.stderr)
    for group, values in groups.items():
        print(
            f"  {group:{width}s}  {values['pages']:5d}  {values['macro_f1']:8.4f}  "
            f"{values['pixel_accuracy']:9.4f}",
            file=sys.stderr,
        )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)  # before TensorFlow's import: --help at once
    from sciencebeam_gym.storage.errors import StorageError
    from sciencebeam_gym.trainer import data, model_dir

    try:
        run(args)
    except (model_dir.ModelDirError, data.DataError, StorageError) as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
