"""Regions and boxes of a predicted class map: connected regions of one class, their boxes
scaled to the input page, and the `.boxes.json` document written beside the annotation."""

from __future__ import annotations

import json
import math

import numpy as np

from sciencebeam_gym.serving.metadata import ModelInfo


def connected_regions(classes: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """8-connected regions of equal non-zero class: (region map, 1 = first region; regions).

    Each region: class index, box [x0, y0, x1, y1) and pixel count. Runs of equal class per
    row are joined to touching runs of the row above (union-find), then numbered.
    """
    height, width = classes.shape
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    runs: list[tuple[int, int, int, int, int]] = []  # (row, start, end, class, run id)
    previous: list[tuple[int, int, int, int]] = []
    for y in range(height):
        row = classes[y]
        changes = np.flatnonzero(row[1:] != row[:-1]) + 1
        starts = np.concatenate([[0], changes]).tolist()
        ends = np.concatenate([changes, [width]]).tolist()
        current = []
        k = 0
        for start, end in zip(starts, ends, strict=True):
            value = int(row[start])
            if value == 0:
                continue
            run_id = len(parent)
            parent.append(run_id)
            # runs above that end before this one (diagonals touch) can touch no later run
            while k < len(previous) and previous[k][1] < start:
                k += 1
            j = k
            while j < len(previous) and previous[j][0] <= end:
                if previous[j][2] == value:
                    a, b = find(run_id), find(previous[j][3])
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                j += 1
            current.append((start, end, value, run_id))
            runs.append((y, start, end, value, run_id))
        previous = current

    region_map = np.zeros(classes.shape, dtype=np.int32)
    numbers: dict[int, int] = {}
    regions: list[dict] = []
    for y, start, end, value, run_id in runs:
        root = find(run_id)
        if root not in numbers:
            numbers[root] = len(regions) + 1
            regions.append({"class_index": value, "box": [start, y, end, y + 1], "pixels": 0})
        number = numbers[root]
        region = regions[number - 1]
        box = region["box"]
        box[0], box[2], box[3] = min(box[0], start), max(box[2], end), y + 1
        region["pixels"] += end - start
        region_map[y, start:end] = number
    return region_map, regions


def class_boxes(
    classes: np.ndarray,
    probabilities: np.ndarray,
    info: ModelInfo,
    size: tuple[int, int],
    min_pixels: int = 1,
) -> dict[str, list[dict]]:
    """Per class label, the boxes of its regions in input pixels, sorted top to bottom.

    Box: [x0, y0, x1, y1) at the input's size; score: the region's mean class probability;
    pixels: its area at the model's resolution.
    """
    region_map, regions = connected_regions(classes)
    own = np.take_along_axis(probabilities, classes[..., None].astype(np.int64), axis=-1)[..., 0]
    sums = np.bincount(region_map.ravel(), weights=own.ravel(), minlength=len(regions) + 1)
    scale_x = size[0] / classes.shape[1]
    scale_y = size[1] / classes.shape[0]
    boxes: dict[str, list[dict]] = {}
    for number, region in enumerate(regions, start=1):
        if region["pixels"] < min_pixels:
            continue
        x0, y0, x1, y1 = region["box"]
        label = info.classes[region["class_index"] - 1].label
        boxes.setdefault(label, []).append(
            {
                "box": [
                    math.floor(x0 * scale_x),
                    math.floor(y0 * scale_y),
                    min(size[0], math.ceil(x1 * scale_x)),
                    min(size[1], math.ceil(y1 * scale_y)),
                ],
                "score": round(float(sums[number] / region["pixels"]), 4),
                "pixels": region["pixels"],
            }
        )
    for label_boxes in boxes.values():
        label_boxes.sort(key=lambda b: (b["box"][1], b["box"][0]))
    return {label: boxes[label] for label in info.labels if label in boxes}


def format_boxes_json(document: dict) -> str:
    """The boxes document as JSON with one box per line, for people and diff tools alike."""
    head = {key: value for key, value in document.items() if key != "classes"}
    lines = [json.dumps(head)[:-1] + ', "classes": {']
    classes = list(document["classes"].items())
    for number, (label, boxes) in enumerate(classes, start=1):
        lines.append(f"  {json.dumps(label)}: [")
        lines.extend(
            f"    {json.dumps(box)}{',' if i < len(boxes) else ''}"
            for i, box in enumerate(boxes, start=1)
        )
        lines.append(f"  ]{',' if number < len(classes) else ''}")
    lines.append("}}")
    return "\n".join(lines) + "\n"
