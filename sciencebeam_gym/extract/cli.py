"""Extract structured articles (JATS XML or JSON) from PDFs with a trained model.

    python -m sciencebeam_gym.extract.cli paper.pdf /tmp/out --saved_model .models/pix2pix/export

INPUT: a PDF, a folder (searched recursively for *.pdf) or a file list (one PDF path per line,
relative to the list's folder). OUTPUT: a folder (default: beside the input); each PDF gives
`<name>.xml` (or `<name>.json` with --format json), written under a temporary name and renamed
when complete. A document that fails is reported with its reason and the run goes on.
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

FORMATS = ("xml", "json")
LIST_SUFFIXES = (".txt", ".lst", ".list", ".tsv", ".csv")


class ExtractCliError(cli.CliError):
    """A run that cannot start; the message names the flag or path."""


def parse_pages(text: str) -> tuple[int, ...]:
    """'all' -> () (every page); '1', '1,3', '2-4' -> 1-based page numbers."""
    if text.strip().lower() in ("", "all"):
        return ()
    pages: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()) or int(first) < 1:
            raise argparse.ArgumentTypeError(f"--pages: {text!r} is not like 1,3,5-7 or all")
        pages.extend(range(int(first), int(last or first) + 1))
    return tuple(pages)


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="extract.sh", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("input", help="a PDF, a folder of PDFs, or a file list of PDF paths")
    parser.add_argument("output", nargs="?", help="output folder (default: beside the input)")
    parser.add_argument("--format", choices=FORMATS, default="xml", help="JATS XML or JSON")
    parser.add_argument("--pages", type=parse_pages, default=(), help="e.g. 1 or 1-3 (all)")
    parser.add_argument("--saved_model", default="", help="an export")
    parser.add_argument("--export_path", default="", help="export used when complete")
    parser.add_argument("--model_path", default="", help="training folder (latest checkpoint)")
    parser.add_argument("--dpi", type=float, default=100.0, help="render resolution (100)")
    cli.add_cloud(parser, "Dataflow job name (--cloud; default extract)")
    cli.add_dry_run(parser, "print the Beam job (options, documents, settings) and stop")
    return parser


def find_pdfs(input_path: str) -> list[str]:
    """The PDFs named by INPUT (a PDF, a folder, or a file list)."""
    from sciencebeam_gym.storage import fs

    if os.path.isdir(input_path) or input_path.endswith("/"):
        found = fs.glob(fs.join(input_path.rstrip("/"), "**"))
        return [p for p in found if p.lower().endswith(".pdf")]
    if input_path.lower().endswith(".pdf"):
        if not fs.exists(input_path):
            raise ExtractCliError(f"{input_path}: no such file")
        return [input_path]
    if not fs.exists(input_path):
        raise ExtractCliError(f"{input_path}: no such file or folder")
    return read_file_list(input_path)


def read_file_list(list_path: str) -> list[str]:
    """One PDF path per line (first column of a TSV/CSV), relative to the list's folder."""
    from sciencebeam_gym.storage import fs

    base = fs.dirname(list_path)
    paths = []
    for line in fs.read_bytes(list_path).decode("utf-8", "replace").splitlines():
        path = line.replace(",", "\t").split("\t")[0].strip()
        if path and not path.startswith("#") and path.lower().endswith(".pdf"):
            paths.append(path if fs.is_remote(path) or os.path.isabs(path) else fs.join(base, path))
    if not paths:
        raise ExtractCliError(f"{list_path}: neither a PDF nor a list of PDF paths")
    return paths


def default_output(input_path: str) -> str:
    """Beside the input: a PDF's or a list's folder, or the input folder itself."""
    if os.path.isdir(input_path):
        return input_path
    return os.path.dirname(input_path) or "."


def output_path(output: str, pdf_path: str, fmt: str) -> str:
    from sciencebeam_gym.storage import fs

    stem = fs.basename(pdf_path)
    stem = stem[: -len(".pdf")] if stem.lower().endswith(".pdf") else stem
    return fs.join(output, f"{stem}.{fmt}")


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


def encode_article(article, fmt: str) -> bytes:
    return article.to_json().encode("utf-8") if fmt == "json" else article.to_jats_bytes()


def extract_one(pdf_path: str, model, args: argparse.Namespace, output: str) -> str:
    """Extract one PDF and write its output; the path written. ExtractError when it fails."""
    from sciencebeam_gym.extract.document import ExtractError, extract_document
    from sciencebeam_gym.storage import fs

    try:
        data = fs.read_bytes(pdf_path)
    except (OSError, ValueError) as error:
        raise ExtractError("unreadable", f"{pdf_path}: cannot be read ({error})") from error
    article = extract_document(
        data, model, args.pages or None, source=pdf_path, progress=_progress(pdf_path)
    )
    for warning in article.warnings:
        print(f"warning: {pdf_path}: {warning}", file=sys.stderr)
    target = output_path(output, pdf_path, args.format)
    try:
        fs.write_bytes(target, encode_article(article, args.format))
    except (OSError, ValueError) as error:
        raise ExtractError("unwritable", f"{target}: cannot be written ({error})") from error
    return target


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
    from sciencebeam_gym.extract.document import ExtractError

    model = load_labeller(args)
    failed = 0
    started = time.perf_counter()
    for index, pdf_path in enumerate(pdfs, start=1):
        try:
            target = extract_one(pdf_path, model, args, output)
            print(f"[{index}/{len(pdfs)}] {pdf_path} -> {target}", flush=True)
        except ExtractError as error:
            failed += 1
            print(f"[{index}/{len(pdfs)}] skipped: {error}", file=sys.stderr, flush=True)
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
        if not pdfs:
            raise ExtractCliError(f"{args.input}: no PDF found")
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
