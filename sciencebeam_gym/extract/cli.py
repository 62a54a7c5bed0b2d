"""Extract structured articles (JATS XML, JSON or TEI) from PDFs with a trained model.

    python -m sciencebeam_gym.extract.cli paper.pdf /tmp/out --saved_model .models/pix2pix/export

INPUT: a PDF, a folder (searched recursively for *.pdf) or a file list (one PDF path per line,
relative to the list's folder). OUTPUT: a folder (default: beside the input); each PDF gives
`<name>.xml` (`<name>.json` with --format json, `<name>.tei.xml` with --format tei), written
under a temporary name and renamed when complete. A document that fails is reported with its reason and the run goes on.
Exit status: 0 when at least one document was extracted, 2 when none could be.
Model: --saved_model PATH, else the export at --export_path when complete, else the latest
checkpoint of --model_path. TensorFlow is imported only once the arguments are parsed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.document.pages import add_pages
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.extract.writers import DEFAULT_FORMAT, FORMATS


class ExtractCliError(cli.CliError):
    """A run that cannot start; the message names the flag or path."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="extract.sh", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("input", help="a PDF, a folder of PDFs, or a file list of PDF paths")
    parser.add_argument("output", nargs="?", help="output folder (default: beside the input)")
    parser.add_argument(
        "--format", choices=FORMATS, default=DEFAULT_FORMAT, help="JATS XML, JSON or TEI"
    )
    add_pages(parser, "all", "e.g. 1 or 1-3 (all)")
    parser.add_argument("--saved_model", default="", help="an export")
    parser.add_argument("--export_path", default="", help="export used when complete")
    parser.add_argument("--model_path", default="", help="training folder (latest checkpoint)")
    parser.add_argument(
        "--dpi",
        type=float,
        default=None,
        help="render resolution (default: the one the model's training pages were rendered at, "
        f"from its export; {DEFAULT_DPI:g} for a training folder)",
    )
    cli.add_cloud(parser, "Dataflow job name (--cloud; default extract)")
    cli.add_dry_run(parser, "print the Beam job (options, documents, settings) and stop")
    return parser


def find_pdfs(input_path: str) -> list[str]:
    """The PDFs named by INPUT (a PDF, a folder, or a file list)."""
    from sciencebeam_gym.document.sources import SourceError
    from sciencebeam_gym.document.sources import find_pdfs as find

    try:
        return find(input_path)
    except SourceError as error:
        raise ExtractCliError(str(error)) from error


def default_output(input_path: str) -> str:
    """Beside the input: a PDF's or a list's folder, or the input folder itself."""
    if os.path.isdir(input_path):
        return input_path
    return os.path.dirname(input_path) or "."


def check_writable(output: str) -> None:
    """Refuse an output folder that cannot be made or written, before any model is loaded."""
    from sciencebeam_gym.storage import fs

    probe = fs.join(output, f".extract-probe-{os.getpid()}")
    try:
        fs.makedirs(output)
        fs.write_bytes(probe, b"")
        fs.delete([probe])
    except (OSError, ValueError) as error:
        raise ExtractCliError(
            f"the output folder {output} cannot be written ({error}); pass another OUTPUT"
        ) from error


def _progress(pdf_path: str, every: int = 20):
    """A progress line every `every` pages of a long document."""

    def report(done: int, total: int) -> None:
        if total > every and (done % every < 4 or done == total):
            print(f"  {pdf_path}: page {done}/{total}", file=sys.stderr, flush=True)

    return report


def load_labeller(args: argparse.Namespace):
    from sciencebeam_gym.extract.model import load_labeller as load

    try:
        return load(args.saved_model, args.export_path, args.model_path, args.dpi)
    except ValueError as error:  # PredictError, InferenceError: they name the path and the fix
        raise ExtractCliError(str(error)) from error


def run_local(args: argparse.Namespace, pdfs: list[str], output: str) -> int:
    """Extract every PDF in turn; the exit status (0 some succeeded, 2 none)."""
    from sciencebeam_gym.extract.document import ExtractError, extract_to
    from sciencebeam_gym.extract.writers import output_file

    model = load_labeller(args)
    failed = 0
    started = time.perf_counter()
    for index, pdf_path in enumerate(pdfs, start=1):
        target = output_file(output, pdf_path, args.format)
        try:
            article = extract_to(
                pdf_path, model, target, args.format, args.pages, _progress(pdf_path)
            )
        except ExtractError as error:
            failed += 1
            print(f"[{index}/{len(pdfs)}] skipped: {error}", file=sys.stderr, flush=True)
            continue
        for warning in article.warnings:
            print(f"warning: {pdf_path}: {warning}", file=sys.stderr)
        print(f"[{index}/{len(pdfs)}] {pdf_path} -> {target}", flush=True)
    done = len(pdfs) - failed
    seconds = time.perf_counter() - started
    print(f"extract: {done} of {len(pdfs)} documents written to {output} ({seconds:.1f} s)")
    if failed:
        print(f"extract: {failed} could not be extracted (reasons above)", file=sys.stderr)
    return 0 if done else 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = cli.parse_beam_args(parser, argv)
    if beam_args and not (args.cloud or args.dry_run):
        parser.error(f"{' '.join(beam_args)}: Beam options are for --cloud (or --dry_run)")
    try:
        pdfs = find_pdfs(args.input)
        output = args.output or default_output(args.input)
        if args.cloud or args.dry_run:
            from sciencebeam_gym.extract.pipeline import run_pipeline

            return run_pipeline(args, pdfs, output, beam_args)
        check_writable(output)
        return run_local(args, pdfs, output)
    except cli.CliError as error:
        return cli.report_error(error)


if __name__ == "__main__":
    sys.exit(main())
