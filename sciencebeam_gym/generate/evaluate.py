"""Measure the automatic annotation against known regions: per-class pixel F1.

    python -m sciencebeam_gym.generate.evaluate --source /tmp/sample-pdf

The source holds documents with `<doc_id>.pdf`, `<doc_id>.xml` and the ground-truth label image
`<doc_id>-page1.annot.png` side by side (the sample corpus written with `--format pdf`). Each
PDF + XML goes through the same steps as the pipeline (`document.generate_pages`); its label
image, painted at the ground truth's size, is compared pixel by pixel, summed over all pages.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from PIL import Image

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym import cli
from sciencebeam_gym.color_map import (
    ColorMap,
    ColorMapError,
    default_color_map_path,
    load_color_map,
)
from sciencebeam_gym.document.jats import extract_fields, parse_article
from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.sources import find_pairs_in_folder
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.xml_mapping import (
    MappingError,
    default_xml_mapping_path,
    load_xml_mapping,
)
from sciencebeam_gym.generate.align import align_fields
from sciencebeam_gym.generate.document import Settings
from sciencebeam_gym.generate.paint import paint_rotated_label_image
from sciencebeam_gym.storage import fs

GROUND_TRUTH_SUFFIX = "-page1.annot.png"
TARGET_F1 = 0.9
TARGET_LABELS = (
    labels.MANUSCRIPT_TITLE,
    labels.AUTHOR,
    labels.AUTHOR_AFF,
    labels.ABSTRACT,
    labels.SECTION_PARAGRAPH,
)


def pixel_counts(truth: np.ndarray, predicted: np.ndarray, keys: list[int]) -> np.ndarray:
    """(len(keys), 3) true positive, false positive and false negative pixels per class key."""
    counts = np.zeros((len(keys), 3), dtype=np.int64)
    for row, key in enumerate(keys):
        is_truth = truth == key
        is_predicted = predicted == key
        counts[row, 0] = np.count_nonzero(is_truth & is_predicted)
        counts[row, 1] = np.count_nonzero(~is_truth & is_predicted)
        counts[row, 2] = np.count_nonzero(is_truth & ~is_predicted)
    return counts


def f1_scores(counts: np.ndarray) -> list[float | None]:
    """F1 per row of pixel counts; None where the class is in neither image."""
    scores: list[float | None] = []
    for tp, fp, fn in counts.tolist():
        scores.append(None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
    return scores


def predict_label_image(
    pdf_bytes: bytes, xml_bytes: bytes, settings: Settings, size: tuple[int, int]
) -> np.ndarray:
    """The automatic label image of page 1 at `size` (width, height)."""
    article = parse_article(xml_bytes)
    fields = extract_fields(article, settings.mapping)
    document = open_pdf(pdf_bytes)
    page = document[0]
    text = extract_page_text(page)
    matches = align_fields(text, fields, page_index=0)
    label = paint_rotated_label_image(
        text, matches, settings.keys_by_label, size, page.get_rotation()
    )
    document.close()
    return label


def evaluate_folder(source: str, settings: Settings) -> dict:
    """Pixel F1 per class over every document of the folder that has a ground-truth image."""
    keys = [c.key for c in settings.color_map.classes]
    totals = np.zeros((len(keys), 3), dtype=np.int64)
    documents = []
    for pair in find_pairs_in_folder(source):
        if not pair.pdf or not pair.xml:
            continue
        base = pair.pdf[: -len(".pdf")] if pair.pdf.endswith(".pdf") else pair.pdf
        truth_path = base + GROUND_TRUTH_SUFFIX
        if not fs.exists(truth_path):
            continue
        truth = np.asarray(Image.open(io.BytesIO(fs.read_bytes(truth_path))).convert("L"))
        size = (truth.shape[1], truth.shape[0])
        predicted = predict_label_image(
            fs.read_bytes(pair.pdf), fs.read_bytes(pair.xml), settings, size
        )
        counts = pixel_counts(truth, predicted, keys)
        totals += counts
        documents.append(
            {"doc_id": pair.doc_id, "f1": _by_label(settings.color_map, f1_scores(counts))}
        )
    return {
        "source": source,
        "documents": len(documents),
        "f1": _by_label(settings.color_map, f1_scores(totals)),
        "pixels": {
            c.label: dict(zip(("tp", "fp", "fn"), totals[i].tolist(), strict=True))
            for i, c in enumerate(settings.color_map.classes)
        },
        "per_document": documents,
    }


def _by_label(color_map: ColorMap, scores: list[float | None]) -> dict[str, float | None]:
    return {
        c.label: None if s is None else round(s, 4)
        for c, s in zip(color_map.classes, scores, strict=True)
    }


def format_f1_table(result: dict) -> str:
    lines = [f"pixel F1 over {result['documents']} pages ({result['source']})"]
    for label, score in result["f1"].items():
        if score is None:
            continue
        mark = ""
        if label in TARGET_LABELS:
            mark = "  (target >= 0.9: " + ("met)" if score >= TARGET_F1 else "NOT met)")
        lines.append(f"  {label:<22} {score:.3f}{mark}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.generate.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--source", required=True, help="folder of PDF + XML + ground-truth PNGs")
    cli.add_color_map(parser)
    parser.add_argument("--xml_mapping", default=None, help="mapping (default: xml-mapping.conf)")
    parser.add_argument("--output", default=None, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    try:
        color_map = load_color_map(args.color_map or default_color_map_path())
        mapping = load_xml_mapping(args.xml_mapping or default_xml_mapping_path())
    except (ColorMapError, MappingError) as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    settings = replace(Settings(output_path="", color_map=color_map, mapping=mapping))
    result = evaluate_folder(args.source, settings)
    if not result["documents"]:
        print(
            f"error: no PDF + XML + {GROUND_TRUTH_SUFFIX} documents in {args.source} (--source); "
            "write some with: python -m sciencebeam_gym.sample_data --format pdf --output_path DIR",
            file=sys.stderr,
        )
        return cli.EXIT_FAILED
    print(format_f1_table(result))
    if args.output:
        fs.write_text(args.output, json.dumps(result, indent=1))
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
