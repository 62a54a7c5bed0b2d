"""Speed of extract.sh's extraction (PDF -> fields), against reading the text layer alone.

    .venv/bin/python benchmarks/extract_throughput.py                      # fresh quick-shaped model
    .venv/bin/python benchmarks/extract_throughput.py --saved_model .models/pix2pix/v4-default/export

Without --saved_model a model of the quick preset's shape (256 x 256, ngf 16, 24 classes) with
untrained weights is exported to a temporary folder: speed does not depend on the weights.
On the PDFs of --source (default ../shared/data/pdf-jats), in one run:
- `baseline_text_layer`: opening each PDF and reading its pages' text layer, nothing else;
- `first_page`: extraction of page 1 of each PDF (render, model, text layer, assembly);
- `all_pages`: extraction of every page of each PDF.
Prints one JSON object: `pdfs_per_sec` and `pages_per_sec` of each, `seconds_per_page` split by
stage, `peak_rss_mib` of the process (the whole run) and the settings.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import platform
import resource
import sys
import tempfile
import time

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "..", "..", "shared", "data", "pdf-jats")
STAGES = ("render", "model", "text_layer", "assembly")


def fresh_export(folder: str) -> str:
    """A quick-preset-shaped model, trained for no step, exported (see predict_throughput.py)."""
    sys.path.insert(0, HERE)
    from predict_throughput import make_model_dir

    from sciencebeam_gym.serving import export

    training = make_model_dir(os.path.join(folder, "training"), {"image_size": 256})
    path = os.path.join(folder, "export")
    if export.main(["--model_path", training, "--export_path", path]) != 0:
        raise SystemExit("error: the benchmark model could not be exported")
    return path


def text_layer_only(documents: list[bytes], first_page_only: bool) -> dict:
    """The baseline: open each PDF and read its text layer."""
    from sciencebeam_gym.document.pdf import open_pdf
    from sciencebeam_gym.document.text_layer import extract_page_text

    pages = 0
    started = time.perf_counter()
    for data in documents:
        document = open_pdf(data)
        for index in range(1 if first_page_only else len(document)):
            page = document[index]
            extract_page_text(page)
            page.close()
            pages += 1
        document.close()
    return rates(len(documents), pages, time.perf_counter() - started)


def extraction(documents: list[bytes], model, first_page_only: bool) -> dict:
    """Extraction of the first page or of every page, with the seconds spent per stage."""
    from sciencebeam_gym.extract import extract_document

    timings: dict[str, float] = {}
    pages = 0
    started = time.perf_counter()
    for data in documents:
        article = extract_document(data, model, [1] if first_page_only else None, timings=timings)
        pages += article.pages
    result = rates(len(documents), pages, time.perf_counter() - started)
    result["seconds_per_page"] = {s: round(timings.get(s, 0.0) / pages, 4) for s in STAGES}
    return result


def rates(documents: int, pages: int, seconds: float) -> dict:
    return {
        "documents": documents,
        "pages": pages,
        "seconds": round(seconds, 3),
        "pdfs_per_sec": round(documents / seconds, 3),
        "pages_per_sec": round(pages / seconds, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="a folder of PDFs")
    parser.add_argument("--saved_model", default="", help="an export (default: a fresh one)")
    parser.add_argument("--dpi", type=float, default=100.0, help="page render resolution")
    parser.add_argument("--limit", type=int, default=0, help="at most this many PDFs")
    args = parser.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.source, "*.pdf")))[: args.limit or None]
    if not paths:
        raise SystemExit(f"error: no PDF in {args.source} (--source)")
    documents = [pathlib.Path(p).read_bytes() for p in paths]

    from sciencebeam_gym.extract import load_model

    with tempfile.TemporaryDirectory(prefix="extract-bench-") as folder:
        model = load_model(args.saved_model or fresh_export(folder), dpi=args.dpi)
        extraction(documents[:1], model, True)  # warm-up: graph tracing, caches
        result = {
            "baseline_text_layer": {
                "first_page": text_layer_only(documents, True),
                "all_pages": text_layer_only(documents, False),
            },
            "first_page": extraction(documents, model, True),
            "all_pages": extraction(documents, model, False),
        }
    result["pdfs_per_sec"] = {
        "first_page": result["first_page"]["pdfs_per_sec"],
        "all_pages": result["all_pages"]["pdfs_per_sec"],
    }
    result["seconds_per_page"] = {
        "first_page": result["first_page"]["seconds_per_page"],
        "all_pages": result["all_pages"]["seconds_per_page"],
    }
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["settings"] = {
        "source": os.path.abspath(args.source),
        "model": args.saved_model or "fresh quick-preset shape (untrained)",
        "dpi": args.dpi,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
