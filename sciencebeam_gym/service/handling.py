"""One document request from its body to its answer: the document read within the limits, the
parameters understood (Accept, pages, GROBID's start / end), the job run by the pool while
the client is watched, and the answer sent with its timings."""

from __future__ import annotations

import asyncio
import sys
import time

from fastapi import Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from sciencebeam_gym.document.pages import (
    EVERY_PAGE,
    PageSelection,
    PageSelectionError,
    parse_pages,
)
from sciencebeam_gym.document.pdf import CORRUPT_PDF, EMPTY_PDF, looks_like_pdf
from sciencebeam_gym.service.forms import Upload, read_upload
from sciencebeam_gym.service.jobs import Job
from sciencebeam_gym.service.limits import (
    BAD_REQUEST,
    NOT_ACCEPTABLE,
    Limits,
    ServiceError,
    read_body,
)
from sciencebeam_gym.service.pool import WorkerPool

GZIP_MAGIC = b"\x1f\x8b"
# the names of the extraction's stages in Server-Timing
TIMING_NAMES = {"render": "render", "model": "model", "text_layer": "text", "assembly": "assembly"}


async def until_disconnected(request: Request) -> None:
    """Return when the client closes the connection (its body has been read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def run_job(request: Request, job: Job) -> tuple:
    """The job's answer from the pool. When the client leaves first, the job is dropped from the
    queue (or left to finish, when a worker has it) and ClientDisconnect is raised."""
    pool: WorkerPool = request.app.state.pool
    work = asyncio.ensure_future(pool.run(job, request.app.state.settings.limits.timeout))
    gone = asyncio.ensure_future(until_disconnected(request))
    done, _ = await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    if work in done:
        gone.cancel()
        return work.result()
    work.cancel()
    raise ClientDisconnect()


async def read_document(request: Request, pdf_only: bool = True) -> Upload:
    """The document of a request (the body, or a form's part) within --max_bytes. Nothing sent,
    or (`pdf_only`) bytes that are no PDF, are refused here, before any worker is asked."""
    limits: Limits = request.app.state.settings.limits
    body = await read_body(request, limits.max_bytes, limits.timeout)
    upload = read_upload(body, request.headers.get("content-type", ""))
    if not upload.data:
        raise ServiceError(EMPTY_PDF, f"{upload.filename}: no document (0 bytes) was sent", 400)
    gzipped = upload.data[:2] == GZIP_MAGIC
    if pdf_only and not gzipped and not looks_like_pdf(upload.data):
        raise ServiceError(CORRUPT_PDF, f"{upload.filename}: not a PDF file (no %PDF header)", 400)
    return upload


async def answer_job(request: Request, job: Job, started: float, media_type: str = "") -> Response:
    """Run the job; its body with the timings of its stages, or its refusal (ServiceError)."""
    queued = time.perf_counter()
    answer = await run_job(request, job)
    if answer[0] == "error":
        _, status, reason, detail = answer
        raise ServiceError(reason, detail, status)
    _, body, job_media_type, timings = answer
    waited = max(0.0, time.perf_counter() - queued - sum(timings.values()))
    headers = {"Server-Timing": server_timing(timings, waited, started)}
    return Response(body, media_type=media_type or job_media_type, headers=headers)


def server_timing(timings: dict[str, float], waited: float, started: float) -> str:
    """`Server-Timing` (milliseconds): each stage, then the time outside them (queue, transfer
    to the worker) and the request's total."""
    parts = [f"{TIMING_NAMES.get(k, k)};dur={v * 1000:.1f}" for k, v in timings.items()]
    parts.append(f"queue;dur={waited * 1000:.1f}")
    parts.append(f"total;dur={(time.perf_counter() - started) * 1000:.1f}")
    return ", ".join(parts)


def accepted_types(accept: str) -> list[str]:
    """The media types of an Accept header, most wanted first (q=0 left out)."""
    entries = []
    for position, item in enumerate(p.strip() for p in accept.split(",")):
        media_type, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type and quality > 0:
            entries.append((-quality, position, media_type.lower()))
    return [media_type for _q, _p, media_type in sorted(entries)]


def negotiate(accept: str, offers: dict[str, str]) -> tuple[str, str]:
    """(media type, what to write) for an Accept header: the best offer it accepts; the first
    offer when it names none or accepts anything; 406 when it accepts nothing offered."""
    default = next(iter(offers.items()))
    wanted = accepted_types(accept or "")
    if not wanted:
        return default
    for media_type in wanted:
        if media_type in offers:
            return media_type, offers[media_type]
        if media_type in ("*/*", "application/*"):
            return default
    raise ServiceError(NOT_ACCEPTABLE, f"Accept: {accept}; this endpoint gives {', '.join(offers)}")


def pages_param(text: str | None) -> PageSelection:
    """`?pages=1-2` as extract.sh's --pages reads it."""
    try:
        return parse_pages(text or "")
    except PageSelectionError as error:
        raise ServiceError(BAD_REQUEST, f"pages: {error}") from error


def grobid_pages(upload: Upload) -> PageSelection:
    """GROBID's `start` and `end` form fields (1-based; -1: from the first / to the last page)."""
    try:
        start = int(upload.field("start", "-1") or -1)
        end = int(upload.field("end", "-1") or -1)
    except ValueError as error:
        raise ServiceError(BAD_REQUEST, f"start and end must be page numbers ({error})") from error
    first = max(1, start)
    if 0 < end < first:
        raise ServiceError(BAD_REQUEST, f"end {end} is before start {start}")
    if end <= 0 and first == 1:
        return EVERY_PAGE
    return PageSelection(((first, end if end > 0 else sys.maxsize),))
