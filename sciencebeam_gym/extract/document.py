"""One PDF -> an ExtractedArticle: pages rendered, painted and read a few at a time.

Memory stays bounded on long documents: only `PAGE_BATCH` rendered pages are held at once, and
what is kept of a page is its labelled blocks (text and boxes). Work stays bounded on hostile
ones: the bounds of `document.limits` (bytes, pages, glyphs of a page, a time limit checked
before each page) end the document with their reason, as does anything pdfium raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pypdfium2 as pdfium

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.errors import SkipError
from sciencebeam_gym.document.limits import (
    NO_DEADLINE,
    Deadline,
    LimitError,
    check_page_count,
    read_document,
)
from sciencebeam_gym.document.pages import PageSelection, as_selection
from sciencebeam_gym.document.pdf import (
    CORRUPT_PDF,
    UNRENDERABLE_PAGE,
    PdfError,
    open_pdf,
    render_page,
)
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.extract.article import ExtractedArticle, Region
from sciencebeam_gym.extract.fields import assemble_article
from sciencebeam_gym.extract.layout import Block, page_blocks
from sciencebeam_gym.extract.writers import DEFAULT_FORMAT, encode_article
from sciencebeam_gym.words.features import PageInfo

PAGE_BATCH = 4
NO_TEXT_LAYER = "no text layer"
UNEXPECTED_ERROR = "unexpected error"


class ExtractError(ValueError):
    """A document that cannot be extracted; `reason` is short, the message names the file."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def read_pdf(pdf_path: str) -> bytes:
    """The bytes of a PDF file (a .gz decompressed in a stream, within limits.MAX_PDF_BYTES);
    ExtractError naming it when it cannot be read or is beyond the bounds."""
    try:
        return read_document(pdf_path, limits.MAX_PDF_BYTES)
    except LimitError as error:
        reason = CORRUPT_PDF if error.reason == limits.CORRUPT_GZIP else error.reason
        raise ExtractError(reason, f"{pdf_path}: {reason} ({error.detail})") from error
    except (OSError, ValueError) as error:
        raise ExtractError("unreadable", f"{pdf_path}: cannot be read ({error})") from error


def extract_pdf(
    pdf_path: str, model, pages: PageSelection | Sequence[int] | None = None
) -> ExtractedArticle:
    """The fields of one PDF; `model` from `load_model` (or any labeller); ExtractError if bad."""
    return extract_document(read_pdf(pdf_path), model, pages, source=pdf_path)


def extract_to(
    pdf_path: str,
    labeller,
    target: str,
    fmt: str = DEFAULT_FORMAT,
    pages: PageSelection | Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> ExtractedArticle:
    """Extract one PDF and write it to the file `target` in `fmt`, whole or not at all (the file
    appears complete under its name); the article. ExtractError with a short reason for every
    failure of the document (unreadable, beyond a bound of `document.limits`, over `timeout`
    seconds, pdfium or anything unexpected), so one document never stops a batch. The one
    per-document step of extract.sh, its Beam pipeline, the field evaluation and the service."""
    try:
        return _extract_to(pdf_path, labeller, target, fmt, pages, progress, timeout)
    except ExtractError:
        raise
    except Exception as error:  # noqa: BLE001 - the document's reason, the batch goes on
        raise ExtractError(
            UNEXPECTED_ERROR, f"{pdf_path}: {UNEXPECTED_ERROR} ({type(error).__name__}: {error})"
        ) from error


def _extract_to(pdf_path, labeller, target, fmt, pages, progress, timeout) -> ExtractedArticle:
    from sciencebeam_gym.storage import fs

    data = read_pdf(pdf_path)
    article = extract_document(data, labeller, pages, pdf_path, progress=progress, timeout=timeout)
    try:
        data = encode_article(article, fmt)
    except ValueError as error:  # lxml refuses text that XML cannot hold
        raise ExtractError(
            "unencodable", f"{pdf_path}: no {fmt} could be made ({error})"
        ) from error
    try:
        fs.write_bytes(target, data)
    except (OSError, ValueError) as error:
        raise ExtractError("unwritable", f"{target}: cannot be written ({error})") from error
    return article


def extract_document(
    data: bytes,
    labeller,
    pages: PageSelection | Sequence[int] | None = None,
    source: str = "<pdf>",
    timings: dict[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> ExtractedArticle:
    """The fields of PDF bytes; `timings` (if given) sums seconds per stage. ExtractError when
    the PDF cannot be read, a page cannot be loaded or a bound (pages, glyphs, `timeout`
    seconds) is hit."""
    from sciencebeam_gym.storage import fs

    timings = timings if timings is not None else {}
    name = fs.printable_path(source)
    deadline = Deadline(timeout, name)
    try:
        document = open_pdf(data)
    except PdfError as error:
        raise ExtractError(error.reason, f"{name}: {error.reason} ({error})") from error
    try:
        numbers = as_selection(pages).select(len(document))
        if not numbers:
            raise ExtractError(
                "page out of range", f"{name}: no such page (the PDF has {len(document)})"
            )
        check_page_count(len(numbers), name)
        blocks, regions, any_text, warnings = _read_pages(
            document, numbers, labeller, timings, progress, deadline
        )
        deadline.check("the assembly of the fields")
    except SkipError as error:
        raise ExtractError(error.reason, f"{name}: {error.reason} ({error.detail})") from error
    except pdfium.PdfiumError as error:
        raise ExtractError(UNRENDERABLE_PAGE, f"{name}: {UNRENDERABLE_PAGE} ({error})") from error
    finally:
        document.close()
    started = time.perf_counter()
    article = assemble_article(blocks, source=source)
    article.warnings.extend(warnings)
    _add_time(timings, "assembly", started)
    if not any_text:
        article.regions = regions
        article.warnings.append(f"{NO_TEXT_LAYER}: only the painted regions are written")
    return article


def _read_pages(document, numbers, labeller, timings, progress, deadline=NO_DEADLINE):
    """Per page its blocks; the painted regions of pages without text; whether any had text;
    the warnings."""
    pages: list[list[Block]] = []
    regions: list[Region] = []
    warnings: list[str] = []
    any_text = False
    for start in range(0, len(numbers), PAGE_BATCH):
        batch = numbers[start : start + PAGE_BATCH]
        texts, images, rotations = _read_batch(document, batch, labeller, timings, deadline)
        started = time.perf_counter()
        class_maps = labeller.label_pages(images)
        _add_time(timings, "model", started)
        started = time.perf_counter()
        for number, text, class_map, rotation in zip(
            batch, texts, class_maps, rotations, strict=True
        ):
            deadline.check(f"the layout of page {number}")
            upright = np.rot90(class_map, k=(rotation // 90) % 4)
            label_words = _word_labels(labeller, text, upright, (number, len(document)), warnings)
            label_words = _timed(label_words, timings)
            pages.append(page_blocks(text, upright, labeller.labels_by_value, number, label_words))
            any_text = any_text or text.has_text
            if not text.has_text:
                regions.extend(painted_regions(upright, text, labeller.labels_by_value, number))
        _add_time(timings, "assembly", started)
        if progress:
            progress(min(start + PAGE_BATCH, len(numbers)), len(numbers))
    return pages, regions, any_text, warnings


def _word_labels(labeller, text, class_map, place: tuple[int, int], warnings: list[str]):
    """The word model's labelling of a page's words when the labeller has one, else None (the
    pixel vote); `place` is (page number, page count); its warnings go to `warnings`."""
    if not hasattr(labeller, "label_words") or not text.has_text:
        return None
    info = PageInfo(text.width, text.height, *place)

    def label_words(words) -> None:
        warnings.extend(labeller.label_words(words, class_map, info))

    return label_words


def _timed(label_words, timings: dict[str, float]):
    """`label_words` counting its seconds as the stage `words`, taken out of `assembly` (which
    the page's whole layout step is timed as)."""
    if label_words is None:
        return None

    def timed(words) -> None:
        started = time.perf_counter()
        label_words(words)
        elapsed = time.perf_counter() - started
        timings["words"] = timings.get("words", 0.0) + elapsed
        timings["assembly"] = timings.get("assembly", 0.0) - elapsed

    return timed


def _read_batch(document, batch, labeller, timings, deadline):
    """The text layers, rendered images and rotations of a batch of pages."""
    texts, images, rotations = [], [], []
    for number in batch:
        deadline.check(f"page {number}")
        page = document[number - 1]
        try:
            started = time.perf_counter()
            texts.append(extract_page_text(page))
            _add_time(timings, "text_layer", started)
            started = time.perf_counter()
            images.append(render_page(page, labeller.dpi))
            rotations.append(page.get_rotation())
            _add_time(timings, "render", started)
        except SkipError as error:
            raise SkipError(error.reason, f"page {number}: {error.detail}") from error
        finally:
            page.close()
    return texts, images, rotations


def painted_regions(class_map, page_text, labels_by_value, number) -> list[Region]:
    """The connected regions of each painted class, as boxes in points (pages without text)."""
    from sciencebeam_gym.extract.model import connected_regions

    found = connected_regions(class_map)
    scale_x = page_text.width / class_map.shape[1]
    scale_y = page_text.height / class_map.shape[0]
    regions = []
    for region in found:
        x0, y0, x1, y1 = region["box"]
        label = labels_by_value.get(int(region["class_index"]), "")
        if label:
            box = (x0 * scale_x, y0 * scale_y, x1 * scale_x, y1 * scale_y)
            regions.append(Region(label=label, page=number, box=box))
    return regions


def _add_time(timings: dict[str, float], stage: str, started: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started
