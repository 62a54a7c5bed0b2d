"""Extract structured articles (JATS XML, JSON or TEI) from PDFs with a trained model.

    python -m sciencebeam_gym.extract.cli papers/ --saved_model .models/pix2pix/export

INPUT: a PDF (also .pdf.gz), a folder (searched recursively for them) or a file list (one PDF
path per line, relative to the list's folder). OUTPUT: a folder, by default a new one beside the
input (`papers-extracted/`). Each PDF gives `<its path below INPUT>.xml` (`.json` with --format
json, `.tei.xml` with --format tei): `papers/a/x.pdf` -> `OUTPUT/a/x.xml`, written under a
temporary name and renamed when complete. Two PDFs that would share an output, or an output file
that exists and was not written by the extraction (the publisher's `x.xml`), are refused before
any work. A document that fails (unreadable, beyond a bound, over --timeout) is reported with its
reason and the run goes on. Exit status: 0 every document extracted, 1 some could not be, 2 none
could (or a flag or path is wrong), 130 interrupted (Ctrl-C; what was written is listed).
Model: --saved_model PATH, else the export at --export_path when complete, else the latest
checkpoint of --model_path. Words: --labeller words labels each word with the word model (a CRF,
./train-word-model.sh) found beside that model (`word-model/` in its run folder) or at
--word_model; pixels gives each word the class painted under it; auto (default) uses the word
model when there is one. TensorFlow is imported only once the arguments are parsed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.document.limits import add_timeout
from sciencebeam_gym.document.pages import add_pages
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.extract.words import LABELLERS
from sciencebeam_gym.extract.writers import DEFAULT_FORMAT, FORMATS, default_output


class ExtractCliError(cli.CliError):
    """A run that cannot start; the message names the flag or path."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="extract.sh", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("input", help="a PDF, a folder of PDFs, or a file list of PDF paths")
    parser.add_argument(
        "output", nargs="?", help="output folder (default: a new folder INPUT-extracted)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=DEFAULT_FORMAT, help="JATS XML, JSON or TEI"
    )
    add_pages(parser, "all", "e.g. 1 or 1-3 (all)")
    parser.add_argument("--saved_model", default="", help="an export")
    parser.add_argument("--export_path", default="", help="export used when complete")
    parser.add_argument("--model_path", default="", help="training folder (latest checkpoint)")
    parser.add_argument(
        "--dpi",
        type=cli.positive_float,
        default=None,
        help="render resolution (default: the one the model's training pages were rendered at, "
        f"from its export; {DEFAULT_DPI:g} for a training folder)",
    )
    add_timeout(parser)
    add_labeller(parser)
    cli.add_cloud(parser, "Dataflow job name (--cloud; default extract)")
    cli.add_dry_run(parser, "print the Beam job (options, documents, settings) and stop")
    return parser


def add_labeller(parser: argparse.ArgumentParser) -> None:
    """--labeller and --word_model: how each word gets its class (also evaluate-extraction's)."""
    parser.add_argument(
        "--labeller",
        choices=LABELLERS,
        default="auto",
        help="words: the word model labels each word; pixels: the class painted under it; "
        "auto (default): words when a word model lies beside the model",
    )
    parser.add_argument(
        "--word_model",
        default="",
        help="the word model's folder (default: word-model/ beside the model)",
    )


def find_pdfs(input_path: str) -> list[str]:
    """The PDFs named by INPUT (a PDF, a folder, or a file list)."""
    from sciencebeam_gym.document.sources import SourceError
    from sciencebeam_gym.document.sources import find_pdfs as find

    try:
        return find(input_path)
    except SourceError as error:
        raise ExtractCliError(str(error)) from error


def plan_outputs(args: argparse.Namespace, pdfs: list[str], output: str, check_existing: bool):
    """(PDF, output file) pairs; ExtractCliError for outputs that would collide or overwrite
    files the extraction did not write (`check_existing`)."""
    from sciencebeam_gym.extract.writers import OutputError, check_not_overwriting
    from sciencebeam_gym.extract.writers import plan_outputs as plan

    try:
        jobs = plan(pdfs, args.input, output, args.format)
        if check_existing:
            check_not_overwriting(jobs, output)
    except OutputError as error:
        raise ExtractCliError(str(error)) from error
    return jobs


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
    from sciencebeam_gym.extract.words import choose_labeller

    try:
        labeller = choose_labeller(
            args.saved_model,
            args.export_path,
            args.model_path,
            args.dpi,
            args.labeller,
            args.word_model,
        )
    except ValueError as error:  # PredictError, WordModelError: they name the path and the fix
        raise ExtractCliError(str(error)) from error
    print(f"extract: labeller {labeller.source}", file=sys.stderr)
    return labeller


class Tally:
    """What a run has done so far, for its summary (also on Ctrl-C)."""

    def __init__(self, total: int, output: str):
        self.total, self.output = total, output
        self.done = self.failed = 0
        self.started = time.perf_counter()

    def summary(self) -> str:
        seconds = time.perf_counter() - self.started
        return f"{self.done} of {self.total} documents written to {self.output} ({seconds:.1f} s)"


def extract_one(args, model, pdf_path: str, target: str, position: str, tally: Tally) -> None:
    """Extract one PDF; its failure is printed with its reason and counted, never raised."""
    from sciencebeam_gym.extract.document import ExtractError, extract_to

    try:
        article = extract_to(
            pdf_path, model, target, args.format, args.pages, _progress(pdf_path), args.timeout
        )
    except ExtractError as error:
        tally.failed += 1
        print(f"[{position}] skipped: {error}", file=sys.stderr, flush=True)
        return
    tally.done += 1
    for warning in article.warnings:
        print(f"warning: {pdf_path}: {warning}", file=sys.stderr)
    print(f"[{position}] {pdf_path} -> {target}", flush=True)


def run_local(args: argparse.Namespace, jobs: list[tuple[str, str]], output: str) -> int:
    """Extract every PDF in turn; the exit status (0 all, 1 some, 2 none extracted; 130 on
    Ctrl-C, after the summary of what was written)."""
    tally = Tally(len(jobs), output)
    try:
        with cli.Interrupts() as interrupts:
            model = load_labeller(args)
            for index, (pdf_path, target) in enumerate(jobs, start=1):
                interrupts.check()
                extract_one(args, model, pdf_path, target, f"{index}/{len(jobs)}", tally)
    except KeyboardInterrupt:
        left = tally.total - tally.done - tally.failed
        return cli.report_interrupted(
            f"{tally.summary()}, {left} not started; each written file is complete, "
            "run the same command again to redo the rest"
        )
    print(f"extract: {tally.summary()}")
    if tally.failed:
        print(f"extract: {tally.failed} could not be extracted (reasons above)", file=sys.stderr)
    return cli.batch_exit_code(tally.done, tally.failed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = cli.parse_beam_args(parser, argv)
    if beam_args and not (args.cloud or args.dry_run):
        parser.error(f"{' '.join(beam_args)}: Beam options are for --cloud (or --dry_run)")
    try:
        pdfs = find_pdfs(args.input)
        output = args.output or default_output(args.input)
        jobs = plan_outputs(args, pdfs, output, check_existing=not args.dry_run)
        if args.cloud or args.dry_run:
            from sciencebeam_gym.extract.pipeline import run_pipeline

            return run_pipeline(args, jobs, output, beam_args)
        check_writable(output)
        return run_local(args, jobs, output)
    except cli.CliError as error:
        return cli.report_error(error)
    except KeyboardInterrupt:
        return cli.report_interrupted("stopped; every file written so far is complete")


if __name__ == "__main__":
    sys.exit(main())
