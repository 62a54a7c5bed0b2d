"""The formats an extracted article is written in, and where its file goes.

    data = encode_article(article, "xml")       # JATS XML bytes; "json": the article as JSON;
                                                # "tei": GROBID's TEI (extract/tei.py)
    jobs = plan_outputs(pdfs, "in/", "out/", "xml")   # [(in/a/paper.pdf, out/a/paper.xml), ...]

An output keeps its PDF's path below the input (`in/a/paper.pdf` -> `out/a/paper.xml`), so two
PDFs of one name in two folders never share an output; two PDFs that would still share one
(`x.pdf` and `x.pdf.gz`) are refused before any work. Without OUTPUT the outputs go to a new
folder beside the input (`in-extracted/`), never into the input folder, where the publisher's
`x.xml` may sit beside `x.pdf`. Every output carries the toolkit's mark (`storage/output_marks.py`): an
existing file without it is someone else's and is never overwritten.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence

from sciencebeam_gym.extract.article import ExtractedArticle

FORMATS = ("xml", "json", "tei")
DEFAULT_FORMAT = "xml"
# the file name ending of each format (TEI as GROBID's clients name it, without "grobid")
SUFFIXES = {"xml": "xml", "json": "json", "tei": "tei.xml"}
MARK_STAGE = "extract"
# The default output: the input's path with this added (papers/ -> papers-extracted/).
DEFAULT_OUTPUT_SUFFIX = "-extracted"


class OutputError(ValueError):
    """Outputs that would collide or overwrite files the extraction did not write."""


def encode_article(article: ExtractedArticle, fmt: str) -> bytes:
    """The article's bytes in `fmt` (one of FORMATS), with the toolkit's mark."""
    import json

    from sciencebeam_gym.storage import fs
    from sciencebeam_gym.storage.output_marks import mark_json, mark_xml

    if fmt == "json":
        body = {**article.to_dict(), "source": fs.printable_path(article.source)}
        text = json.dumps(mark_json(body, MARK_STAGE), indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")
    if fmt == "xml":
        return mark_xml(article.to_jats(), MARK_STAGE)
    if fmt == "tei":
        from sciencebeam_gym.extract.tei import article_to_tei

        return mark_xml(article_to_tei(article), MARK_STAGE)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def _strip_suffix(name: str, suffixes: Sequence[str]) -> str:
    for suffix in suffixes:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def default_output(input_path: str) -> str:
    """A new folder beside the input: `papers/` -> `papers-extracted`, `papers/x.pdf` ->
    `papers/x-extracted`, `list.txt` -> `list-extracted`."""
    from sciencebeam_gym.document.sources import LIST_SUFFIXES, PDF_SUFFIXES

    path = input_path.rstrip("/") or input_path
    if not os.path.isdir(path):
        path = _strip_suffix(path, PDF_SUFFIXES + LIST_SUFFIXES)
    elif os.path.basename(os.path.normpath(path)) in (".", ".."):
        path = os.path.abspath(path)  # `.` -> a folder beside the current one, not `.-extracted`
    return path + DEFAULT_OUTPUT_SUFFIX


def input_root(input_path: str) -> str:
    """The folder the outputs' relative paths start from: the input folder, or the folder of
    a PDF or of a file list."""
    from sciencebeam_gym.storage import fs

    if os.path.isdir(input_path) or input_path.endswith("/"):
        return input_path.rstrip("/") or input_path
    return fs.dirname(input_path)


def relative_name(pdf_path: str, root: str) -> str:
    """The PDF's '/'-separated path below `root`, or its name when it is not below it (a file
    list may name PDFs anywhere)."""
    from sciencebeam_gym.storage import fs

    prefix = root.rstrip("/") + "/" if root else ""
    path = pdf_path.replace(os.sep, "/") if not fs.is_remote(pdf_path) else pdf_path
    if prefix and path.startswith(prefix.replace(os.sep, "/")):
        relative = posixpath.normpath(path[len(prefix) :])
        if relative != ".." and not relative.startswith(("../", "/")):
            return relative
    return fs.basename(pdf_path)


def output_file(output: str, pdf_path: str, fmt: str, root: str = "") -> str:
    """`<output>/<the PDF's path below root, without .pdf / .pdf.gz>.<suffix of fmt>` (its name
    alone when it is not below `root`)."""
    from sciencebeam_gym.document.sources import PDF_SUFFIXES
    from sciencebeam_gym.storage import fs

    parts = relative_name(pdf_path, root).split("/")
    parts[-1] = f"{_strip_suffix(parts[-1], PDF_SUFFIXES)}.{SUFFIXES[fmt]}"
    return fs.join(output, *parts)


def plan_outputs(
    pdfs: Sequence[str], input_path: str, output: str, fmt: str
) -> list[tuple[str, str]]:
    """(PDF, output file) of each PDF, each PDF once; OutputError naming two PDFs that would
    be written to one file."""
    root = input_root(input_path)
    jobs: list[tuple[str, str]] = []
    by_target: dict[str, str] = {}
    for pdf in dict.fromkeys(pdfs):  # a PDF listed twice is extracted once
        target = output_file(output, pdf, fmt, root)
        if target in by_target:
            raise OutputError(
                f"{by_target[target]} and {pdf} would both be written to {target}; rename one "
                "or extract them in separate runs"
            )
        by_target[target] = pdf
        jobs.append((pdf, target))
    return jobs


def check_not_overwriting(jobs: Sequence[tuple[str, str]], output: str) -> None:
    """OutputError when an output file exists and was not written by the extraction."""
    from sciencebeam_gym.storage.output_marks import unmarked_files

    foreign = unmarked_files([target for _pdf, target in jobs], output)
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputError(
            f"{shown} already exist{'s' if len(foreign) == 1 else ''} and "
            f"{'was' if len(foreign) == 1 else 'were'} not written by the extraction; it would "
            "be overwritten. Pass another OUTPUT folder (by default the outputs go to a new "
            f"folder beside the input, INPUT{DEFAULT_OUTPUT_SUFFIX})"
        )
