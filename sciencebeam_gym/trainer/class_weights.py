"""Class weights for the weighted cross-entropy, computed from training records.

    python -m sciencebeam_gym.trainer.class_weights \\
        --data_paths '.models/pix2pix/v4/preproc/train/*tfrecord*' --output_path class-weights.json

Median-frequency balancing: the frequency of a class is its pixel count divided by the pixels of
the images it appears in; its weight is median(frequencies) / frequency. The background counts
as a class (index 0); unknown pixels (text no field claimed) count for no class and not in their
image's pixels. Classes absent from the records get weight 1 (they never occur in the
loss). Weights are capped (`--max_weight`) so a class seen in a handful of pixels cannot
dominate the loss.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence

import numpy as np

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import (
    BACKGROUND_LABEL,
    UNKNOWN_INDEX,
    ColorMapError,
    load_color_map,
)
from sciencebeam_gym.storage import fs

DEFAULT_MAX_WEIGHT = 50.0
METHODS = ("median_frequency", "inverse_frequency", "none")


class ClassWeightsError(cli.CliError, ValueError):
    """A class-weights file that cannot be used with this colour map."""


def count_pixels(class_index_images: Iterable[np.ndarray], size: int) -> tuple[np.ndarray, ...]:
    """(pixel counts per class, pixels of the images each class appears in, image counts);
    UNKNOWN_INDEX pixels are left out."""
    pixel_counts = np.zeros(size, dtype=np.int64)
    image_pixels = np.zeros(size, dtype=np.int64)
    image_counts = np.zeros(size, dtype=np.int64)
    for image in class_index_images:
        known = np.asarray(image, dtype=np.int64).ravel()
        known = known[known != UNKNOWN_INDEX]
        counts = np.bincount(known, minlength=size)[:size]
        present = counts > 0
        pixel_counts += counts
        image_pixels[present] += known.size
        image_counts[present] += 1
    return pixel_counts, image_pixels, image_counts


def median_frequency_weights(
    pixel_counts: np.ndarray, image_pixels: np.ndarray, max_weight: float = DEFAULT_MAX_WEIGHT
) -> np.ndarray:
    """median(freq) / freq_c with freq_c = pixels of c / pixels of the images containing c."""
    pixel_counts = np.asarray(pixel_counts, dtype=np.float64)
    present = pixel_counts > 0
    weights = np.ones(len(pixel_counts), dtype=np.float64)
    if not present.any():
        return weights
    frequency = pixel_counts[present] / np.asarray(image_pixels, dtype=np.float64)[present]
    weights[present] = np.median(frequency) / frequency
    return np.minimum(weights, max_weight)


def inverse_frequency_weights(
    pixel_counts: np.ndarray, max_weight: float = DEFAULT_MAX_WEIGHT
) -> np.ndarray:
    """total / (classes * count_c), the plain inverse frequency."""
    pixel_counts = np.asarray(pixel_counts, dtype=np.float64)
    present = pixel_counts > 0
    weights = np.ones(len(pixel_counts), dtype=np.float64)
    if present.any():
        weights[present] = pixel_counts.sum() / (present.sum() * pixel_counts[present])
    return np.minimum(weights, max_weight)


def compute_weights(
    pixel_counts,
    image_pixels,
    method: str = "median_frequency",
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> np.ndarray:
    if method == "median_frequency":
        return median_frequency_weights(pixel_counts, image_pixels, max_weight)
    if method == "inverse_frequency":
        return inverse_frequency_weights(pixel_counts, max_weight)
    if method == "none":
        return np.ones(len(pixel_counts), dtype=np.float64)
    raise ClassWeightsError(f"unknown method {method!r}; use one of {METHODS}")


def class_index_images_from_records(
    files: Sequence[str], color_map, max_records: int = 0, skip_corrupt: bool = False
):
    """Class-index images (0 background, UNKNOWN_INDEX unknown) of the records' annotations."""
    from sciencebeam_gym.trainer import data

    examples = data.iterate_examples(files, skip_corrupt=skip_corrupt)
    for count, (_uri, _page, annotation) in enumerate(examples, start=1):
        yield color_map.rgb_to_class_index(annotation, unknown=UNKNOWN_INDEX)
        if max_records and count >= max_records:
            return


def weights_document(
    labels: Sequence[str], weights, pixel_counts, image_counts, method: str, source: str
) -> dict:
    """The JSON the trainer reads: labels (background first) and one weight per label."""
    return {
        "method": method,
        "source": source,
        "labels": [BACKGROUND_LABEL, *labels],
        "weights": [round(float(w), 6) for w in weights],
        "pixel_counts": [int(c) for c in pixel_counts],
        "image_counts": [int(c) for c in image_counts],
    }


def calculate_class_weights(
    files: Sequence[str],
    color_map,
    method: str = "median_frequency",
    max_weight: float = DEFAULT_MAX_WEIGHT,
    max_records: int = 0,
    source: str = "",
    skip_corrupt: bool = False,
) -> dict:
    """Read the records' annotations and return the weights document.

    A record that cannot be read stops it with a DataError naming the file, unless
    skip_corrupt (--skip_corrupt_records), which skips it as training does.
    """
    size = color_map.num_classes + 1
    images = class_index_images_from_records(files, color_map, max_records, skip_corrupt)
    pixel_counts, image_pixels, image_counts = count_pixels(images, size)
    if pixel_counts.sum() == 0:
        raise ClassWeightsError(f"no records could be read from {source or files}")
    weights = compute_weights(pixel_counts, image_pixels, method, max_weight)
    return weights_document(
        color_map.labels, weights, pixel_counts, image_counts, method, source or ",".join(files)
    )


def counted_images(images, counter: list[int]):
    """The images, counting them in counter[0]."""
    for image in images:
        counter[0] += 1
        yield image


def calculate_mixed_class_weights(
    sources: Sequence,
    color_map,
    method: str = "median_frequency",
    max_weight: float = DEFAULT_MAX_WEIGHT,
    max_records: int = 0,
    source: str = "",
    skip_corrupt: bool = False,
) -> dict:
    """The weights document of several sources (`data.SourceFiles`) mixed by their share.

    Each source gives up to its share of `max_records` (its first records, in file order; all
    with 0), and its counts are scaled so that it weighs its share whatever number it gave.
    """
    size = color_map.num_classes + 1
    pixel_counts, image_pixels = np.zeros(size), np.zeros(size)
    image_counts = np.zeros(size, dtype=np.int64)
    parts = []
    for found in sources:
        budget = max(1, round(max_records * found.share)) if max_records else 0
        pages = [0]
        images = class_index_images_from_records(found.files, color_map, budget, skip_corrupt)
        parts.append((found, count_pixels(counted_images(images, pages), size), pages[0]))
        if not pages[0]:
            raise ClassWeightsError(f"no records could be read from {found.source.text}")
    total_pages = sum(pages for _found, _counts, pages in parts)
    for found, (pixels, covered, counts), pages in parts:
        scale = found.share * total_pages / pages
        pixel_counts += scale * pixels
        image_pixels += scale * covered
        image_counts += counts
    weights = compute_weights(pixel_counts, image_pixels, method, max_weight)
    names = source or ",".join(found.source.text for found in sources)
    return weights_document(
        color_map.labels, weights, np.round(pixel_counts), image_counts, method, names
    )


def load_class_weights(path: str, labels: Sequence[str]) -> np.ndarray:
    """Weights (background first) from a JSON file; its labels must match the colour map's."""
    try:
        document = json.loads(fs.read_bytes(path).decode("utf-8"))
    except Exception as error:  # noqa: BLE001 - unreadable or not JSON: same advice
        raise ClassWeightsError(
            f"cannot read class weights {path}: {error}; run ./calculate-class-weights.sh"
        ) from error
    return weights_from_document(document, labels, path)


def weights_from_document(document: dict, labels: Sequence[str], source: str) -> np.ndarray:
    expected = [BACKGROUND_LABEL, *labels]
    if document.get("labels") != expected or len(document.get("weights", [])) != len(expected):
        raise ClassWeightsError(
            f"{source}: its labels do not match the colour map ({len(expected) - 1} classes); "
            "recompute it with ./calculate-class-weights.sh"
        )
    weights = np.asarray(document["weights"], dtype=np.float32)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ClassWeightsError(f"{source}: weights must be finite and >= 0")
    return weights


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.class_weights",
        description="Compute class weights for --base_loss weighted_cross_entropy from "
        "training TFRecords and write them as JSON (read by the trainer's --class_weights).",
    )
    parser.add_argument(
        "--data_paths",
        action="append",
        required=True,
        help="glob of *.tfrecord.gz training shards (repeatable)",
    )
    parser.add_argument("--output_path", required=True, help="JSON file to write")
    cli.add_color_map(parser)
    parser.add_argument("--method", choices=METHODS, default="median_frequency")
    parser.add_argument(
        "--max_weight", type=float, default=DEFAULT_MAX_WEIGHT, help="cap on any weight"
    )
    parser.add_argument(
        "--max_records", type=int, default=0, help="records to read (0: all of them)"
    )
    parser.add_argument(
        "--skip_corrupt_records",
        action="store_true",
        help="skip records that cannot be read instead of stopping",
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)  # before TensorFlow's import: --help at once
    from sciencebeam_gym.color_map import default_color_map_path
    from sciencebeam_gym.trainer import data

    try:
        color_map = load_color_map(args.color_map or default_color_map_path())
        files = data.find_files(args.data_paths, "training", "--data_paths")
        started = time.time()
        print(f"reading annotations of {len(files)} file(s)...", file=sys.stderr)
        document = calculate_class_weights(
            files,
            color_map,
            args.method,
            args.max_weight,
            args.max_records,
            source=",".join(args.data_paths),
            skip_corrupt=args.skip_corrupt_records,
        )
    except (ColorMapError, ClassWeightsError, data.DataError) as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    fs.write_text(args.output_path, json.dumps(document, indent=2) + "\n")
    print(
        f"wrote {args.output_path} ({args.method}, {document['image_counts'][0]} page(s), "
        f"{time.time() - started:.1f}s)",
        file=sys.stderr,
    )
    for label, weight in zip(document["labels"], document["weights"], strict=True):
        print(f"  {label:28s} {weight:8.3f}", file=sys.stderr)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
