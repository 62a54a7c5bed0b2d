"""Preprocess page/annotation image pairs into gzipped TFRecords, with Apache Beam.

    python -m sciencebeam_gym.preprocess.pipeline \\
        --data_paths '.models/pix2pix/v4/data/train/*/*/*-page[0-9]*.png' \\
        --output_path .models/pix2pix/v4/preproc/train \\
        --image_width 256 --image_height 256 --color_map color_map.conf

Files are paired by name (see `pairing`), each pair is resized and colour-mapped (see `images`)
and written as a `tf.train.Example` with the features input_uri, annotation_uri, input_image and
annotation_image to `<output_path>/part-*.tfrecord.gz`. Unusable files are skipped and listed,
with their reason, in `<output_path>/preprocess-report.json`, which is written last: a folder
without it holds no complete run. Beam's own options go to Beam (e.g. `--runner`,
`--direct_num_workers`, Dataflow's options); any other flag is refused. `--cloud` adds the
Dataflow options of the configuration (see `sciencebeam_gym.cloud.dataflow`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from sciencebeam_gym import cli, records
from sciencebeam_gym.color_map import ColorMap, ColorMapError, default_color_map_path
from sciencebeam_gym.color_map import load_color_map as _load_color_map
from sciencebeam_gym.preprocess import images
from sciencebeam_gym.preprocess.pairing import (
    DEFAULT_TARGET_PATTERN,
    Pair,
    Skipped,
    compile_target_pattern,
    find_pairs,
)
from sciencebeam_gym.preprocess.tfrecord_sink import DEFAULT_GZIP_LEVEL, WriteGzipTFRecords
from sciencebeam_gym.storage import folder_lock, fs

LOGGER = logging.getLogger(__name__)
# Workers log each skipped file at INFO: visible in Dataflow's worker logs; locally the summary
# lists them instead.
WORKER_LOGGER = logging.getLogger("sciencebeam_gym.preprocess.worker")

METRICS_NAMESPACE = "preprocess"
FOUND = "pairs_found"
WRITTEN = "records_written"
SKIPPED_PREFIX = "skipped_"

REPORT_NAME = records.COMPLETION_REPORT_NAME
SHARD_PREFIX = "part"
SHARD_SUFFIX = records.SHARD_SUFFIX
TEMP_FOLDER_PREFIX = ".preprocess-tmp-"
DEFAULT_MAX_ERROR_RATE = 0.1
# Above this fraction of annotation pixels outside the colour map, a pair is skipped: the labels
# were most likely made with another colour map. Below it the pixels train as background and the
# file is listed in the report.
DEFAULT_MAX_UNMAPPED_FRACTION = 0.01
UNMAPPED_PIXELS = "annotation_pixels_unmapped"
UNMAPPED_SHOWN = 5
SKIPPED_SHOWN = 20
PROGRESS_INTERVAL_SECONDS = float(os.environ.get("GYM_PROGRESS_SECONDS", "5"))

SKIPPED_TAG = "skipped"
SKIPPED_FILE_PREFIX = "skipped-"
UNMAPPED_TAG = "unmapped"
UNMAPPED_FILE_PREFIX = "unmapped-"

# Local workers are threads of one process: Pillow and zlib release the GIL while they decode,
# resize and encode, so threads use the cores as well as processes do, without the second or
# two of worker start-up and the per-element traffic between processes (measured: doc/preprocess.md).
DEFAULT_DIRECT_RUNNING_MODE = "multi_threading"


class PreprocessError(cli.CliError):
    """A problem the user can fix (bad flag, missing input, too many bad files); no traceback."""


# --- the Beam steps ---------------------------------------------------------------------------


class ReadAndResizeDoFn(beam.DoFn):
    """Reads a pair, resizes both images and colour-maps the annotation; bad input is skipped."""

    def __init__(
        self,
        image_size: tuple[int, int],
        color_map: ColorMap,
        reducing_gap: float | None,
        compress_level: int,
        total: int = 0,
        max_unmapped_fraction: float = DEFAULT_MAX_UNMAPPED_FRACTION,
    ):
        self.image_size = image_size
        self.color_map = color_map
        self.reducing_gap = reducing_gap
        self.compress_level = compress_level
        self.total = total
        self.max_unmapped_fraction = max_unmapped_fraction
        self.found = Metrics.counter(METRICS_NAMESPACE, FOUND)
        self.unmapped_pixels = Metrics.counter(METRICS_NAMESPACE, UNMAPPED_PIXELS)
        self.skipped_counters: dict = {}

    def setup(self):
        self.processed = 0
        self.started = self.last_report = time.monotonic()

    def _skip(self, skipped: Skipped):
        if skipped.reason not in self.skipped_counters:
            self.skipped_counters[skipped.reason] = Metrics.counter(
                METRICS_NAMESPACE, SKIPPED_PREFIX + skipped.reason
            )
        self.skipped_counters[skipped.reason].inc()
        WORKER_LOGGER.info("skipped (%s): %s", skipped.reason, skipped.message)
        return beam.pvalue.TaggedOutput(SKIPPED_TAG, asdict(skipped))

    def _report_progress(self):
        self.processed += 1
        now = time.monotonic()
        if now - self.last_report >= PROGRESS_INTERVAL_SECONDS:
            self.last_report = now
            rate = self.processed / max(now - self.started, 1e-9)
            of_total = f" (of {self.total} in all)" if self.total else ""
            worker = f"{os.getpid()}/{threading.get_native_id()}"
            sys.stderr.write(
                f"  worker {worker}: {self.processed} pairs done{of_total}, {rate:.1f} pairs/s\n"
            )
            sys.stderr.flush()

    def process(self, item: dict):
        self.found.inc()
        try:
            if "reason" in item:
                yield self._skip(Skipped(**item))
                return
            pair = Pair(**item)
            try:
                page_data, annotation_data = _read(pair.page), _read(pair.annotation)
                page_png = self.resize_page(page_data, pair.page)
                annotation = self.resize_annotation(annotation_data, pair.annotation)
                images.check_same_size(page_data, annotation_data, pair.page, pair.annotation)
            except images.ImageError as error:
                yield self._skip(Skipped(error.path, error.reason, str(error)))
                return
            except Exception as error:  # noqa: BLE001 - one odd file must not stop the whole run
                message = f"{pair.page}: {type(error).__name__}: {error}"
                yield self._skip(Skipped(pair.page, images.UNEXPECTED_ERROR, message))
                return
            if annotation.unmapped_pixels:
                yield self._note_unmapped(pair.annotation, annotation)
            yield pair.page, pair.annotation, page_png, annotation.png
        finally:
            self._report_progress()

    def resize_page(self, data: bytes, path: str) -> bytes:
        return images.preprocess_page(
            data,
            self.image_size,
            path=path,
            reducing_gap=self.reducing_gap,
            compress_level=self.compress_level,
        )

    def resize_annotation(self, data: bytes, path: str) -> images.MappedAnnotation:
        mapped = images.map_annotation(
            data,
            self.image_size,
            self.color_map,
            path=path,
            compress_level=self.compress_level,
        )
        images.check_unmapped(mapped, self.color_map, path, self.max_unmapped_fraction)
        return mapped

    def _note_unmapped(self, path: str, mapped: images.MappedAnnotation):
        self.unmapped_pixels.inc(mapped.unmapped_pixels)
        note = {
            "path": path,
            "reason": images.UNMAPPED_COLORS,
            "unmapped_pixels": mapped.unmapped_pixels,
            "fraction": round(mapped.unmapped_fraction, 6),
            "examples": [list(value) for value in mapped.unmapped_examples],
        }
        return beam.pvalue.TaggedOutput(UNMAPPED_TAG, note)


def _read(path: str) -> bytes:
    try:
        return fs.read_bytes(path)
    except Exception as error:  # noqa: BLE001 - any storage error becomes a skip reason
        raise images.ImageError(
            images.READ_ERROR, f"{path}: cannot read ({type(error).__name__}: {error})", path
        ) from error


class ToTFExampleDoFn(beam.DoFn):
    """Serialises a resized pair as a tf.train.Example with the four original features."""

    def __init__(self):
        self.written = Metrics.counter(METRICS_NAMESPACE, WRITTEN)

    def process(self, resized: tuple[str, str, bytes, bytes]):
        page_uri, annotation_uri, page_png, annotation_png = resized
        self.written.inc()
        yield records.encode_pair(page_uri, annotation_uri, page_png, annotation_png)


class WriteSkippedDoFn(beam.DoFn):
    """Writes the skipped items of each bundle to one JSON-lines file in the staging folder.

    Lighter than a file sink (no finalize stages); a retried bundle may write its items twice,
    which `read_skipped` removes.
    """

    def __init__(self, staging_path: str, file_prefix: str = SKIPPED_FILE_PREFIX):
        self.staging_path = staging_path
        self.file_prefix = file_prefix

    def start_bundle(self):
        self.items = []

    def process(self, skipped: dict):
        self.items.append(json.dumps(skipped, ensure_ascii=False))

    def finish_bundle(self):
        if self.items:
            name = f"{self.file_prefix}{uuid.uuid4().hex}.jsonl"
            fs.write_text(fs.join(self.staging_path, name), "\n".join(self.items) + "\n")
        self.items = []


def read_work_list(path: str):
    """The pairs and unpaired files of a work list written by `write_work_list`."""
    for line in fs.read_bytes(path).decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


@dataclass
class Settings:
    """What the pipeline needs besides Beam's own options."""

    work_list_path: str
    staging_path: str
    image_size: tuple[int, int]
    color_map: ColorMap
    reducing_gap: float | None
    compress_level: int
    total: int
    num_shards: int = 0
    gzip_level: int = DEFAULT_GZIP_LEVEL
    sink_path: str = ""  # the staging folder as the shard sink sees it (see glob_free_path)
    max_unmapped_fraction: float = DEFAULT_MAX_UNMAPPED_FRACTION


def build_pipeline(p: beam.Pipeline, settings: Settings) -> None:
    """The pipeline: read the pairs, resize them, write TFRecords and the list of skipped files."""
    resized = (
        p
        | "ReadPairList" >> beam.Create([settings.work_list_path])
        | "ParsePairs" >> beam.FlatMap(read_work_list)
        # Break fusion so the pairs spread over all workers instead of the one that read the list.
        | "Distribute" >> beam.Reshuffle()
        | "ReadAndResize"
        >> beam.ParDo(
            ReadAndResizeDoFn(
                settings.image_size,
                settings.color_map,
                settings.reducing_gap,
                settings.compress_level,
                settings.total,
                settings.max_unmapped_fraction,
            )
        ).with_outputs(SKIPPED_TAG, UNMAPPED_TAG, main="resized")
    )
    (
        resized.resized
        | "ToTFExample" >> beam.ParDo(ToTFExampleDoFn())
        | "WriteTFRecords"
        >> WriteGzipTFRecords(
            fs.join(settings.sink_path or settings.staging_path, SHARD_PREFIX),
            file_name_suffix=SHARD_SUFFIX,
            num_shards=settings.num_shards,
            level=settings.gzip_level,
        )
    )
    resized[SKIPPED_TAG] | "WriteSkipped" >> beam.ParDo(WriteSkippedDoFn(settings.staging_path))
    (
        resized[UNMAPPED_TAG]
        | "WriteUnmapped"
        >> beam.ParDo(WriteSkippedDoFn(settings.staging_path, UNMAPPED_FILE_PREFIX))
    )


# --- before and after the run -----------------------------------------------------------------


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.preprocess.pipeline",
        description=(
            "Pair page images with their annotations, resize and colour-map them and write "
            "gzipped TFRecords. Apache Beam's own options go to Beam (e.g. --runner, "
            "--direct_num_workers, Dataflow options)."
        ),
    )
    parser.add_argument(
        "--data_paths",
        action="append",
        required=True,
        help="glob of page and annotation images (local or gs://); repeat for more globs",
    )
    parser.add_argument(
        "--target_pattern",
        default=DEFAULT_TARGET_PATTERN,
        help="regex on the file name that marks annotation images (default: %(default)s)",
    )
    parser.add_argument(
        "--output_path", required=True, help="folder for the *.tfrecord.gz shards and the report"
    )
    parser.add_argument(
        "--image_width", type=int, default=records.DEFAULT_IMAGE_SIZE, help="default: %(default)s"
    )
    parser.add_argument(
        "--image_height", type=int, default=records.DEFAULT_IMAGE_SIZE, help="default: %(default)s"
    )
    cli.add_color_map(parser)
    parser.add_argument(
        "--num_workers",
        type=int,
        default=None,
        help="local: worker processes (default: all cores); Dataflow: initial worker count",
    )
    parser.add_argument(
        "--runner",
        default=None,
        help="Beam runner (default: DirectRunner, or Dataflow with --cloud)",
    )
    cli.add_cloud(parser, job_name_help="Dataflow job name (default: derived from the output)")
    parser.add_argument(
        "--max_error_rate",
        type=float,
        default=DEFAULT_MAX_ERROR_RATE,
        help="fail (exit 1) when more than this fraction of the pairs is skipped (default: %(default)s)",
    )
    parser.add_argument(
        "--max_unmapped_fraction",
        type=float,
        default=DEFAULT_MAX_UNMAPPED_FRACTION,
        help="skip a pair when more than this fraction of its annotation's pixels has values "
        "outside the colour map (below it they train as background and are listed in the "
        "report; default: %(default)s)",
    )
    parser.add_argument(
        "--num_shards",
        type=int,
        default=0,
        help="number of output shards (default: 0, the runner decides)",
    )
    parser.add_argument(
        "--reducing_gap",
        type=float,
        default=images.DEFAULT_REDUCING_GAP,
        help="Pillow's reducing_gap for the page resize; 0 for a full bicubic (default: %(default)s)",
    )
    parser.add_argument(
        "--png_compress_level",
        type=int,
        choices=range(10),
        default=images.DEFAULT_PNG_COMPRESS_LEVEL,
        metavar="0-9",
        help="zlib level of the PNGs in the records (default: %(default)s)",
    )
    parser.add_argument(
        "--gzip_level",
        type=int,
        choices=range(10),
        default=DEFAULT_GZIP_LEVEL,
        metavar="0-9",
        help="gzip level of the shards; the PNGs inside barely compress (default: %(default)s)",
    )
    cli.add_dry_run(parser, help="print the resolved settings and pipeline options, then stop")
    return parser


def _has_flag(args: Sequence[str], name: str) -> bool:
    return any(a == name or a.startswith(name + "=") for a in args)


def default_local_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def resolve_beam_args(opts: argparse.Namespace, beam_args: list[str]) -> list[str]:
    """Beam's arguments: the user's, plus the runner, cloud and parallelism defaults."""
    args = list(beam_args)
    if opts.cloud:
        from sciencebeam_gym.cloud.dataflow import DataflowConfigError, dataflow_args

        try:
            cloud_args = dataflow_args(opts.job_name or _default_job_name(opts.output_path))
        except DataflowConfigError as error:
            raise PreprocessError(f"--cloud: {error}") from error
        if opts.num_workers:
            cloud_args += ["--num_workers", str(opts.num_workers)]
        # The user's own flags come last so they win.
        args = cloud_args + args
    if opts.runner:
        args += ["--runner", opts.runner]
    runner = _runner_name(args)
    if runner in ("DirectRunner", "") and not _has_flag(args, "--direct_num_workers"):
        workers = opts.num_workers or default_local_workers()
        args += ["--direct_num_workers", str(workers)]
        if workers > 1 and not _has_flag(args, "--direct_running_mode"):
            args += ["--direct_running_mode", DEFAULT_DIRECT_RUNNING_MODE]
    elif runner not in ("DirectRunner", "") and opts.num_workers and not opts.cloud:
        args += ["--num_workers", str(opts.num_workers)]
    return args


def _runner_name(args: Sequence[str]) -> str:
    runner = ""
    for i, arg in enumerate(args):
        if arg == "--runner" and i + 1 < len(args):
            runner = args[i + 1]
        elif arg.startswith("--runner="):
            runner = arg.split("=", 1)[1]
    return runner


def _default_job_name(output_path: str) -> str:
    split = fs.basename(output_path.rstrip("/")) or "output"
    user = os.environ.get("USER", "user")
    return f"preprocess-{split}-{user}-{time.strftime('%Y%m%d-%H%M%S')}"


def find_work(data_paths: Sequence[str], target_pattern: str) -> tuple[list[Pair], list[Skipped]]:
    """Glob the inputs and pair them; an input glob matching nothing at all is an error."""
    pattern = compile_target_pattern(target_pattern)
    paths: list[str] = []
    for data_path in data_paths:
        try:
            matched = fs.glob(data_path)
        except Exception as error:  # noqa: BLE001 - storage errors are user errors here
            raise PreprocessError(
                f"--data_paths {data_path}: cannot list files ({error})"
            ) from error
        if not matched:
            LOGGER.warning("--data_paths %s matches no files", data_path)
        paths.extend(matched)
    if not paths:
        raise PreprocessError(
            f"no files match --data_paths {' '.join(data_paths)}; check the path "
            "(e.g. run ./generate-sample-data.sh first, or set DATA_PATH)",
            exit_code=cli.EXIT_NO_INPUT,
        )
    return find_pairs(paths, pattern)


def write_work_list(path: str, pairs: Sequence[Pair], skipped: Sequence[Skipped]) -> None:
    lines = [json.dumps(asdict(item), ensure_ascii=False) for item in [*pairs, *skipped]]
    fs.write_text(path, "\n".join(lines) + "\n")


@contextlib.contextmanager
def glob_free_path(folder: str):
    """The local folder under a name without glob characters (a symbolic link while in use).

    Beam's file sink finds its own temporary files by globbing their folder, so a folder such as
    `runs[1]/...` would hide them; object stores and plain names are used as they are.
    """
    if fs.is_remote(folder) or fs.escape_glob(folder) == folder:
        yield folder
        return
    alias_folder = tempfile.mkdtemp(prefix="preprocess-sink-")
    alias = os.path.join(alias_folder, "staging")
    os.symlink(os.path.abspath(folder), alias)
    try:
        yield alias
    finally:
        os.unlink(alias)
        os.rmdir(alias_folder)


class WithoutWorkerTracebacks:
    """stderr without the tracebacks Beam's local workers print for a failing step.

    The runner raises the same error again, with its traceback, once the step has failed; `run`
    turns the ones a user can fix (a full disk) into one line, and any other is shown in full.
    """

    def __init__(self, stream):
        self.stream = stream
        self.dropped = False

    def write(self, text: str) -> int:
        dropped_before, self.dropped = self.dropped, text.startswith("Traceback (most recent")
        if self.dropped or (dropped_before and text == "\n"):
            return len(text)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def run_pipeline(settings: Settings, beam_args: list[str]) -> dict[str, int]:
    """Build and run the pipeline, wait for it, and return its counters."""
    with (
        glob_free_path(settings.staging_path) as sink_path,
        contextlib.redirect_stderr(WithoutWorkerTracebacks(sys.stderr)),
    ):
        pipeline = beam.Pipeline(options=PipelineOptions(beam_args))
        build_pipeline(pipeline, dataclasses.replace(settings, sink_path=sink_path))
        result = pipeline.run()
        result.wait_until_finish()
    return read_metrics(result)


def read_metrics(result) -> dict[str, int]:
    """The preprocess counters of a finished run, by name."""
    counters: dict[str, int] = {}
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        counters[counter.key.metric.name] = counters.get(counter.key.metric.name, 0) + int(
            value or 0
        )
    return counters


def read_skipped(staging_path: str, file_prefix: str = SKIPPED_FILE_PREFIX) -> list[dict]:
    """The skipped items (or unmapped notes) the workers wrote, once each, sorted by path."""
    unique = {}
    for path in fs.glob(fs.join(fs.escape_glob(staging_path), f"{file_prefix}*.jsonl")):
        for line in fs.read_bytes(path).decode("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                unique[(item["path"], item["reason"])] = item
    return [unique[key] for key in sorted(unique)]


def publish_output(staging_path: str, output_path: str) -> list[str]:
    """Replace the previous shards of output_path by the new ones; returns the new paths."""
    new_shards = fs.glob(fs.join(fs.escape_glob(staging_path), f"{SHARD_PREFIX}-*{SHARD_SUFFIX}"))
    fs.delete([fs.join(output_path, REPORT_NAME)])
    fs.delete_matching(fs.join(fs.escape_glob(output_path), f"*{SHARD_SUFFIX}"))
    targets = [fs.join(output_path, fs.basename(shard)) for shard in new_shards]
    if new_shards:
        from apache_beam.io.filesystems import FileSystems

        FileSystems.rename(new_shards, targets)
    return targets


def delete_tree(path: str) -> None:
    """Delete a folder and everything in it (on object stores: every object under the prefix)."""
    if fs.is_remote(path):
        fs.delete(fs.glob(fs.escape_glob(path.rstrip("/")) + "/**"))
    else:
        fs.delete([path])


def remove_stale_staging(output_path: str) -> None:
    """Remove the temporary folders of earlier, interrupted runs."""
    if fs.is_remote(output_path):
        # Object stores have no folders: remove every object under the temporary prefixes.
        stale = fs.glob(fs.join(fs.escape_glob(output_path), TEMP_FOLDER_PREFIX) + "**")
    else:
        import glob

        stale = glob.glob(os.path.join(glob.escape(output_path), TEMP_FOLDER_PREFIX + "*"))
    if stale:
        LOGGER.info("removing the temporary files of %d earlier, interrupted run(s)", len(stale))
        fs.delete(stale)


def summarise(
    counters: dict[str, int], skipped: list[dict], seconds: float, max_error_rate: float
) -> dict:
    found = counters.get(FOUND, 0)
    written = counters.get(WRITTEN, 0)
    by_reason = {
        name[len(SKIPPED_PREFIX) :]: value
        for name, value in sorted(counters.items())
        if name.startswith(SKIPPED_PREFIX) and value
    }
    skipped_count = sum(by_reason.values())
    error_rate = skipped_count / found if found else 0.0
    failure = None
    if written == 0:
        failure = "nothing was written: every pair was skipped (see 'skipped')"
    elif error_rate > max_error_rate:
        failure = (
            f"{skipped_count} of {found} pairs skipped ({error_rate:.1%}), above "
            f"--max_error_rate {max_error_rate:.1%}"
        )
    return {
        "status": "failed" if failure else "ok",
        "failure": failure,
        "pairs_found": found,
        "records_written": written,
        "skipped_total": skipped_count,
        "skipped_by_reason": by_reason,
        "error_rate": round(error_rate, 6),
        "max_error_rate": max_error_rate,
        "seconds": round(seconds, 3),
        "pairs_per_second": round(found / seconds, 3) if seconds > 0 else None,
        "skipped": skipped,
    }


def print_summary(report: dict, output_path: str) -> None:
    print(
        f"preprocess {output_path}: {report['pairs_found']} pairs found, "
        f"{report['records_written']} written, {report['skipped_total']} skipped, "
        f"{report['seconds']:.1f} s, {report['pairs_per_second'] or 0:.1f} pairs/s",
        file=sys.stderr,
    )
    for reason, count in report["skipped_by_reason"].items():
        print(f"  skipped {count:5d} x {reason}", file=sys.stderr)
    for item in report["skipped"][:SKIPPED_SHOWN]:
        print(f"  skipped ({item['reason']}): {item['message']}", file=sys.stderr)
    if len(report["skipped"]) > SKIPPED_SHOWN:
        print(f"  ... and {len(report['skipped']) - SKIPPED_SHOWN} more", file=sys.stderr)
    print_unmapped(report.get("unmapped", []))
    if report["skipped"] or report.get("unmapped"):
        print(f"  (all paths and reasons: {fs.join(output_path, REPORT_NAME)})", file=sys.stderr)


def disk_full_message(output_path: str) -> str:
    return (
        f"disk full while writing to {output_path}: free some space there or pass another "
        "--output_path; the previous output was left as it was"
    )


def print_unmapped(unmapped: list[dict]) -> None:
    """The files kept with some annotation pixels outside the colour map (read as background)."""
    if not unmapped:
        return
    print(
        f"  {len(unmapped)} kept annotation(s) have pixels outside the colour map "
        "(trained as background):",
        file=sys.stderr,
    )
    for item in sorted(unmapped, key=lambda item: -item["fraction"])[:UNMAPPED_SHOWN]:
        print(
            f"    {item['path']}: {item['unmapped_pixels']} pixels ({item['fraction']:.2%}), "
            f"e.g. {item['examples']}",
            file=sys.stderr,
        )


def load_color_map(path: str | None) -> ColorMap:
    try:
        return _load_color_map(path or default_color_map_path())
    except ColorMapError as error:
        raise PreprocessError(f"--color_map: {error}") from error


def dry_run_description(opts: argparse.Namespace, beam_args: list[str]) -> dict:
    """The resolved settings and every pipeline option that has a value.

    A local colour map is read and checked; a gs:// one only when the pipeline runs, so a dry
    run needs neither network nor credentials.
    """
    options = PipelineOptions(beam_args).get_all_options(retain_unknown_options=True)
    settings = {k: v for k, v in vars(opts).items() if k != "dry_run"}
    color_map_path = opts.color_map or default_color_map_path()
    if fs.is_remote(color_map_path):
        settings.update(color_map=color_map_path, num_classes="read when the pipeline runs")
    else:
        color_map = load_color_map(color_map_path)
        settings.update(color_map=color_map.source, num_classes=color_map.num_classes)
    return {
        "preprocess": settings,
        "beam_args": beam_args,
        "pipeline_options": {k: v for k, v in options.items() if v not in (None, [], {})},
    }


def run(argv: Sequence[str] | None = None) -> dict:
    """Run the preprocessing; returns the report (also written next to the output)."""
    parser = get_args_parser()
    opts, beam_args = cli.parse_beam_args(parser, argv)
    if opts.image_width < 1 or opts.image_height < 1:
        raise PreprocessError("--image_width and --image_height must be positive")
    if not 0 <= opts.max_error_rate <= 1:
        raise PreprocessError("--max_error_rate must be between 0 and 1")
    if not 0 <= opts.max_unmapped_fraction <= 1:
        raise PreprocessError("--max_unmapped_fraction must be between 0 and 1")
    beam_args = resolve_beam_args(opts, beam_args)
    output_path = opts.output_path.rstrip("/") or opts.output_path
    if opts.dry_run:
        print(json.dumps(dry_run_description(opts, beam_args), indent=2, default=str))
        return {}
    color_map = load_color_map(opts.color_map)

    started = time.monotonic()
    pairs, skipped = find_work(opts.data_paths, opts.target_pattern)
    print(
        f"preprocess: {len(pairs)} pairs and {len(skipped)} unpaired file(s) from "
        f"{len(opts.data_paths)} glob(s) -> {output_path} ({_runner_name(beam_args) or 'DirectRunner'})",
        file=sys.stderr,
        flush=True,
    )
    # made by the lock (one clear error when it cannot be); a second run is refused here
    lock = folder_lock.acquire(output_path, "preprocessing")
    fs.makedirs(output_path)  # gs://: nothing to make
    remove_stale_staging(output_path)
    staging_path = fs.join(output_path, f"{TEMP_FOLDER_PREFIX}{uuid.uuid4().hex[:12]}")
    fs.makedirs(staging_path)
    settings = Settings(
        work_list_path=fs.join(staging_path, "pairs.jsonl"),
        staging_path=staging_path,
        image_size=(opts.image_width, opts.image_height),
        color_map=color_map,
        reducing_gap=opts.reducing_gap or None,
        compress_level=opts.png_compress_level,
        total=len(pairs) + len(skipped),
        num_shards=opts.num_shards,
        gzip_level=opts.gzip_level,
        max_unmapped_fraction=opts.max_unmapped_fraction,
    )
    try:
        write_work_list(settings.work_list_path, pairs, skipped)
        counters = run_pipeline(settings, beam_args)
        report = summarise(
            counters, read_skipped(staging_path), time.monotonic() - started, opts.max_error_rate
        )
        report["unmapped"] = read_skipped(staging_path, UNMAPPED_FILE_PREFIX)
        report["unmapped_pixels"] = counters.get(UNMAPPED_PIXELS, 0)
        report["output_path"] = output_path
        report["shards"] = [fs.basename(p) for p in publish_output(staging_path, output_path)]
        # Written last: the report marks the folder as holding one complete run.
        fs.write_text(
            fs.join(output_path, REPORT_NAME), json.dumps(report, indent=2, ensure_ascii=False)
        )
    except Exception as error:
        if fs.is_disk_full(error):
            raise PreprocessError(disk_full_message(output_path), cli.EXIT_FAILED) from error
        raise
    finally:
        delete_tree(staging_path)
        if lock is not None:
            lock.release()
    print_summary(report, output_path)
    if report["failure"]:
        raise PreprocessError(report["failure"], exit_code=cli.EXIT_FAILED)
    return report


def configure_logging() -> None:
    # Local multi-process workers relay their own start-up chatter at WARNING; keep errors only.
    cli.configure_logging(
        logging.WARNING, quiet=["apache_beam.runners.portability.local_job_service"]
    )
    logging.getLogger(__name__).setLevel(logging.INFO)
    # Beam logs a failing step's traceback before raising it again; run() reports it instead.
    for name in ("apache_beam.runners.common", "apache_beam.runners.worker.sdk_worker"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    try:
        run(argv)
    except (PreprocessError, folder_lock.LockError) as error:
        return cli.report_error(error)
    except KeyboardInterrupt:
        return cli.report_interrupted("the output folder was left as it was before this run")
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
