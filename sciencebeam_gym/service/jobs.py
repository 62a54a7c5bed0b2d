"""What a worker process does with one request, with the model it loaded at its start.

A `Job` comes in through the pool's pipe, `run_job` answers with plain tuples (they pickle):
`("ok", body, media_type, timings)` or `("error", status, reason, detail)`.
- convert: PDF -> JATS, JSON, TEI or TEI header (extract.sh's extraction, its formats);
- view: PDF -> the page's JSON (service/view.py);
- predict: one page image, or one PDF page -> its painted PNG, overlay PNG or boxes JSON
  (predict.sh's outputs, the page rendered within its pixel cap).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.document.limits import LimitError
from sciencebeam_gym.document.pages import EVERY_PAGE, PageSelection
from sciencebeam_gym.document.pdf import (
    DEFAULT_MAX_PAGE_PIXELS,
    PdfError,
    count_pages,
    looks_like_pdf,
    maybe_gunzip,
    open_pdf,
    render_page,
)
from sciencebeam_gym.extract.document import ExtractError, extract_document
from sciencebeam_gym.page_image import ImageError, open_image
from sciencebeam_gym.service.limits import (
    INTERNAL,
    PAGE_OUT_OF_RANGE,
    STATUS_BY_REASON,
    TOO_MANY_PAGES,
    ServiceError,
)

JATS = "jats"
JSON = "json"
TEI = "tei"
TEI_HEADER = "tei-header"
MEDIA_TYPES = {
    JATS: "application/xml",
    JSON: "application/json",
    TEI: "application/xml",
    TEI_HEADER: "application/xml",
}
PAINTED = "painted"
OVERLAY = "overlay"
BOXES = "boxes"
PREDICT_OUTPUTS = (PAINTED, OVERLAY, BOXES)


@dataclass(frozen=True)
class Job:
    """One request's work: its kind, the document, and what was asked of it."""

    kind: str  # "convert", "view" or "predict"
    data: bytes
    source: str = "upload"
    pages: PageSelection = EVERY_PAGE
    fmt: str = JATS
    max_pages: int = 0
    output: str = PAINTED  # predict: PREDICT_OUTPUTS
    page: int = 1  # predict: the PDF page


def encode(article, fmt: str) -> bytes:
    if fmt in (TEI, TEI_HEADER):
        from sciencebeam_gym.extract.tei import article_to_tei_bytes

        return article_to_tei_bytes(article, header_only=fmt == TEI_HEADER)
    return article.to_json().encode("utf-8") if fmt == JSON else article.to_jats_bytes()


def pages_to_read(job: Job) -> list[int]:
    """The pages the job will read: refused when none exist or more than --max_pages."""
    try:
        count = count_pages(job.data, job.source)
    except PdfError as error:
        raise ServiceError(error.reason, str(error)) from error
    numbers = job.pages.select(count)
    if not numbers:
        raise ServiceError(PAGE_OUT_OF_RANGE, f"{job.source}: no page {job.pages} (it has {count})")
    if job.max_pages and len(numbers) > job.max_pages:
        raise ServiceError(
            TOO_MANY_PAGES,
            f"{job.source}: {len(numbers)} pages to read, over the limit of {job.max_pages} "
            "(--max_pages); ask for fewer with ?pages=1-N, or raise --max_pages",
        )
    return numbers


def convert(labeller, job: Job):
    timings: dict[str, float] = {}
    numbers = pages_to_read(job)
    article = extract_document(job.data, labeller, numbers, source=job.source, timings=timings)
    return encode(article, job.fmt), MEDIA_TYPES[job.fmt], timings


def view(labeller, job: Job):
    from sciencebeam_gym.service.view import RecordingLabeller, build_view

    timings: dict[str, float] = {}
    numbers = pages_to_read(job)
    recorder = RecordingLabeller(labeller)
    article = extract_document(job.data, recorder, numbers, source=job.source, timings=timings)
    started = time.perf_counter()
    document = build_view(job.data, numbers, article, recorder)
    timings["view"] = time.perf_counter() - started
    return json.dumps(document).encode("utf-8"), "application/json", timings


def page_image(job: Job, dpi: float):
    """The page to predict: a PDF page rendered within the pixel cap, or an image decoded
    within the same cap (a decompression bomb is refused)."""
    data = maybe_gunzip(job.data) if job.data[:2] == b"\x1f\x8b" else job.data
    if not looks_like_pdf(data):
        return open_image(job.data, job.source, max_pixels=DEFAULT_MAX_PAGE_PIXELS)
    document = open_pdf(data, job.source)
    try:
        if not 1 <= job.page <= len(document):
            raise ServiceError(
                PAGE_OUT_OF_RANGE, f"{job.source}: no page {job.page} (it has {len(document)})"
            )
        page = document[job.page - 1]
        try:
            return render_page(page, dpi, DEFAULT_MAX_PAGE_PIXELS, f"{job.source} page {job.page}")
        finally:
            page.close()
    finally:
        document.close()


def predict(labeller, job: Job):
    from sciencebeam_gym.serving.outputs import PredictOptions, page_outputs
    from sciencebeam_gym.serving.pages import BOXES_SUFFIX, OVERLAY_SUFFIX, PageSource
    from sciencebeam_gym.serving.predict import get_args_parser, to_model_input

    predictor = getattr(labeller, "predictor", None)
    if predictor is None:
        raise ServiceError(
            INTERNAL, "this model paints no single pages (no pixel model)", status=501
        )
    timings: dict[str, float] = {}
    started = time.perf_counter()
    image = page_image(job, labeller.dpi)
    timings["render"] = time.perf_counter() - started
    started = time.perf_counter()
    batch = np.stack([to_model_input(image, predictor.info.input_size)])
    outputs = predictor.predict(batch)
    timings["model"] = time.perf_counter() - started
    started = time.perf_counter()
    defaults = get_args_parser()  # predict.sh's own defaults: its outputs, byte for byte
    options = PredictOptions(
        overlay=job.output == OVERLAY,
        overlay_alpha=defaults.get_default("overlay_alpha"),
        boxes=job.output == BOXES,
        min_box_pixels=defaults.get_default("min_box_pixels"),
    )
    source = PageSource(name=job.source, output_base="page")
    files = page_outputs(source, image, outputs, 0, predictor.info, options)
    timings["assembly"] = time.perf_counter() - started
    if job.output == BOXES:
        return files["page" + BOXES_SUFFIX], "application/json", timings
    key = "page" + OVERLAY_SUFFIX if job.output == OVERLAY else source.annotation_path
    return files[key], "image/png", timings


HANDLERS = {"convert": convert, "view": view, "predict": predict}


def run_job(labeller, job: Job) -> tuple:
    """The job's answer as a plain tuple; every failure becomes an error tuple."""
    try:
        body, media_type, timings = HANDLERS[job.kind](labeller, job)
        return ("ok", body, media_type, timings)
    except ServiceError as error:
        return ("error", error.status, error.reason, error.detail)
    except (ExtractError, PdfError, ImageError, LimitError) as error:
        # a gzip bomb or a corrupt gzip body (LimitError) is the client's input, not our fault
        return ("error", STATUS_BY_REASON.get(error.reason, 422), error.reason, str(error))
    except Exception as error:  # the worker must answer and live on, whatever went wrong
        detail = f"{job.source}: {type(error).__name__}: {error}"
        return ("error", 500, INTERNAL, detail)
