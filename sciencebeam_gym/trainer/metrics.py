"""Segmentation metrics from a confusion matrix (pure numpy).

Class index 0 is the background; index i + 1 is class i of the colour map. The per-class
metrics and the macro F1 cover the colour map's classes (not the background), and the macro F1
averages only the classes present in the targets. Unknown pixels (true index UNKNOWN_INDEX: text
no field claimed) are left out of the confusion matrix, so of every metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sciencebeam_gym.color_map import UNKNOWN_INDEX


def confusion_matrix(true_index: np.ndarray, predicted_index: np.ndarray, size: int) -> np.ndarray:
    """(size, size) int64 counts; rows are the true class, columns the predicted class.

    Pixels whose true index is UNKNOWN_INDEX are not counted.
    """
    true_index = np.asarray(true_index, dtype=np.int64).ravel()
    predicted_index = np.asarray(predicted_index, dtype=np.int64).ravel()
    if true_index.shape != predicted_index.shape:
        raise ValueError(f"shapes differ: {true_index.shape} vs {predicted_index.shape}")
    known = true_index != UNKNOWN_INDEX
    true_index, predicted_index = true_index[known], predicted_index[known]
    counts = np.bincount(true_index * size + predicted_index, minlength=size * size)
    return counts[: size * size].reshape(size, size)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def per_class_metrics(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1, iou and support of every index of the confusion matrix."""
    matrix = np.asarray(matrix, dtype=np.int64)
    true_positive = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = _ratio(true_positive, predicted)
    recall = _ratio(true_positive, support)
    f1 = _ratio(2 * true_positive, predicted + support)
    iou = _ratio(true_positive, predicted + support - true_positive)
    return {"precision": precision, "recall": recall, "f1": f1, "iou": iou, "support": support}


def summarize(matrix: np.ndarray, labels: Sequence[str], step: int | None = None) -> dict:
    """The metrics.json structure: step, pixel_accuracy, macro_f1 and per-class metrics.

    `labels` are the colour map's labels; `matrix` has len(labels) + 1 rows (background first).
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    if matrix.shape != (len(labels) + 1, len(labels) + 1):
        raise ValueError(f"a {matrix.shape} matrix does not fit {len(labels)} classes + background")
    parts = per_class_metrics(matrix)
    total = matrix.sum()
    classes = {}
    present_f1 = []
    for index, label in enumerate(labels, start=1):
        support = int(parts["support"][index])
        classes[label] = {
            "precision": float(parts["precision"][index]),
            "recall": float(parts["recall"][index]),
            "f1": float(parts["f1"][index]),
            "iou": float(parts["iou"][index]),
            "support": support,
        }
        if support > 0:
            present_f1.append(float(parts["f1"][index]))
    result = {
        "step": int(step) if step is not None else 0,
        "pixel_accuracy": float(np.trace(matrix) / total) if total else 0.0,
        "macro_f1": float(np.mean(present_f1)) if present_f1 else 0.0,
        "classes": classes,
    }
    return result


def background_baseline(matrix: np.ndarray, labels: Sequence[str]) -> dict:
    """The metrics of a model that predicts background everywhere, on the same targets."""
    matrix = np.asarray(matrix, dtype=np.int64)
    baseline = np.zeros_like(matrix)
    baseline[:, 0] = matrix.sum(axis=1)
    return summarize(baseline, labels)


def weakest_classes(summary: dict, count: int = 3) -> list[tuple[str, float]]:
    """(label, f1) of the weakest classes present in the targets."""
    present = [(label, m["f1"]) for label, m in summary["classes"].items() if m["support"] > 0]
    return sorted(present, key=lambda item: item[1])[:count]
