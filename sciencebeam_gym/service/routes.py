"""The endpoints. Each document endpoint is a few lines: what it asks of the worker pool.

| path | in | out |
| --- | --- | --- |
| `GET /` | | the page (static/index.html) |
| `POST /api/convert?pages=1-2` | PDF (body or `input`) | JATS, JSON or TEI by `Accept` |
| `POST /api/predict?page=1&output=painted` | page image or PDF | painted / overlay PNG, or boxes JSON |
| `POST /api/processHeaderDocument` | multipart `input` | TEI header (GROBID's) |
| `POST /api/processFulltextDocument` | multipart `input`, `start`, `end` | TEI (GROBID's) |
| `POST /api/view?pages=` | PDF | what the page shows (JSON) |
| `GET /api/isalive`, `/api/version`, `/api/health` | | GROBID's answers; the pool's state |
"""

from __future__ import annotations

import importlib.resources
import time
from dataclasses import replace

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse

from sciencebeam_gym import __version__
from sciencebeam_gym.document.pages import PageSelection
from sciencebeam_gym.service.handling import (
    answer_job,
    grobid_pages,
    negotiate,
    pages_param,
    read_document,
)
from sciencebeam_gym.service.jobs import (
    BOXES,
    JATS,
    JSON,
    PAINTED,
    PREDICT_OUTPUTS,
    TEI,
    TEI_HEADER,
    Job,
)
from sciencebeam_gym.service.limits import BAD_REQUEST, ServiceError

STATIC = importlib.resources.files("sciencebeam_gym.service") / "static"
# GROBID's header model reads the first pages; an abstract may run onto the second.
HEADER_PAGES = PageSelection(((1, 2),))
# Accept -> what /api/convert writes; the first is the default (also for */*)
CONVERT_TYPES = {
    "application/xml": JATS,
    "text/xml": JATS,
    "application/json": JSON,
    "application/tei+xml": TEI,
}
PREDICT_TYPES = {"image/png": PAINTED, "application/json": BOXES}
TEI_MEDIA_TYPE = "application/xml"  # what GROBID answers with
BINARY = {"type": "string", "format": "binary"}
DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/pdf": {"schema": BINARY},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"input": BINARY}, "required": ["input"]}
            },
        },
    }
}
REFUSALS = {
    400: {"description": "no PDF, or not a PDF (reason: empty PDF, corrupt PDF, ...)"},
    406: {"description": "the Accept header asks for nothing this endpoint gives"},
    413: {"description": "the body is over --max_bytes"},
    422: {"description": "a PDF that cannot be processed (encrypted PDF, too many pages, ...)"},
    503: {"description": "every worker busy and the queue full (Retry-After)"},
    504: {"description": "past --timeout; the work was stopped"},
}


def plain_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/api/isalive", response_class=PlainTextResponse, summary="true (as GROBID's)")
    async def isalive() -> str:
        return "true"

    @app.get("/api/version", response_class=PlainTextResponse, summary="the toolkit's version")
    async def version() -> str:
        return __version__

    @app.get("/api/health", summary="workers, queue, limits and counts")
    async def health(request: Request) -> dict:
        pool, limits = request.app.state.pool, request.app.state.settings.limits
        state = pool.health()
        state["limits"] = {
            "max_bytes": limits.max_bytes,
            "max_pages": limits.max_pages,
            "timeout": limits.timeout,
        }
        # as GROBID's health answer: whether it can work, and on how many documents at once
        state.update(ready=bool(state["workers"]), pool={"maxActive": pool.size})
        return state


def document_routes(app: FastAPI) -> None:
    def limits(request: Request):
        return request.app.state.settings.limits

    @app.post("/api/convert", openapi_extra=DOCUMENT_BODY, responses=REFUSALS)
    async def convert(request: Request, pages: str | None = None):
        """A PDF -> JATS XML (`Accept: application/xml`, the default), the JSON of
        `extract.sh --format json` (`application/json`) or TEI (`application/tei+xml`)."""
        started = time.perf_counter()
        media_type, fmt = negotiate(request.headers.get("accept", ""), CONVERT_TYPES)
        upload = await read_document(request)
        job = Job("convert", upload.data, upload.filename, pages_param(pages), fmt=fmt)
        job = replace(job, max_pages=limits(request).max_pages)
        return await answer_job(request, job, started, media_type)

    @app.post("/api/processHeaderDocument", openapi_extra=DOCUMENT_BODY, responses=REFUSALS)
    async def process_header_document(request: Request):
        """GROBID's header: TEI with title, authors, affiliations, abstract, keywords (the first
        two pages are read). GROBID's form fields are accepted; they change nothing here."""
        started = time.perf_counter()
        upload = await read_document(request)
        job = Job("convert", upload.data, upload.filename, HEADER_PAGES, fmt=TEI_HEADER)
        job = replace(job, max_pages=limits(request).max_pages)
        return await answer_job(request, job, started, TEI_MEDIA_TYPE)

    @app.post("/api/processFulltextDocument", openapi_extra=DOCUMENT_BODY, responses=REFUSALS)
    async def process_fulltext_document(request: Request):
        """GROBID's full text: TEI with the header, the body's sections and the references;
        the form's `start` and `end` choose the pages."""
        started = time.perf_counter()
        upload = await read_document(request)
        job = Job("convert", upload.data, upload.filename, grobid_pages(upload), fmt=TEI)
        job = replace(job, max_pages=limits(request).max_pages)
        return await answer_job(request, job, started, TEI_MEDIA_TYPE)

    @app.post("/api/predict", openapi_extra=DOCUMENT_BODY, responses=REFUSALS)
    async def predict(request: Request, page: int = 1, output: str | None = None):
        """One page image (PNG, JPEG) or one page of a PDF (`page`) -> as predict.sh writes it:
        `output=painted` (the classes' colours), `overlay` (over the page) or `boxes` (JSON;
        also with `Accept: application/json`)."""
        started = time.perf_counter()
        media_type, default_output = negotiate(request.headers.get("accept", ""), PREDICT_TYPES)
        output = output or default_output
        if output not in PREDICT_OUTPUTS:
            raise ServiceError(BAD_REQUEST, f"output={output}: one of {', '.join(PREDICT_OUTPUTS)}")
        upload = await read_document(request, pdf_only=False)
        job = Job("predict", upload.data, upload.filename, output=output, page=page)
        return await answer_job(request, job, started)

    @app.post("/api/view", openapi_extra=DOCUMENT_BODY, responses=REFUSALS)
    async def view(request: Request, pages: str | None = None):
        """What the page at / shows: the fields, each page with its paint, the legend, the
        boxes of each field's words, and the JATS."""
        started = time.perf_counter()
        upload = await read_document(request)
        job = Job("view", upload.data, upload.filename, pages_param(pages))
        job = replace(job, max_pages=limits(request).max_pages)
        return await answer_job(request, job, started)
