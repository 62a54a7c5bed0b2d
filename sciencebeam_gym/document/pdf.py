"""Render PDF pages to RGB images (pypdfium2): the one renderer of generate and serving.

    for number, image in render_pages(data, source="doc.pdf", dpi=100):
        ...

Pages are rendered one at a time (`render_pages` is a generator), so a 500-page PDF costs the
memory of one page. A page can declare any size (a 14400 x 14400 pt page is 20000 x 20000
pixels at 100 dpi), so each page is held to a pixel budget (`max_pixels`): a larger page is
rendered at the resolution that fits, and the log says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import pypdfium2 as pdfium
from PIL import Image

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.limits import CORRUPT_GZIP, TOO_LARGE, LimitError, gunzip_capped

LOGGER = logging.getLogger(__name__)

DEFAULT_DPI = 100.0
POINTS_PER_INCH = 72.0
# 25 megapixels: an A0 poster at 150 dpi still fits, a US Letter page up to ~580 dpi (RGB
# 75 MB, pdfium's BGRA bitmap 100 MB); a page beyond it is scaled down to fit.
DEFAULT_MAX_PAGE_PIXELS = 25_000_000
PDF_MAGIC = b"%PDF"

EMPTY_PDF = "empty PDF"
CORRUPT_PDF = "corrupt PDF"
ENCRYPTED_PDF = "encrypted PDF"
UNRENDERABLE_PAGE = "unrenderable page"


class PdfError(ValueError):
    """A PDF that cannot be used; `reason` is a short, report-friendly cause."""

    def __init__(self, reason: str, detail: str = "", source: str = ""):
        message = f"{reason}: {detail}" if detail else reason
        super().__init__(f"{source}: {message}" if source else message)
        self.reason = reason
        self.detail = detail


def maybe_gunzip(data: bytes, max_bytes: int | None = None, name: str = "the file") -> bytes:
    """The bytes, decompressed when they are gzip data (a `.gz` file), in a stream that stops
    at `max_bytes` (default limits.MAX_PDF_BYTES; LimitError beyond them, or when the gzip
    data is corrupt)."""
    return gunzip_capped(data, limits.MAX_PDF_BYTES if max_bytes is None else max_bytes, name)


def looks_like_pdf(data: bytes) -> bool:
    """PDF files start with %PDF (some have a few bytes of junk before it)."""
    return PDF_MAGIC in data[:1024]


def open_pdf(data: bytes, source: str = "", max_bytes: int | None = None) -> pdfium.PdfDocument:
    """Open PDF bytes (optionally gzip-compressed, at most `max_bytes` once decompressed, by
    default limits.MAX_PDF_BYTES); PdfError with a short reason if unusable."""
    max_bytes = limits.MAX_PDF_BYTES if max_bytes is None else max_bytes
    if not data:
        raise PdfError(EMPTY_PDF, "the file has no bytes", source)
    try:
        data = maybe_gunzip(data, max_bytes)
    except LimitError as error:
        reason = CORRUPT_PDF if error.reason == CORRUPT_GZIP else error.reason
        raise PdfError(reason, error.detail, source) from error
    if len(data) > max_bytes:
        raise PdfError(TOO_LARGE, f"{len(data)} bytes, beyond the cap of {max_bytes}", source)
    if not looks_like_pdf(data):
        raise PdfError(CORRUPT_PDF, "no %PDF header (not a PDF file)", source)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error)
        # pdfium keeps its last error across documents and refuses some (no pages) without
        # one of their own: "password" counts only for a file that declares encryption
        said_encrypted = "password" in message.lower() or "security" in message.lower()
        if said_encrypted and b"/Encrypt" in data:
            raise PdfError(ENCRYPTED_PDF, message, source) from error
        raise PdfError(CORRUPT_PDF, f"the PDF does not open ({message})", source) from error
    if len(document) == 0:
        document.close()
        raise PdfError(EMPTY_PDF, "the document has no pages", source)
    return document


def fit_dpi(size_points: tuple[float, float], dpi: float, max_pixels: int) -> float:
    """`dpi`, or the highest resolution at which a page of this size stays within max_pixels."""
    width, height = (max(v, 1e-3) for v in size_points)
    scale = dpi / POINTS_PER_INCH
    if not max_pixels or math.ceil(width * scale) * math.ceil(height * scale) <= max_pixels:
        return dpi
    scale = math.sqrt(max_pixels / (width * height))
    # pdfium rounds each side up: one pixel less on the shorter side keeps both within the cap
    shorter = min(width, height) * scale
    if shorter > 1:
        scale *= 1 - 1 / shorter
    return scale * POINTS_PER_INCH


def render_page(
    page: pdfium.PdfPage,
    dpi: float = DEFAULT_DPI,
    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS,
    name: str = "a page",
) -> Image.Image:
    """The page as an RGB image at `dpi` (white background, forms drawn), within max_pixels."""
    width, height = page.get_size()
    used = fit_dpi((width, height), dpi, max_pixels)
    if used < dpi:
        LOGGER.warning(
            "%s: %.0f x %.0f pt at %g dpi would be %d x %d pixels, beyond the cap of %d "
            "(--max_page_pixels); rendered at %.1f dpi instead",
            name,
            width,
            height,
            dpi,
            round(width * dpi / POINTS_PER_INCH),
            round(height * dpi / POINTS_PER_INCH),
            max_pixels,
            used,
        )
    bitmap = page.render(scale=used / POINTS_PER_INCH, may_draw_forms=True)
    try:
        return bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()


def count_pages(data: bytes, source: str = "") -> int:
    """The number of pages of a PDF; PdfError when it does not open."""
    document = open_pdf(data, source)
    try:
        return len(document)
    finally:
        document.close()


def render_pages(
    data: bytes,
    source: str = "<pdf>",
    dpi: float = DEFAULT_DPI,
    max_pages: int = 0,
    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS,
) -> Iterator[tuple[int, Image.Image]]:
    """(1-based page number, RGB image) for every page (or the first max_pages), one at a time."""
    document = open_pdf(data, source)
    try:
        count = min(len(document), max_pages) if max_pages else len(document)
        for number in range(1, count + 1):
            page = document[number - 1]
            try:
                image = render_page(page, dpi, max_pixels, f"{source} page {number}")
            except pdfium.PdfiumError as error:
                raise PdfError(UNRENDERABLE_PAGE, f"page {number} ({error})", source) from error
            finally:
                page.close()
            yield number, image
    finally:
        document.close()
