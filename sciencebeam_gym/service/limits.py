"""What a request may cost, and the answer when it asks too much or sends something unusable.

Every refusal is a `ServiceError`: an HTTP status, a short reason (extract.sh's words for a bad
PDF: "encrypted PDF", "corrupt PDF", "empty PDF", ...; the service's own for its limits) and a
detail naming what was wrong and the flag that sets the limit. The body is read with
`read_body`, which stops at `--max_bytes` instead of reading the rest.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sciencebeam_gym.document.pdf import (
    CORRUPT_PDF,
    DEFAULT_MAX_PAGE_PIXELS,
    EMPTY_PDF,
    ENCRYPTED_PDF,
    UNRENDERABLE_PAGE,
)
from sciencebeam_gym.page_image import (
    EMPTY_FILE,
    IMAGE_TOO_LARGE,
    NOT_AN_IMAGE,
    TRUNCATED_IMAGE,
    UNSUPPORTED_IMAGE,
)

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MIB
DEFAULT_MAX_PAGES = 200
DEFAULT_TIMEOUT = 60.0
DEFAULT_WORKERS = 1

# The service's own reasons, beside extract.sh's.
TOO_LARGE = "request too large"
TOO_MANY_PAGES = "too many pages"
TIMED_OUT = "timeout"
BUSY = "busy"
NO_INPUT = "no input"
BAD_REQUEST = "bad request"
NOT_ACCEPTABLE = "not acceptable"
WORKER_STOPPED = "worker stopped"
INTERNAL = "internal error"
PAGE_OUT_OF_RANGE = "page out of range"  # extract/document.py's word

# 400: the request is not what the endpoint takes (no PDF at all, broken bytes);
# 422: a well-formed request whose document cannot be processed.
STATUS_BY_REASON = {
    CORRUPT_PDF: 400,
    EMPTY_FILE: 400,
    NOT_AN_IMAGE: 400,
    TRUNCATED_IMAGE: 400,
    NO_INPUT: 400,
    BAD_REQUEST: 400,
    EMPTY_PDF: 422,
    ENCRYPTED_PDF: 422,
    UNRENDERABLE_PAGE: 422,
    PAGE_OUT_OF_RANGE: 422,
    TOO_MANY_PAGES: 422,
    IMAGE_TOO_LARGE: 422,
    UNSUPPORTED_IMAGE: 422,
    TOO_LARGE: 413,
    NOT_ACCEPTABLE: 406,
    TIMED_OUT: 504,
    BUSY: 503,
    WORKER_STOPPED: 500,
    INTERNAL: 500,
}


class ServiceError(Exception):
    """A request refused: status, short reason, and a detail that says what to do."""

    def __init__(self, reason: str, detail: str, status: int | None = None, headers=None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.status = status or STATUS_BY_REASON.get(reason, 422)
        self.headers = dict(headers or {})

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Limits:
    """The limits of one server (the flags of serve.sh)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS
    timeout: float = DEFAULT_TIMEOUT


SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}


def parse_size(text: str) -> int:
    """'50MB', '50M', '512k', '1048576' -> bytes (binary units: 1 MB = 1 MiB)."""
    match = SIZE_RE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a size such as 50MB, 512k or 1048576")
    unit = (match.group(2) or "").lower()[:1]
    return int(float(match.group(1)) * SIZE_UNITS[unit])


def too_large(limit: int, length: int | None = None) -> ServiceError:
    said = f"{length} bytes" if length is not None else "the body"
    return ServiceError(
        TOO_LARGE,
        f"{said} is over the limit of {limit} bytes (--max_bytes); send a smaller file, "
        "or start the server with a larger --max_bytes",
    )


def declared_length(headers) -> int | None:
    """Content-Length as a number, None when absent; ServiceError when it is not a number."""
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ServiceError(BAD_REQUEST, f"Content-Length {value!r} is not a number")
    return int(value)


async def read_body(request, limit: int, timeout: float) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `limit`: at once when
    Content-Length says so, else when the bytes received pass it; the rest is never read.
    A body that takes longer than `timeout` to arrive is refused (408)."""
    length = declared_length(request.headers)
    if length is not None and length > limit:
        raise too_large(limit, length)

    async def receive_all() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(receive_all(), timeout)
    except asyncio.TimeoutError as error:
        raise ServiceError(
            TIMED_OUT, f"the body did not arrive within {timeout:g} s (--timeout)", status=408
        ) from error
