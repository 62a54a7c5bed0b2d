"""The HTTP API: extract.sh's extraction and predict.sh's painting, GROBID's paths, and a page.

    pool = settings.pool(); await pool.start()
    app = create_app(settings, pool)       # cli.serve runs it on uvicorn

Every document endpoint reads its body within --max_bytes, takes the PDF as the body itself or
as a multipart `input` (or `file`) part, hands the work to the worker pool and answers with the
work's timings in `Server-Timing` (render, model, text, assembly, queue, total; milliseconds).
Refusals are JSON `{"status", "reason", "detail"}` with extract.sh's reason words. The pool is
started by the caller (the model loads before the server listens) and stopped with the app.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.requests import ClientDisconnect

from sciencebeam_gym import __version__
from sciencebeam_gym.service.limits import Limits, ServiceError
from sciencebeam_gym.service.pool import DEFAULT_LOADER, WorkerPool, WorkerSpec
from sciencebeam_gym.service.routes import STATIC, document_routes, plain_routes

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSettings:
    """One server: its model and how it is loaded, its workers and queue, its limits."""

    model: str
    loader: str = DEFAULT_LOADER
    dpi: float | None = None  # the model's own (its training pages')
    workers: int = 1
    queue: int = 2
    threads: int = 0
    limits: Limits = field(default_factory=Limits)

    def pool(self) -> WorkerPool:
        spec = WorkerSpec(self.model, self.loader, self.dpi, self.threads)
        return WorkerPool(spec, self.workers, self.queue)


def create_app(settings: ServiceSettings, pool: WorkerPool) -> FastAPI:
    """The app over a started pool; the pool stops when the server shuts down (before uvicorn
    hands a Ctrl-C back to Python)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await pool.stop()

    # FastAPIOffline: the API docs' Swagger UI served from the package, not a CDN (offline)
    app = FastAPIOffline(
        lifespan=lifespan,
        static_url="/api/docs-static",
        title="ScienceBeam Gym",
        version=__version__,
        description="PDF -> JATS / TEI / JSON with a trained page-structure model, "
        "GROBID's paths, and painted pages.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.pool = pool
    app.add_exception_handler(ServiceError, service_error_response)
    app.add_exception_handler(ClientDisconnect, client_gone_response)
    plain_routes(app)
    document_routes(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


async def service_error_response(request: Request, error: ServiceError) -> Response:
    if error.status >= 500 and error.status != 503:  # a full queue is no fault, and frequent
        LOGGER.warning("%s %s: %s", request.method, request.url.path, error.detail)
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers)


async def client_gone_response(request: Request, _error: ClientDisconnect) -> Response:
    """The client left (mid-upload, or while its work waited): counted; the answer goes
    nowhere."""
    request.app.state.pool.counts["client_disconnected"] += 1
    LOGGER.info("%s %s: the client left before its answer", request.method, request.url.path)
    return Response(status_code=400)
