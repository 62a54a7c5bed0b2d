"""Generate training data (page PNG + label PNG) from PDF + JATS XML pairs, with Apache Beam.

    python -m sciencebeam_gym.generate.pipeline \\
        --source ../shared/data/pdf-jats --output_path .models/pix2pix/v4/data --write_overlay

For each document, the chosen pages (default: the first) are written as
`<output_path>/{train,test}/<group>/<doc_id>/<doc_id>-page<N>.png` and `...-page<N>.annot.png`
(grey k = class k of the colour map). The split is by document, from a hash of its id. Bad input
is skipped with its reason; the report (`<output_path>/generate-report/`) lists every document,
the token coverage of every field and per page the text no field claims (grey 255, unknown,
unless `--unknown_text background`). Beam's own options go to Beam (e.g. `--runner`,
`--direct_num_workers`), any other flag is refused; `--cloud` adds the Dataflow options of the
configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from sciencebeam_gym import cli
from sciencebeam_gym.beam_steps import each_then_report
from sciencebeam_gym.color_map import ColorMapError, default_color_map_path, load_color_map
from sciencebeam_gym.document.limits import add_timeout
from sciencebeam_gym.document.pages import add_pages, as_selection, page_selection
from sciencebeam_gym.document.pdf import DEFAULT_DPI, DEFAULT_MAX_PAGE_PIXELS
from sciencebeam_gym.document.sources import (
    SourceError,
    SourcePair,
    add_source,
    find_pairs,
    safe_id,
)
from sciencebeam_gym.document.xml_mapping import (
    MappingError,
    default_xml_mapping_path,
    load_xml_mapping,
)
from sciencebeam_gym.generate.document import (
    OK,
    UNKNOWN_TEXT_CHOICES,
    DocumentResult,
    Settings,
    process_pair,
)
from sciencebeam_gym.generate.report import (
    format_summary,
    invalidate_report,
    report_folder,
    write_report,
)
from sciencebeam_gym.generate.splits import DEFAULT_TEST_FRACTION, SPLIT_METHODS, assign_splits
from sciencebeam_gym.storage import fs

LOGGER = logging.getLogger(__name__)
METRICS_NAMESPACE = "generate"
OVERLAY_FOLDER = "overlays"


GROUP_BY_PUBLISHER = "publisher"  # the --group value that groups documents by publisher


class GenerateError(cli.CliError):
    """A problem the user can fix (flag, setting, input); printed without a traceback."""


class GenerateDocumentDoFn(beam.DoFn):
    """Renders a document's pages and paints its XML fields; yields its report entry."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.documents_ok = Metrics.counter(METRICS_NAMESPACE, "documents_ok")
        self.documents_skipped = Metrics.counter(METRICS_NAMESPACE, "documents_skipped")
        self.pages_written = Metrics.counter(METRICS_NAMESPACE, "pages_written")

    def process(self, pair: SourcePair):
        result = process_pair(pair, self.settings)
        if result.status == OK:
            self.documents_ok.inc()
            self.pages_written.inc(len(result.pages))
            print(f"  {result.doc_id}: pages {result.pages} ({result.seconds:.1f} s)", flush=True)
        else:
            self.documents_skipped.inc()
            print(f"  {result.doc_id}: skipped, {result.reason}", flush=True)
        yield result


def write_report_step(results: list[DocumentResult], output_path: str, info: dict) -> int:
    report = write_report(output_path, results, info)
    return report["summary"]["pages_written"]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"--test_fraction must be between 0 and 1, got {text}")
    return value


def group_name(text: str) -> str:
    """argparse type of --group: one folder name, so no page lands outside --output_path."""
    if text != safe_id(text):
        raise argparse.ArgumentTypeError(
            f"must be one folder name of letters, digits, '.', '_' and '-' (not starting or "
            f"ending with '.' or '_'), got {text!r}; e.g. {safe_id(text)}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.generate.pipeline",
        description=__doc__.split("\n\n")[0],
        epilog="Apache Beam's own flags are passed to Beam (e.g. --runner, --direct_num_workers).",
    )
    add_source(parser)
    parser.add_argument("--output_path", required=True, help="data folder ($DATA_PATH)")
    cli.add_color_map(parser)
    parser.add_argument(
        "--xml_mapping", default=None, help="XML field -> class mapping (default: xml-mapping.conf)"
    )
    add_pages(parser, "1", "pages to write: 1 (default), 1,2, 1-3, all")
    parser.add_argument(
        "--dpi",
        type=cli.positive_float,
        default=DEFAULT_DPI,
        help=f"render resolution (default {DEFAULT_DPI:g}; GENERATE_DPI)",
    )
    parser.add_argument(
        "--max_page_pixels",
        type=cli.positive_int,
        default=DEFAULT_MAX_PAGE_PIXELS,
        help="pixel budget of one rendered page: a larger page is rendered at the lower dpi "
        f"that fits, with a warning (default {DEFAULT_MAX_PAGE_PIXELS})",
    )
    parser.add_argument(
        "--test_pages",
        type=page_selection,
        default=None,
        help="pages of the test split's documents, like --pages (default: --pages); e.g. "
        "--pages all --test_pages 1 trains on whole articles and tests on first pages",
    )
    parser.add_argument(
        "--split",
        choices=SPLIT_METHODS,
        default="rank",
        help="how documents go to test/: 'rank' (default) the share --test_fraction of this "
        "source's documents, ordered by a hash of their id; 'hash' each document by its own "
        "hash, so it keeps its side whatever else the source holds",
    )
    parser.add_argument(
        "--test_fraction",
        type=_fraction,
        default=DEFAULT_TEST_FRACTION,
        help="share of documents in test/ (by a hash of the document id; default "
        f"{DEFAULT_TEST_FRACTION:g}; GENERATE_TEST_FRACTION)",
    )
    parser.add_argument(
        "--group",
        type=group_name,
        default=None,
        help="folder between split and document (default: the source's name); 'publisher': "
        "each document's publisher as named in its XML (a file list's group column wins)",
    )
    parser.add_argument(
        "--write_overlay",
        action="store_true",
        help="also write each page with its annotation blended over it, to "
        "<output_path>/generate-report/overlays/",
    )
    parser.add_argument(
        "--contact_sheet",
        default=None,
        help="after the run, put all overlays into this one PNG (implies --write_overlay)",
    )
    parser.add_argument(
        "--unknown_text",
        choices=UNKNOWN_TEXT_CHOICES,
        default=UNKNOWN_TEXT_CHOICES[0],
        help="page text no XML field claims: unknown (grey 255, ignored by the loss and the "
        "metrics; default) or background (as in the original)",
    )
    parser.add_argument(
        "--limit", type=cli.positive_int, default=None, help="only the first N documents"
    )
    add_timeout(parser)
    cli.add_cloud(parser)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        color_map = load_color_map(args.color_map or default_color_map_path())
        mapping = load_xml_mapping(args.xml_mapping or default_xml_mapping_path())
        mapping.check_labels(color_map.labels)
    except (ColorMapError, MappingError) as error:
        raise GenerateError(str(error)) from error
    source_name = safe_id(fs.basename(args.source.rstrip("/")).split(".")[0])
    by_publisher = args.group == GROUP_BY_PUBLISHER
    group = source_name if by_publisher or not args.group else args.group
    overlay_path = None
    if args.write_overlay or args.contact_sheet:
        overlay_path = fs.join(report_folder(args.output_path), OVERLAY_FOLDER)
    return Settings(
        output_path=args.output_path,
        color_map=color_map,
        mapping=mapping,
        pages=args.pages,
        test_pages=args.test_pages,
        dpi=args.dpi,
        max_page_pixels=args.max_page_pixels,
        test_fraction=args.test_fraction,
        group=group,
        group_by_publisher=by_publisher,
        overlay_path=overlay_path,
        unknown_text=args.unknown_text,
        timeout=args.timeout,
    )


def _pipeline_args(args: argparse.Namespace, beam_args: list[str]) -> list[str]:
    if not args.cloud:
        return beam_args
    from sciencebeam_gym.cloud.dataflow import DataflowConfigError, dataflow_args

    try:
        job_name = args.job_name or "generate-data"
        return dataflow_args(job_name, extras=("generate",)) + beam_args
    except DataflowConfigError as error:
        raise GenerateError(f"--cloud: {error}") from error


def run(argv: Sequence[str] | None = None, save_main_session: bool = False) -> dict:
    """Run the pipeline; returns the report (see `report`). GenerateError for user errors."""
    args, beam_args = cli.parse_beam_args(build_parser(), argv)
    settings = _settings(args)
    try:
        pairs = find_pairs(args.source)
    except SourceError as error:
        raise GenerateError(str(error)) from error
    if args.limit:
        pairs = pairs[: args.limit]
    pairs = assign_splits(pairs, settings.test_fraction, args.split)
    info = {
        "source": args.source,
        "output_path": args.output_path,
        "pages": str(as_selection(settings.pages)),
        "test_pages": "as pages" if settings.test_pages is None else str(settings.test_pages),
        "dpi": settings.dpi,
        "test_fraction": settings.test_fraction,
        "split": args.split,
        "group": GROUP_BY_PUBLISHER if settings.group_by_publisher else settings.group,
        "color_map": settings.color_map.source,
        "xml_mapping": settings.mapping.source,
        "unknown_text": settings.unknown_text,
    }
    print(f"generate: {len(pairs)} documents from {args.source} -> {args.output_path}", flush=True)
    options = PipelineOptions(_pipeline_args(args, beam_args))
    # the report is written last and marks a complete run; from here on the data folder changes
    invalidate_report(args.output_path)
    if save_main_session:
        options.view_as(beam.options.pipeline_options.SetupOptions).save_main_session = True
    with beam.Pipeline(options=options) as pipeline:
        each_then_report(
            pipeline,
            pairs,
            "ListDocuments",
            "Generate",
            GenerateDocumentDoFn(settings),
            write_report_step,
            args.output_path,
            info,
        )
    report = json.loads(fs.read_bytes(fs.join(report_folder(args.output_path), "report.json")))
    if args.contact_sheet and settings.overlay_path:
        from sciencebeam_gym.generate.contact_sheet import write_contact_sheet

        write_contact_sheet(settings.overlay_path, args.contact_sheet, settings.color_map)
        print(f"contact sheet: {args.contact_sheet}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    cli.configure_logging(logging.WARNING)
    try:
        report = run(argv)
    except GenerateError as error:
        return cli.report_error(error)
    print(format_summary(report))
    print(f"report: {report_folder(report['settings']['output_path'])}/")
    if report["summary"]["pages_written"] == 0:
        print("error: no page was produced (see the skip reasons above)", file=sys.stderr)
        return cli.EXIT_FAILED
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
