"""Segmentation metrics from a confusion matrix (pure numpy).

Class index 0 is the background; index i + 1 is class i of the colour map. The per-class
metrics and the macro F1 cover the colour map's classes (not the background), and the macro F1
averages only the classes present in the targets. Unknown pixels (true index UNKNOWN_INDEX: text
no field claimed) are left out of the confusion matrix, so of every metric. Pages are also
scored by group (their source: `hindawi`, `plos`, `sample-000`, ...), read from their URI by
`page_group`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sciencebeam_gym.color_map import UNKNOWN_INDEX

# The folders a data set is split into, right above the group: <split>/<group>/<doc>/<page>.
SPLIT_FOLDERS = ("train", "test", "eval", "validation")
UNKNOWN_GROUP = "unknown-group"


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


def page_group(uri: str) -> str:
    """The group of a page: the folder after the split folder in `<split>/<group>/<doc>/<page>`.

    Without a split folder: the page's grandparent folder (`<group>/<doc>/<page>`); without
    one either (a page in a single folder, or no URI): UNKNOWN_GROUP.
    """
    path = uri.split("://", 1)[-1].replace("\\", "/")
    folders = [part for part in path.split("/") if part][:-1]
    # the layout's own place first, so that a group named like a split stays a group
    for index in (len(folders) - 3, *reversed(range(len(folders) - 1))):
        if index >= 0 and folders[index].lower() in SPLIT_FOLDERS:
            return folders[index + 1]
    return folders[-2] if len(folders) >= 2 else UNKNOWN_GROUP


@dataclass
class GroupedConfusion:
    """The confusion matrix of all pages and one per group, filled batch by batch."""

    size: int
    overall: np.ndarray = field(init=False)
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.overall = np.zeros((self.size, self.size), dtype=np.int64)

    def add(self, true_index: np.ndarray, predicted_index: np.ndarray, groups: Sequence[str]):
        """A batch of pages (first axis) and the group of each."""
        true_index, predicted_index = np.asarray(true_index), np.asarray(predicted_index)
        if len(groups) != len(true_index):
            raise ValueError(f"{len(groups)} groups for {len(true_index)} pages")
        self.overall += confusion_matrix(true_index, predicted_index, self.size)
        names = np.asarray(groups, dtype=object)
        for group in sorted(set(groups)):
            rows = names == group
            matrix = confusion_matrix(true_index[rows], predicted_index[rows], self.size)
            self.groups[group] = self.groups.get(group, 0) + matrix
            self.pages[group] = self.pages.get(group, 0) + int(rows.sum())


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


def summarize_groups(confusion: GroupedConfusion, labels: Sequence[str]) -> dict:
    """{group: {"macro_f1", "pixel_accuracy", "pages", "classes"}}, groups in name order."""
    groups = {}
    for group in sorted(confusion.groups):
        summary = summarize(confusion.groups[group], labels)
        groups[group] = {
            "macro_f1": summary["macro_f1"],
            "pixel_accuracy": summary["pixel_accuracy"],
            "pages": confusion.pages[group],
            "classes": summary["classes"],
        }
    return groups


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
