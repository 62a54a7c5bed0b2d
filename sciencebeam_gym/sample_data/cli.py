"""Write the embedded sample corpus: synthetic article first pages with their label images.

    python -m sciencebeam_gym.sample_data --output_path .models/pix2pix/v4/data

writes <output_path>/{train,test}/<group>/<doc_id>/<doc_id>-page1.png and
<doc_id>-page1.annot.png (and with --format pdf also <doc_id>.pdf and <doc_id>.xml, JATS).
The same --seed always gives the same bytes; train and test pages come from different seeds.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import sys
import time
from collections import Counter

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym import cli
from sciencebeam_gym.color_map import ColorMapError, default_color_map_path, load_color_map
from sciencebeam_gym.data_layout import SPLITS, TEST, TRAIN
from sciencebeam_gym.sample_data.corpus import (
    RenderedDocument,
    document_files,
    existing_sample_files,
    make_document,
    write_files,
)
from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.errors import StorageError

DEFAULT_TRAIN_PAGES = 400
DEFAULT_TEST_PAGES = 20
DEFAULT_SEED = 1
MIN_DPI, MAX_DPI = 36, 600
REQUIRED_LABELS = (
    labels.MANUSCRIPT_TITLE,
    labels.AUTHOR,
    labels.AUTHOR_AFF,
    labels.ABSTRACT,
    labels.KEYWORDS_TITLE,
    labels.KEYWORDS,
    labels.JOURNAL,
    labels.DOI,
    labels.MANUSCRIPT_TYPE,
    labels.SECTION_TITLE,
    labels.SECTION_PARAGRAPH,
    labels.FIGURE_TITLE,
    labels.TABLE_TITLE,
    labels.TABLE_HEADER_CELL,
    labels.TABLE_BODY_CELL,
    labels.REFERENCE_LIST_TITLE,
    labels.REFERENCE,
    labels.PAGE_NO,
    labels.COPYRIGHT_STATEMENT,
)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.sample_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output_path",
        required=True,
        help="data folder (local or gs://); train/ and test/ are written in it",
    )
    cli.add_color_map(
        parser,
        help="colour map whose class keys label the pages (default: the toolkit's color_map.conf)",
    )
    parser.add_argument(
        "--train_pages",
        type=non_negative_int,
        default=DEFAULT_TRAIN_PAGES,
        help="number of training pages (default: %(default)s)",
    )
    parser.add_argument(
        "--test_pages",
        type=non_negative_int,
        default=DEFAULT_TEST_PAGES,
        help="number of test pages (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=DEFAULT_SEED,
        help="corpus seed; the same seed gives identical files (default: %(default)s)",
    )
    parser.add_argument(
        "--format",
        choices=("png", "pdf"),
        default="png",
        help="png: page + label PNGs (default); pdf: also a PDF of the page with "
        "selectable text and its JATS XML, for measuring PDF+XML alignment",
    )
    parser.add_argument(
        "--dpi",
        type=non_negative_int,
        default=0,
        help="render every page at this DPI (pixels = points * dpi / 72); "
        "0 (default) picks a DPI per page that makes it 1150-1650 px tall",
    )
    parser.add_argument(
        "--workers",
        type=non_negative_int,
        default=0,
        help="worker processes (default 0: one per CPU core)",
    )
    return parser


def _render_one(task) -> RenderedDocument:
    split, index, seed, dpi, output_path, keys, write_pdf = task
    document = make_document(split, index, seed, dpi)
    return document_files(document, output_path, split, keys, write_pdf)


def _run_tasks(tasks, workers: int):
    if workers <= 1 or len(tasks) <= 1:
        yield from map(_render_one, tasks)
        return
    # Workers only compute (every page has its own seed, so the result does not depend on the
    # worker); the parent writes, so no storage client is ever used in a forked process.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    with multiprocessing.get_context(method).Pool(workers) as pool:
        yield from pool.imap(_render_one, tasks, chunksize=2)


def clear_previous_output(output_path: str) -> int:
    """Delete the files an earlier run wrote, so a smaller corpus leaves no stale pages."""
    count = 0
    for split in SPLITS:
        paths = existing_sample_files(output_path, split)
        fs.delete(paths)
        count += len(paths)
        if not fs.is_remote(output_path):
            _remove_empty_folders(fs.join(output_path, split))
    return count


def _remove_empty_folders(root: str) -> None:
    if not os.path.isdir(root):
        return
    for folder, _, _ in sorted(os.walk(root), key=lambda item: -len(item[0])):
        if folder != root and os.path.basename(os.path.dirname(folder)) and not os.listdir(folder):
            os.rmdir(folder)


def generate_corpus(
    output_path: str,
    color_map_path: str,
    train_pages: int,
    test_pages: int,
    seed: int,
    write_pdf: bool = False,
    dpi: int = 0,
    workers: int = 0,
    log=print,
) -> dict:
    """Write the corpus and return a summary (pages, time, classes, sizes)."""
    color_map = load_color_map(color_map_path)
    keys = {c.label: c.key for c in color_map.classes}
    missing = [label for label in REQUIRED_LABELS if label not in keys]
    if missing:
        log(
            f"warning: {color_map_path} has no class for {', '.join(missing)}; "
            "those regions stay background"
        )
    workers = workers or os.cpu_count() or 1
    start = time.monotonic()
    removed = clear_previous_output(output_path)
    if removed:
        log(f"removed {removed} files of an earlier sample corpus under {output_path}")
    counts = {split: pages for split, pages in zip(SPLITS, (train_pages, test_pages), strict=True)}
    tasks = [
        (split, index, seed, dpi, output_path, keys, write_pdf)
        for split in SPLITS
        for index in range(counts[split])
    ]
    written: list[tuple[RenderedDocument, list[str]]] = []
    step = max(1, len(tasks) // 10)
    for done, rendered in enumerate(_run_tasks(tasks, workers), start=1):
        paths = write_files(rendered)
        rendered.files = []  # keep the summary facts, not the bytes
        written.append((rendered, paths))
        if done % step == 0 or done == len(tasks):
            log(f"  {done}/{len(tasks)} pages written ({time.monotonic() - start:.1f} s)")
    return _summary(written, counts, output_path, time.monotonic() - start, workers)


def _summary(written, counts, output_path, seconds, workers) -> dict:
    classes = Counter(label for doc, _ in written for label in doc.labels)
    heights = [doc.size[1] for doc, _ in written] or [0]
    return {
        "output_path": output_path,
        "pages": counts,
        "files": sum(len(paths) for _, paths in written),
        "seconds": round(seconds, 2),
        "workers": workers,
        "height_px": [min(heights), max(heights)],
        "page_sizes": dict(Counter(doc.page_size for doc, _ in written)),
        "columns": dict(Counter(doc.columns for doc, _ in written)),
        "dpi": [
            min((doc.dpi for doc, _ in written), default=0),
            max((doc.dpi for doc, _ in written), default=0),
        ],
        "pages_per_class": dict(sorted(classes.items())),
    }


def print_summary(summary: dict) -> None:
    pages = summary["pages"]
    print(
        f"Sample corpus: {pages[TRAIN]} train + {pages[TEST]} test pages, "
        f"{summary['files']} files in {summary['seconds']} s "
        f"({summary['workers']} worker processes)"
    )
    print(f"  written to {summary['output_path']}/{{train,test}}")
    low, high = summary["height_px"]
    print(
        f"  page heights {low}-{high} px at {summary['dpi'][0]}-{summary['dpi'][1]} dpi; "
        f"page sizes {summary['page_sizes']}; "
        f"columns {summary['columns']}"
    )
    classes = ", ".join(f"{label} {n}" for label, n in summary["pages_per_class"].items())
    print(f"  pages per class: {classes}")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    color_map_path = args.color_map or default_color_map_path()
    if args.dpi and not MIN_DPI <= args.dpi <= MAX_DPI:
        print(
            f"error: --dpi {args.dpi} is outside {MIN_DPI}-{MAX_DPI} (0 picks one per page)",
            file=sys.stderr,
        )
        return cli.EXIT_USAGE
    if args.format == "pdf" and importlib.util.find_spec("fpdf") is None:
        print(
            "error: --format pdf needs the fpdf2 package: .venv/bin/pip install fpdf2 "
            "(or reinstall the toolkit: pip install -e .)",
            file=sys.stderr,
        )
        return cli.EXIT_USAGE
    if args.train_pages + args.test_pages == 0:
        print("error: --train_pages and --test_pages are both 0; nothing to write", file=sys.stderr)
        return cli.EXIT_USAGE
    print(
        f"Writing {args.train_pages} train + {args.test_pages} test sample pages "
        f"(seed {args.seed}, format {args.format}) to {args.output_path}"
    )
    try:
        summary = generate_corpus(
            args.output_path,
            color_map_path,
            args.train_pages,
            args.test_pages,
            args.seed,
            write_pdf=args.format == "pdf",
            dpi=args.dpi,
            workers=args.workers,
        )
    except ColorMapError as error:
        print(f"error: {error}", file=sys.stderr)
        return cli.EXIT_USAGE
    except (OSError, StorageError) as error:
        print(
            f"error: cannot write the sample corpus to {args.output_path}: {error}", file=sys.stderr
        )
        return cli.EXIT_FAILED
    print_summary(summary)
    return cli.EXIT_OK
