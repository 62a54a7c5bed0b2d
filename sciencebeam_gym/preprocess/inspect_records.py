"""Look at preprocessed TFRecords: counts, feature keys, example images, class pixel frequencies.

    python -m sciencebeam_gym.preprocess.inspect_records \\
        --preproc_path .models/pix2pix/v4/preproc --output_dir .temp/inspect-tf-records

For each split (`<preproc_path>/<split>/*tfrecord*`) it prints the record count, the feature
keys, the image sizes, whether the preprocessing run completed (its report is there), and a table
of pixels per class of the colour map (and unknown); it writes N example pairs side by side as PNG and the
figures as JSON (`summary.json`) to the output folder.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from collections.abc import Sequence

import numpy as np
from PIL import Image

from sciencebeam_gym import cli, records
from sciencebeam_gym.color_map import (
    BACKGROUND_LABEL,
    UNKNOWN_LABEL,
    ColorMap,
    ColorMapError,
    default_color_map_path,
    load_color_map,
)
from sciencebeam_gym.data_layout import SPLITS
from sciencebeam_gym.records import COMPLETION_REPORT_NAME as REPORT_NAME
from sciencebeam_gym.storage import fs

UNMAPPED_LABEL = "(not in colour map)"


class InspectError(cli.CliError):
    """A problem the user can fix; reported without a traceback."""


def decode_png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 4) -> np.ndarray:
    """Two RGB images next to each other on a white strip."""
    height = max(left.shape[0], right.shape[0])
    out = np.full((height, left.shape[1] + gap + right.shape[1], 3), 255, dtype=np.uint8)
    out[: left.shape[0], : left.shape[1]] = left
    out[: right.shape[0], left.shape[1] + gap :] = right
    return out


def class_pixel_counts(annotation: np.ndarray, color_map: ColorMap) -> tuple[np.ndarray, int]:
    """Pixels per class index (0 background, i + 1 class i, then unknown last) and pixels of
    no map colour."""
    unknown = color_map.num_classes + 1
    index = color_map.rgb_to_class_index(annotation, unknown=unknown)
    counts = np.bincount(index.ravel(), minlength=unknown + 1)
    unmapped = int(((index == 0) & annotation.any(axis=-1)).sum())
    counts[0] -= unmapped
    return counts, unmapped


def _single(features: dict, key: str):
    values = features.get(key) or [b""]
    return values[0]


def inspect_split(
    split_path: str, color_map: ColorMap, examples: int, output_dir: str | None, max_records: int
) -> dict:
    """Figures of one split; example pairs written to output_dir."""
    files = fs.glob(fs.join(fs.escape_glob(split_path), "*tfrecord*"))
    keys: Counter = Counter()
    sizes: Counter = Counter()
    counts = np.zeros(color_map.num_classes + 2, dtype=np.int64)
    unmapped = 0
    total = 0
    extracted = []
    split = fs.basename(split_path)
    for path in files:
        try:
            for data in records.read_tfrecord_file(path):
                total += 1
                if max_records and total > max_records:
                    continue
                features = records.decode_example(data)
                keys.update(features.keys())
                page = decode_png(_single(features, records.INPUT_IMAGE))
                annotation = decode_png(_single(features, records.ANNOTATION_IMAGE))
                sizes[f"{page.shape[1]}x{page.shape[0]}"] += 1
                record_counts, record_unmapped = class_pixel_counts(annotation, color_map)
                counts += record_counts
                unmapped += record_unmapped
                if output_dir and len(extracted) < examples:
                    name = f"{split}-{len(extracted) + 1:02d}.png"
                    fs.write_bytes(fs.join(output_dir, name), _png(side_by_side(page, annotation)))
                    uri = _single(features, records.INPUT_URI)
                    extracted.append(
                        {"file": name, records.INPUT_URI: uri.decode("utf-8", "replace")}
                    )
        except records.RecordError as error:
            raise InspectError(str(error)) from error
    report_path = fs.join(split_path, REPORT_NAME)
    run_report = json.loads(fs.read_bytes(report_path)) if fs.exists(report_path) else None
    labels = [BACKGROUND_LABEL, *color_map.labels, UNKNOWN_LABEL]
    pixels = int(counts.sum()) + unmapped
    frequencies = {
        label: {"pixels": int(count), "fraction": round(int(count) / pixels, 6) if pixels else 0.0}
        for label, count in zip(labels, counts, strict=True)
    }
    frequencies[UNMAPPED_LABEL] = {
        "pixels": unmapped,
        "fraction": round(unmapped / pixels, 6) if pixels else 0.0,
    }
    return {
        "path": split_path,
        "files": [fs.basename(f) for f in files],
        "records": total,
        "records_inspected": min(total, max_records) if max_records else total,
        "feature_keys": sorted(keys),
        "image_sizes": dict(sizes),
        "run_complete": run_report is not None,
        "run_status": run_report.get("status") if run_report else None,
        "examples": extracted,
        "class_pixel_frequencies": frequencies,
    }


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def format_split(name: str, figures: dict) -> str:
    lines = [f"== {name}: {figures['records']} records in {len(figures['files'])} file(s)"]
    if not figures["run_complete"]:
        lines.append(
            f"   warning: no {REPORT_NAME}: the preprocessing run did not finish "
            "(or the records come from elsewhere)"
        )
    elif figures["run_status"] != "ok":
        lines.append(f"   warning: the preprocessing run reported status {figures['run_status']!r}")
    lines.append(f"   feature keys: {', '.join(figures['feature_keys']) or '(none)'}")
    lines.append(f"   image sizes: {figures['image_sizes'] or '(none)'}")
    for example in figures["examples"]:
        lines.append(f"   example {example['file']}: {example[records.INPUT_URI]}")
    lines.append(f"   {'class':<26} {'pixels':>12} {'fraction':>9}")
    for label, value in figures["class_pixel_frequencies"].items():
        lines.append(f"   {label:<26} {value['pixels']:>12} {value['fraction']:>9.4f}")
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.preprocess.inspect_records",
        description="Counts, keys, example images and class pixel frequencies of TFRecords.",
    )
    parser.add_argument(
        "--preproc_path", required=True, help="folder with one subfolder of TFRecords per split"
    )
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), help="default: %(default)s")
    cli.add_color_map(parser)
    parser.add_argument(
        "--examples", type=int, default=3, help="example pairs per split (default: %(default)s)"
    )
    parser.add_argument(
        "--output_dir", required=True, help="where the example PNGs and summary.json go"
    )
    parser.add_argument(
        "--max_records",
        type=int,
        default=0,
        help="decode at most this many records per split (0: all; counts are always complete)",
    )
    return parser


def run(argv: Sequence[str] | None = None) -> dict:
    opts = get_args_parser().parse_args(argv)
    try:
        color_map = load_color_map(opts.color_map or default_color_map_path())
    except ColorMapError as error:
        raise InspectError(f"--color_map: {error}") from error
    summary = {}
    for split in opts.splits:
        split_path = fs.join(opts.preproc_path, split)
        figures = inspect_split(
            split_path, color_map, opts.examples, opts.output_dir, opts.max_records
        )
        summary[split] = figures
        print(format_split(split, figures))
    if not any(figures["records"] for figures in summary.values()):
        raise InspectError(
            f"no records under {opts.preproc_path}/{{{','.join(opts.splits)}}}/*tfrecord*; "
            "run ./preprocess.sh first"
        )
    summary_path = fs.join(opts.output_dir, "summary.json")
    fs.write_text(summary_path, json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"examples and summary.json in {opts.output_dir}")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    try:
        run(argv)
    except InspectError as error:
        return cli.report_error(error)
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
