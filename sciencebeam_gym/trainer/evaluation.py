"""Predicting and scoring evaluation records: the one path of ./eval.sh and of training.

    result = evaluate_files(make_predict_fn(generator, config, colors), files, config, colors,
                            batch_size=8, writer=PredictionWriter(folder, colors))

`result.matrix` is the confusion matrix (background first), `result.confusion` holds it and one
per group of pages (`metrics.page_group` of each page's URI), `result.samples` the first pages
(for TensorBoard images), `result.pages` the pages read; `summarize(result, labels, step)` is
the metrics.json structure. The writer, when given, writes every page's prediction in the colour
map's colours (and, with `with_inputs`, its input and target).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import BACKGROUND_LABEL
from sciencebeam_gym.model_contract import image_size_of, logit_offsets, predict_class_index
from sciencebeam_gym.storage import fs
from sciencebeam_gym.trainer import data, metrics, summaries
from sciencebeam_gym.trainer.model import target_class_index

SAMPLE_PAGES = 3


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


def target_colors(config: dict, colors: np.ndarray) -> np.ndarray | None:
    """The colours the records' targets are separated by (None: RGB targets)."""
    return colors if config["use_separate_channels"] else None


def evaluate_batches(
    predict_fn,
    batches,
    config: dict,
    colors: np.ndarray,
    max_examples: int = 0,
    on_batch=None,
    exclude_groups: frozenset[str] = frozenset(),
) -> metrics.GroupedConfusion:
    """Confusion matrices over the batches, overall and by group (at most max_examples pages; 0:
    all). Batches without URIs count as one UNKNOWN_GROUP. Pages of `exclude_groups` are left
    out before prediction (e.g. the publishers a model trained on).

    `on_batch(pages, target_index, predicted_index, output, uris)` sees every batch (numpy).
    """
    confusion = metrics.GroupedConfusion(len(colors) + 1)
    seen = 0
    for batch in batches:
        pages, target = batch[0], batch[1]
        uris = batch[2].numpy() if len(batch) > 2 else None
        if exclude_groups:
            keep_rows = [g not in exclude_groups for g in batch_groups(uris, len(pages))]
            if not any(keep_rows):
                continue
            pages, target = tf.boolean_mask(pages, keep_rows), tf.boolean_mask(target, keep_rows)
            uris = uris[np.asarray(keep_rows)] if uris is not None else None
        if max_examples:
            keep = max_examples - seen
            if keep <= 0:
                break
            pages, target = pages[:keep], target[:keep]
            uris = uris[:keep] if uris is not None else None
        output, predicted = predict_fn(pages)
        true_index = target_class_index(target, config["use_separate_channels"], colors).numpy()
        predicted = predicted.numpy()
        confusion.add(true_index, predicted, batch_groups(uris, len(true_index)))
        seen += len(true_index)
        if on_batch is not None:
            on_batch(pages.numpy(), true_index, predicted, output.numpy(), uris)
    return confusion


def batch_groups(uris, count: int) -> list[str]:
    """The group of each page of a batch (its URIs as bytes, or None)."""
    if uris is None:
        return [metrics.UNKNOWN_GROUP] * count
    return [metrics.page_group(uri.decode("utf-8", "replace")) for uri in uris]


def prediction_stem(uri: str, index: int) -> str:
    name = os.path.basename(uri) if uri else f"page-{index:05d}"
    for suffix in (".png", ".jpg", ".jpeg"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or f"page-{index:05d}"


def png_bytes(image: np.ndarray) -> bytes:
    return tf.io.encode_png(np.asarray(image, dtype=np.uint8)).numpy()


class PredictionWriter:
    """Writes `<folder>/<page name>.png` per page (plus `.input.png`, `.target.png`)."""

    def __init__(self, folder: str, colors: np.ndarray, with_inputs: bool = False):
        self.folder = folder
        self.colors = colors
        self.with_inputs = with_inputs
        self.written = 0

    def write_batch(self, pages, true_index, predicted, uris) -> None:
        for i in range(len(pages)):
            uri = uris[i].decode("utf-8") if uris is not None else ""
            base = fs.join(self.folder, prediction_stem(uri, self.written))
            if self.with_inputs:
                page = summaries.page_to_uint8(pages[i])
                fs.write_bytes(base + ".input.png", png_bytes(page))
                target = summaries.color_class_index(true_index[i], self.colors)
                fs.write_bytes(base + ".target.png", png_bytes(target))
            image = summaries.color_class_index(predicted[i], self.colors)
            fs.write_bytes(base + ".png", png_bytes(image))
            self.written += 1


@dataclass
class Evaluation:
    """What one pass over the evaluation records gave."""

    confusion: metrics.GroupedConfusion
    pages: int = 0
    samples: dict = field(default_factory=dict)

    @property
    def matrix(self) -> np.ndarray:
        return self.confusion.overall


def summarize(result: Evaluation, labels, step: int | None = None) -> dict:
    """The metrics.json structure: the overall metrics and, under "groups", each group's."""
    summary = metrics.summarize(result.matrix, labels, step)
    summary["groups"] = metrics.summarize_groups(result.confusion, labels)
    return summary


def evaluate_files(
    predict_fn,
    files,
    config: dict,
    colors: np.ndarray,
    *,
    batch_size: int,
    max_examples: int = 0,
    skip_corrupt: bool = False,
    writer: PredictionWriter | None = None,
    progress: bool = False,
    exclude_groups: frozenset[str] = frozenset(),
) -> Evaluation:
    """Predict every page of `files` (at most max_examples) and score it; bad files named."""
    dataset = data.make_dataset(
        files,
        batch_size,
        image_size_of(config),
        target_colors(config, colors),
        training=False,
        skip_corrupt=skip_corrupt,
        with_uris=True,
    )
    result = Evaluation(metrics.GroupedConfusion(len(colors) + 1))

    def on_batch(pages, true_index, predicted, output, uris):
        if not result.samples:
            keep = slice(0, SAMPLE_PAGES)
            result.samples.update(
                pages=pages[keep],
                true=true_index[keep],
                predicted=predicted[keep],
                output=output[:1],
            )
        if writer is not None:
            writer.write_batch(pages, true_index, predicted, uris)
        result.pages += len(pages)
        if progress:
            print(f"[eval] {result.pages} page(s)", file=sys.stderr)

    try:
        result.confusion = evaluate_batches(
            predict_fn, dataset, config, colors, max_examples, on_batch, exclude_groups
        )
    except tf.errors.OpError as error:
        raise data.explain_data_error(
            error, files, image_size_of(config), target_colors(config, colors)
        ) from error
    return result


def write_results(
    output_dir: str, summary: dict, confusion: metrics.GroupedConfusion, labels
) -> str:
    """metrics.json, confusion_matrix.json (overall and per group) and confusion_matrix.png
    (overall); the metrics path."""
    fs.makedirs(output_dir)
    metrics_path = fs.join(output_dir, "metrics.json")
    fs.write_text(metrics_path, json.dumps(summary, indent=2) + "\n")
    document = {
        "labels": [BACKGROUND_LABEL, *labels],
        "matrix": confusion.overall.tolist(),
        "groups": {group: confusion.groups[group].tolist() for group in sorted(confusion.groups)},
    }
    fs.write_text(fs.join(output_dir, "confusion_matrix.json"), json.dumps(document) + "\n")
    image = summaries.confusion_matrix_image(confusion.overall, labels)
    fs.write_bytes(fs.join(output_dir, "confusion_matrix.png"), png_bytes(image))
    return metrics_path
