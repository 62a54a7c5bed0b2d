"""One PDF -> an ExtractedArticle: pages rendered, painted and read a few at a time.

Memory stays bounded on long documents: only `PAGE_BATCH` rendered pages are held at once, and
what is kept of a page is its labelled blocks (text and boxes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from sciencebeam_gym.document.pages import PageSelection, as_selection
from sciencebeam_gym.document.pdf import PdfError, open_pdf, render_page
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.extract.article import ExtractedArticle, Region
from sciencebeam_gym.extract.fields import assemble_article
from sciencebeam_gym.extract.layout import Block, page_blocks
from sciencebeam_gym.extract.writers import DEFAULT_FORMAT, encode_article

PAGE_BATCH = 4
NO_TEXT_LAYER = "no text layer"


class ExtractError(ValueError):
    """A document that cannot be extracted; `reason` is short, the message names the file."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def read_pdf(pdf_path: str) -> bytes:
    """The bytes of a PDF file; ExtractError naming it when it cannot be read."""
    from sciencebeam_gym.storage import fs

    try:
        return fs.read_bytes(pdf_path)
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
) -> ExtractedArticle:
    """Extract one PDF and write it to the file `target` in `fmt`, whole or not at all (the file
    appears complete under its name); the article. ExtractError with a short reason when the PDF
    cannot be read or extracted or the file cannot be written. The one per-document step of
    extract.sh, its Beam pipeline, the field evaluation and the service."""
    from sciencebeam_gym.storage import fs

    article = extract_document(read_pdf(pdf_path), labeller, pages, pdf_path, progress=progress)
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
) -> ExtractedArticle:
    """The fields of PDF bytes; `timings` (if given) sums seconds per stage."""
    timings = timings if timings is not None else {}
    try:
        document = open_pdf(data)
    except PdfError as error:
        raise ExtractError(error.reason, f"{source}: {error.reason} ({error})") from error
    try:
        numbers = as_selection(pages).select(len(document))
        if not numbers:
            raise ExtractError(
                "page out of range", f"{source}: no such page (the PDF has {len(document)})"
            )
        blocks, regions, any_text = _read_pages(document, numbers, labeller, timings, progress)
    finally:
        document.close()
    started = time.perf_counter()
    article = assemble_article(blocks, source=source)
    _add_time(timings, "assembly", started)
    if not any_text:
        article.regions = regions
        article.warnings.append(f"{NO_TEXT_LAYER}: only the painted regions are written")
    return article


def _read_pages(document, numbers, labeller, timings, progress):
    """Per page its blocks; the painted regions of pages without text; whether any had text."""
    pages: list[list[Block]] = []
    regions: list[Region] = []
    any_text = False
    for start in range(0, len(numbers), PAGE_BATCH):
        batch = numbers[start : start + PAGE_BATCH]
        texts, images, rotations = [], [], []
        for number in batch:
            page = document[number - 1]
            started = time.perf_counter()
            texts.append(extract_page_text(page))
            _add_time(timings, "text_layer", started)
            started = time.perf_counter()
            images.append(render_page(page, labeller.dpi))
            rotations.append(page.get_rotation())
            _add_time(timings, "render", started)
            page.close()
        started = time.perf_counter()
        class_maps = labeller.label_pages(images)
        _add_time(timings, "model", started)
        started = time.perf_counter()
        for number, text, class_map, rotation in zip(
            batch, texts, class_maps, rotations, strict=True
        ):
            upright = np.rot90(class_map, k=(rotation // 90) % 4)
            pages.append(page_blocks(text, upright, labeller.labels_by_value, number))
            any_text = any_text or text.has_text
            if not text.has_text:
                regions.extend(painted_regions(upright, text, labeller.labels_by_value, number))
        _add_time(timings, "assembly", started)
        if progress:
            progress(min(start + PAGE_BATCH, len(numbers)), len(numbers))
    return pages, regions, any_text


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
