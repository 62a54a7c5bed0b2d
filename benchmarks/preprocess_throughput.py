"""Preprocessing throughput: the project's pipeline (whole process) vs a plain single-process loop.

    .venv/bin/python benchmarks/preprocess_throughput.py [--pairs 400] [--keep]

Generates N full-size page/annotation pairs (page-like RGB renders with text lines and a figure,
grey label images), then times in the same run:
  (a) `python -m sciencebeam_gym.preprocess.pipeline ...` as a user runs it: a fresh process,
      interpreter and Beam start-up, pairing, workers, TFRecord shards, report;
  (b) a plain loop in this process, the way the original toolkit did the work: Pillow decode,
      convert to RGB, full bicubic / nearest resize, colour map, PNG encode (default level),
      tf.train.Example serialisation and a gzipped TFRecord file. Imports are not timed, which
      favours the loop.
Prints one JSON object with both timings, their ratio and the machine's core count. With
`--repeats N` the two alternate N times and the best of each counts (for a busy machine).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sciencebeam_gym import records
from sciencebeam_gym.color_map import default_color_map_path, load_color_map

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "that",
    "with",
    "on",
    "as",
    "by",
    "this",
    "are",
    "from",
    "we",
    "be",
    "at",
    "an",
    "which",
    "results",
    "model",
    "data",
    "analysis",
    "protein",
    "cell",
    "gene",
    "expression",
    "method",
    "study",
    "figure",
    "table",
    "patients",
    "significant",
    "observed",
    "increase",
    "using",
    "between",
    "samples",
    "were",
    "values",
    "effect",
    "response",
]


def draw_pair(seed: int, size: tuple[int, int] = PAGE_SIZE) -> tuple[Image.Image, Image.Image]:
    """A page-like RGB image (title, two text columns, a figure) and its grey label image."""
    rng = random.Random(seed)
    width, height = size
    page = Image.new("RGB", size, (255, 255, 255))
    label = Image.new("L", size, 0)
    draw, draw_label = ImageDraw.Draw(page), ImageDraw.Draw(label)
    small = ImageFont.load_default(size=15)
    large = ImageFont.load_default(size=30)
    margin = 90
    y = margin
    title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
    draw.text((margin, y), title, fill=(0, 0, 0), font=large)
    draw_label.rectangle((margin, y, width - margin, y + 36), fill=9)
    y += 70
    column_width = (width - 3 * margin) // 2
    chars_per_line = int(column_width / draw.textlength("e", font=small))
    figure_column = rng.randrange(2)
    for column in range(2):
        x = margin + column * (column_width + margin)
        cy = y
        figure_done = False
        while cy < height - margin - 40:
            if column == figure_column and not figure_done and cy > height // 3:
                figure_done = True
                fig_h = 360
                ramp = np.linspace(0, 255, column_width, dtype=np.float32)[None, :, None]
                noise = np.random.default_rng(seed).normal(0, 25, (fig_h, column_width, 3))
                figure = np.clip(ramp * [0.3, 0.6, 0.9] + noise + 40, 0, 255).astype(np.uint8)
                page.paste(Image.fromarray(figure, "RGB"), (x, cy))
                cy += fig_h + 10
                draw.text(
                    (x, cy), "Figure 1. " + " ".join(rng.choices(WORDS, k=6)), fill=0, font=small
                )
                draw_label.rectangle((x, cy, x + column_width, cy + 20), fill=20)
                cy += 40
                continue
            lines = rng.randint(3, 14)
            key = rng.choice((12, 24, 13, 22))
            top = cy
            for _ in range(lines):
                line = ""
                while len(line) < chars_per_line - 10:
                    line = (line + " " + rng.choice(WORDS)).strip()
                draw.text((x, cy), line, fill=(20, 20, 20), font=small)
                cy += 20
                if cy > height - margin - 40:
                    break
            draw_label.rectangle((x, top, x + column_width, cy), fill=key)
            cy += 18
    draw.text((width // 2, height - margin // 2), "1", fill=0, font=small)
    draw_label.rectangle(
        (width // 2, height - margin // 2, width // 2 + 10, height - margin // 2 + 16), fill=11
    )
    return page, label


def write_pair(folder: str, index: int) -> None:
    doc_id = f"doc{index:05d}"
    doc_folder = os.path.join(folder, f"group{index % 10}", doc_id)
    os.makedirs(doc_folder, exist_ok=True)
    page, label = draw_pair(index)
    page.save(os.path.join(doc_folder, f"{doc_id}-page1.png"))
    label.save(os.path.join(doc_folder, f"{doc_id}-page1.annot.png"))


def make_corpus(folder: str, pairs: int) -> None:
    """Write the pairs (in parallel; generation is not what is measured)."""
    from multiprocessing import Pool

    with Pool(os.cpu_count()) as pool:
        pool.starmap(write_pair, [(folder, i) for i in range(pairs)])


def plain_loop(pattern: str, output_file: str, size: tuple[int, int], color_map_path: str) -> int:
    """The work in one process, the straightforward way (full bicubic, default PNG level)."""
    import glob

    color_map = load_color_map(color_map_path)
    paths = sorted(glob.glob(pattern))
    annotations = [p for p in paths if ".annot" in p]
    count = 0
    with gzip.open(output_file, "wb", compresslevel=6) as out:  # as TensorFlow's GZIP writer
        for annotation_path in annotations:
            page_path = annotation_path.replace(".annot", "")
            page = Image.open(page_path).convert("RGB").resize(size, Image.Resampling.BICUBIC)
            annotation = Image.open(annotation_path).convert("RGB")
            annotation = annotation.resize(size, Image.Resampling.NEAREST)
            colored = color_map.map_grey_to_colors(np.asarray(annotation))
            page_png, annotation_png = io.BytesIO(), io.BytesIO()
            page.save(page_png, format="PNG")
            Image.fromarray(colored).save(annotation_png, format="PNG")
            example = records.encode_example(
                {
                    records.INPUT_URI: page_path,
                    records.ANNOTATION_URI: annotation_path,
                    records.INPUT_IMAGE: page_png.getvalue(),
                    records.ANNOTATION_IMAGE: annotation_png.getvalue(),
                }
            )
            out.write(records.frame_record(example))
            count += 1
    return count


def run_pipeline(pattern: str, output_path: str, size: tuple[int, int], extra: list[str]) -> float:
    command = [
        sys.executable,
        "-m",
        "sciencebeam_gym.preprocess.pipeline",
        "--data_paths",
        pattern,
        "--output_path",
        output_path,
        "--image_width",
        str(size[0]),
        "--image_height",
        str(size[1]),
        *extra,
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=400, help="default: %(default)s")
    parser.add_argument("--data_dir", help="reuse (or create) the generated pairs here")
    parser.add_argument(
        "--repeats", type=int, default=1, help="alternate runs of both; report the best of each"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    parser.add_argument("--pipeline_args", default="", help="extra flags for the pipeline")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="preprocess-benchmark-")
    data_dir = args.data_dir or os.path.join(work, "data")
    size = (256, 256)
    try:
        marker = os.path.join(data_dir, f".complete-{args.pairs}")
        if not os.path.exists(marker):
            started = time.perf_counter()
            make_corpus(data_dir, args.pairs)
            open(marker, "w").close()
            print(
                f"generated {args.pairs} pairs in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        pattern = os.path.join(data_dir, "*", "*", "*-page1*.png")

        # Alternate the two, so a busy machine slows both alike; the best of each is reported.
        pipeline_times, loop_times = [], []
        pipeline_cpu, loop_cpu = [], []
        for _ in range(args.repeats):
            cpu = children_cpu_seconds()
            pipeline_times.append(
                run_pipeline(pattern, os.path.join(work, "ours"), size, args.pipeline_args.split())
            )
            pipeline_cpu.append(children_cpu_seconds() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            loop_count = plain_loop(
                pattern, os.path.join(work, "loop.tfrecord.gz"), size, default_color_map_path()
            )
            loop_times.append(time.perf_counter() - started)
            loop_cpu.append(time.process_time() - cpu)
        with open(os.path.join(work, "ours", "preprocess-report.json")) as f:
            report = json.load(f)
        pipeline_seconds, loop_seconds = min(pipeline_times), min(loop_times)

        result = {
            "pairs": args.pairs,
            "image_size": list(size),
            "page_size": list(PAGE_SIZE),
            "cpu_count": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)),
            "pipeline_seconds": round(pipeline_seconds, 2),
            "pipeline_records": report["records_written"],
            "plain_loop_seconds": round(loop_seconds, 2),
            "plain_loop_records": loop_count,
            "speedup": round(loop_seconds / pipeline_seconds, 2),
            "repeats": args.repeats,
            "pipeline_seconds_all": [round(t, 2) for t in pipeline_times],
            "plain_loop_seconds_all": [round(t, 2) for t in loop_times],
            # CPU seconds (all cores) used by each: on a busy machine, where wall times mean
            # little, these still show the work each one does.
            "pipeline_cpu_seconds_all": [round(t, 2) for t in pipeline_cpu],
            "plain_loop_cpu_seconds_all": [round(t, 2) for t in loop_cpu],
            "load_average_1min": round(os.getloadavg()[0], 2),
            "pipeline_args": args.pipeline_args,
        }
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
