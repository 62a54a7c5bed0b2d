"""The bounds of one document's work, so that a hostile file costs bounded memory and time.

    data = read_document(path, MAX_PDF_BYTES)     # a FIFO refused, a .gz decompressed in a stream
    deadline = Deadline(600, path)                # deadline.check("page 3") between steps

The bounds are read when used, so a caller (or a test) may set them lower. Each bound that is
hit raises a LimitError: a SkipError whose reason becomes the document's skip
reason (never the death of the run). The bounds are far above what real articles need (a dense
page holds ~10,000 glyphs, an article's PDF a few MB, its JATS well under 10 MB).
"""

from __future__ import annotations

import io
import math
import os
import stat
import time
import zlib

from sciencebeam_gym.document.errors import SkipError

# A PDF as pdfium reads it (after decompression): beyond this it is refused unread.
MAX_PDF_BYTES = 256 * 2**20
# A JATS / NLM XML file, decompressed.
MAX_XML_BYTES = 64 * 2**20
# A file list of documents (one line each: over half a million lines).
MAX_LIST_BYTES = 64 * 2**20
# Glyphs of one page's text layer; a page with more is refused before its glyphs are read.
MAX_PAGE_GLYPHS = 50_000
# Text objects of one page (pdfium's text layer costs the square of them: 2 s at 20,000 and
# minutes at 200,000); real article pages hold at most a few thousand.
MAX_PAGE_TEXT_OBJECTS = 20_000
# Seconds one document may take (--timeout of extract, generate and the evaluation): a whole
# 2,000-page document on a busy machine stays within it, a hostile one is cut off.
DEFAULT_TIMEOUT = 600.0
# Pages one document may have read; a selection asking more is refused (fewer with --pages).
MAX_DOCUMENT_PAGES = 2_000

TOO_LARGE = "too large"
TOO_MANY_PAGES = "too many pages"
TOO_MANY_GLYPHS = "too many glyphs"
TIMED_OUT = "timed out"
NOT_A_FILE = "not a regular file"
CORRUPT_GZIP = "corrupt gzip"

GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 2**20


class LimitError(SkipError):
    """A document beyond one of the bounds, or unreadable as a stream; `reason` says which."""


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip_capped(data: bytes, max_bytes: int, name: str = "the file") -> bytes:
    """`data` decompressed when it is gzip, never holding more than `max_bytes` of output;
    LimitError when it expands beyond them or does not decompress."""
    if not is_gzip(data):
        return data
    return _read_gzip_stream(io.BytesIO(data), max_bytes, name)


def _read_gzip_stream(stream, max_bytes: int, name: str) -> bytes:
    """The decompressed bytes of a gzip stream (several members too), read a chunk at a time:
    at most `max_bytes` and one chunk are held before the cap refuses the rest."""
    pieces: list[bytes] = []
    held = 0
    try:
        for piece in _gunzip_pieces(stream):
            pieces.append(piece)
            held += len(piece)
            if held > max_bytes:
                raise LimitError(
                    TOO_LARGE,
                    f"{name} expands beyond {_size(max_bytes)} when decompressed (the cap)",
                )
    except (OSError, EOFError, zlib.error) as error:
        detail = f"{name}: the gzip data does not decompress ({error})"
        raise LimitError(CORRUPT_GZIP, detail) from error
    return b"".join(pieces)


def _gunzip_pieces(stream):
    """Pieces of at most _READ_CHUNK decompressed bytes; EOFError for a truncated member."""
    unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fed = False
    while data := stream.read(_READ_CHUNK):
        while data:
            if unzip.eof:  # another member follows, or zero padding
                if not data.strip(b"\0"):
                    break
                unzip, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
            fed = True
            yield unzip.decompress(data, _READ_CHUNK)
            data = unzip.unused_data if unzip.eof else unzip.unconsumed_tail
    if fed and not unzip.eof:
        yield unzip.flush()
        if not unzip.eof:
            raise EOFError("the data ends inside a gzip member (truncated)")


def check_regular_file(path: str) -> int:
    """The size of a local file; LimitError for a FIFO, a device or a socket (reading one
    would wait forever or never end). Remote paths are objects: their size is not checked here."""
    try:
        info = os.stat(path)
    except OSError:
        return -1  # the read that follows names the missing file
    if not stat.S_ISREG(info.st_mode):
        raise LimitError(NOT_A_FILE, f"{path} is not a regular file (a FIFO or device?)")
    return info.st_size


def read_document(path: str, max_bytes: int) -> bytes:
    """A document's bytes, gunzipped when gzip, within `max_bytes` (decompressed): a local file
    is checked (regular, not larger than the cap) before it is opened and a .gz is decompressed
    in a stream; LimitError past a bound, OSError when it cannot be read."""
    from sciencebeam_gym.storage import fs

    if fs.is_remote(path):
        size = fs.size(path)
        if size > max_bytes:
            raise LimitError(TOO_LARGE, f"{path} is {_size(size)}, beyond {_size(max_bytes)}")
        return gunzip_capped(fs.read_bytes(path), max_bytes, path)
    size = check_regular_file(path)
    if size > max_bytes:
        raise LimitError(
            TOO_LARGE, f"{path} is {_size(size)}, beyond the cap of {_size(max_bytes)}"
        )
    with open(path, "rb") as file:
        if is_gzip(file.read(2)):
            file.seek(0)
            return _read_gzip_stream(file, max_bytes, path)
        file.seek(0)
        return file.read(max_bytes + 1)


def _size(count: int) -> str:
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count} bytes"


class Deadline:
    """A document's time limit (`seconds`; 0 or None: none), checked between steps of the work:
    one pdfium call is not interrupted, but no page starts after the limit."""

    def __init__(self, seconds: float | None = None, name: str = "the document"):
        self.seconds = seconds or 0.0
        self.name = name
        self.end = time.monotonic() + self.seconds if self.seconds else math.inf

    def check(self, where: str = "") -> None:
        """LimitError (TIMED_OUT) once the time is up; `where` says what was next."""
        if time.monotonic() > self.end:
            at = f" before {where}" if where else ""
            raise LimitError(
                TIMED_OUT, f"{self.name}: over the limit of {self.seconds:g} s{at} (--timeout)"
            )


NO_DEADLINE = Deadline()


def check_page_count(selected: int, name: str, max_pages: int | None = None) -> None:
    """LimitError when a document would have more than `max_pages` (MAX_DOCUMENT_PAGES) pages
    read."""
    max_pages = MAX_DOCUMENT_PAGES if max_pages is None else max_pages
    if max_pages and selected > max_pages:
        raise LimitError(
            TOO_MANY_PAGES,
            f"{name}: {selected} pages selected, beyond the cap of {max_pages} per document; "
            "select fewer with --pages",
        )


def check_text_object_count(count: int, max_objects: int | None = None) -> None:
    """LimitError when a page holds more than `max_objects` (MAX_PAGE_TEXT_OBJECTS) text
    objects."""
    max_objects = MAX_PAGE_TEXT_OBJECTS if max_objects is None else max_objects
    if max_objects and count > max_objects:
        raise LimitError(
            TOO_MANY_GLYPHS,
            f"a page holds more than {max_objects} text objects (the cap; not an article page)",
        )


def check_glyph_count(count: int, max_glyphs: int | None = None) -> None:
    """LimitError when a page's text layer holds more than `max_glyphs` (MAX_PAGE_GLYPHS)."""
    max_glyphs = MAX_PAGE_GLYPHS if max_glyphs is None else max_glyphs
    if max_glyphs and count > max_glyphs:
        raise LimitError(
            TOO_MANY_GLYPHS,
            f"a page holds {count} glyphs, beyond the cap of {max_glyphs} (not an article page)",
        )


def add_timeout(parser, what: str = "one document") -> None:
    """--timeout: the seconds `what` may take before it is skipped (`DEFAULT_TIMEOUT`)."""
    from sciencebeam_gym.cli import positive_float

    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds {what} may take before it is skipped ({DEFAULT_TIMEOUT:g})",
    )
