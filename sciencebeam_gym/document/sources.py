"""Input documents: PDF + JATS XML pairs found in a folder or listed in a TSV/CSV file (the
train/test split of generate-data is `generate/splits.py`)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass

from sciencebeam_gym.storage import fs

PDF_SUFFIXES = (".pdf", ".pdf.gz")
XML_SUFFIXES = (".xml", ".nxml", ".xml.gz", ".nxml.gz")
LIST_SUFFIXES = (".tsv", ".csv", ".tsv.gz", ".csv.gz", ".txt", ".lst", ".list")
PDF_COLUMNS = ("pdf", "pdf_url", "pdf_path", "pdf_file", "source_url", "source")
XML_COLUMNS = ("xml", "xml_url", "xml_path", "xml_file", "nxml", "jats")
ID_COLUMNS = ("id", "doc_id", "document_id", "name")
# An optional column naming the document's group (the folder between split and document), so
# one list can sort articles by publisher for evaluation by group.
GROUP_COLUMNS = ("group", "publisher")
# Stems that name a file's role rather than the article; the folder name is the id then.
_GENERIC_STEMS = {"fulltext", "article", "main", "paper", "document"}
MAX_DEPTH = 3  # subfolder levels searched for pairs, e.g. <split>/<group>/<doc_id>/
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SourceError(ValueError):
    """A source folder or file list that cannot be read; the message says what to do."""


@dataclass(frozen=True)
class SourcePair:
    """One document: its id, the paths of its PDF and XML (None when the partner is missing) and,
    from a file list's group column, its group (None: the run's `--group`)."""

    doc_id: str
    pdf: str | None
    xml: str | None
    group: str | None = None
    split: str | None = None  # set by generate's split assignment; None: not decided yet


def _kind_and_stem(path: str) -> tuple[str | None, str]:
    name = fs.basename(path)
    lower = name.lower()
    for kind, suffixes in (("pdf", PDF_SUFFIXES), ("xml", XML_SUFFIXES)):
        for suffix in suffixes:
            if lower.endswith(suffix):
                return kind, name[: -len(suffix)]
    return None, name


def safe_id(text: str) -> str:
    """A document id usable as a folder and file name."""
    return _UNSAFE.sub("_", text).strip("._") or "document"


def _doc_id(path: str, stem: str) -> str:
    if stem.lower() in _GENERIC_STEMS:
        return safe_id(fs.basename(fs.dirname(path)) or stem)
    return safe_id(stem)


def find_pairs_in_folder(folder: str) -> list[SourcePair]:
    """Pairs matched by name (same folder, same stem) in a folder and its subfolders (up to
    MAX_DEPTH levels down)."""
    escaped = fs.escape_glob(folder)
    paths = fs.glob_many([fs.join(escaped, *(["*"] * depth)) for depth in range(1, MAX_DEPTH + 2)])
    grouped: dict[tuple[str, str], dict[str, str]] = {}
    for path in paths:
        kind, stem = _kind_and_stem(path)
        if kind:
            grouped.setdefault((fs.dirname(path), stem), {})[kind] = path
    pairs = []
    for (_folder, stem), files in sorted(grouped.items()):
        any_path = files.get("pdf") or files["xml"]
        pairs.append(SourcePair(_doc_id(any_path, stem), files.get("pdf"), files.get("xml")))
    return _unique_ids(pairs)


def _unique_ids(pairs: list[SourcePair]) -> list[SourcePair]:
    """Every id once: a repeated id takes the first `<id>_<n>` (n from 2) that is no document's
    own id and was not given before, so a rename never collides (`x`, `x`, `x_2` give `x`,
    `x_3`, `x_2`). Ids are compared case-folded: folders on macOS and Windows ignore case."""
    taken = {pair.doc_id.casefold() for pair in pairs}
    given: set[str] = set()
    next_number: dict[str, int] = {}
    result = []
    for pair in pairs:
        doc_id = pair.doc_id
        if doc_id.casefold() in given:
            number = next_number.get(doc_id.casefold(), 2)
            while f"{doc_id}_{number}".casefold() in taken:
                number += 1
            next_number[doc_id.casefold()] = number + 1
            doc_id = f"{doc_id}_{number}"
            taken.add(doc_id.casefold())
        given.add(doc_id.casefold())
        result.append(dataclasses.replace(pair, doc_id=doc_id))
    return result


def _resolve(base_folder: str, path: str) -> str:
    path = path.strip()
    if not path or fs.is_remote(path) or path.startswith("/"):
        return path
    return fs.join(base_folder, path)


def read_file_list(list_path: str) -> list[SourcePair]:
    """Pairs listed in a TSV/CSV file: columns pdf and xml (e.g. pdf_url, xml_url; optional id
    and group), or, without a header, the PDF in the first column and the XML in the second. Relative paths
    are taken from the list's folder."""
    from sciencebeam_gym.document import limits

    try:
        text = limits.read_document(list_path, limits.MAX_LIST_BYTES).decode("utf-8-sig")
    except Exception as error:  # noqa: BLE001 - reported with the flag to fix
        raise SourceError(f"cannot read the file list {list_path} (--source): {error}") from error
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise SourceError(f"the file list {list_path} (--source) is empty")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [cell.strip().lower() for cell in rows[0]]
    pdf_column = next((header.index(c) for c in PDF_COLUMNS if c in header), None)
    xml_column = next((header.index(c) for c in XML_COLUMNS if c in header), None)
    id_column = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    group_column = next((header.index(c) for c in GROUP_COLUMNS if c in header), None)
    if pdf_column is None and xml_column is None:
        pdf_column, xml_column, body = 0, 1, rows
    elif pdf_column is None or xml_column is None:
        raise SourceError(
            f"{list_path}: the header names only one of the PDF and XML columns "
            f"(PDF: one of {', '.join(PDF_COLUMNS)}; XML: one of {', '.join(XML_COLUMNS)})"
        )
    else:
        body = rows[1:]
    base = fs.dirname(list_path)
    pairs = []
    for row in body:
        pdf = _resolve(base, row[pdf_column]) if pdf_column < len(row) else ""
        xml = _resolve(base, row[xml_column]) if xml_column < len(row) else ""
        any_path = pdf or xml
        if not any_path:
            continue
        if id_column is not None and id_column < len(row) and row[id_column].strip():
            doc_id = safe_id(row[id_column].strip())
        else:
            doc_id = _doc_id(any_path, _kind_and_stem(any_path)[1])
        pairs.append(SourcePair(doc_id, pdf or None, xml or None, _cell(row, group_column)))
    return _unique_ids(pairs)


def _cell(row: list[str], column: int | None) -> str | None:
    """A file list's cell made safe as a folder name, or None when absent or empty."""
    if column is None or column >= len(row) or not row[column].strip():
        return None
    return safe_id(row[column].strip())


def find_pairs(source: str) -> list[SourcePair]:
    """Pairs from a folder or a file list (decided by the path); SourceError when neither."""
    if source.lower().endswith(LIST_SUFFIXES) and fs.exists(source):
        _check_regular_file(source)
        return read_file_list(source)
    if fs.is_remote(source) or _is_local_folder(source):
        pairs = find_pairs_in_folder(source)
        if pairs:
            return pairs
        raise SourceError(
            f"no PDF or XML files in {source} (--source / GENERATE_SOURCE); expected pairs such "
            f"as x.pdf + x.xml (also .nxml, .gz) in the folder or its subfolders"
        )
    raise SourceError(
        f"--source {source} is neither a folder nor a file list (.tsv/.csv); "
        "set GENERATE_SOURCE in .config or pass --source"
    )


def _check_regular_file(path: str) -> None:
    """SourceError for a FIFO or device given as INPUT: reading it would wait forever."""
    from sciencebeam_gym.document.limits import LimitError, check_regular_file

    if not fs.is_remote(path):
        try:
            check_regular_file(path)
        except LimitError as error:
            raise SourceError(f"{error.detail}; pass a PDF, a folder or a file list") from error


def _is_local_folder(path: str) -> bool:
    import os

    return os.path.isdir(path)


def find_pdfs(source: str) -> list[str]:
    """The PDFs a source names: a PDF (also .pdf.gz), a folder (searched at any depth) or a file
    list (the first column of each line, relative to the list's folder); SourceError when it is
    none of these or holds no PDF."""
    if fs.is_remote(source) and source.endswith("/") or _is_local_folder(source):
        found = fs.glob(fs.join(fs.escape_glob(source.rstrip("/")), "**"))
        pdfs = [path for path in found if path.lower().endswith(PDF_SUFFIXES)]
        if not pdfs:
            raise SourceError(f"{source}: no PDF found (*.pdf, *.pdf.gz) in the folder")
        return pdfs
    if not fs.exists(source):
        raise SourceError(f"{source}: no such file or folder")
    _check_regular_file(source)
    if source.lower().endswith(PDF_SUFFIXES):
        return [source]
    if source.lower().endswith(LIST_SUFFIXES):
        listed = [pair.pdf for pair in read_file_list(source) if pair.pdf]
        pdfs = [path for path in listed if path.lower().endswith(PDF_SUFFIXES)]
        if not pdfs:
            raise SourceError(f"{source}: the file list names no PDF")
        return pdfs
    raise SourceError(
        f"{source}: neither a PDF ({', '.join(PDF_SUFFIXES)}), a folder, nor a file list "
        f"({', '.join(LIST_SUFFIXES)})"
    )


SOURCE_HELP = (
    "folder of PDF + JATS XML pairs matched by name (x.pdf + x.xml/.nxml, optionally .gz; "
    f"subfolders up to {MAX_DEPTH} levels down too), or a TSV/CSV file list with pdf and xml "
    "columns"
)


def add_source(parser, repeatable: bool = False) -> None:
    """--source: where the PDF + JATS pairs are (`find_pairs`); a list of them when
    `repeatable` (the flag given once per source)."""
    if repeatable:
        parser.add_argument(
            "--source", required=True, action="append", help=f"{SOURCE_HELP}; repeat for several"
        )
    else:
        parser.add_argument("--source", required=True, help=SOURCE_HELP)
