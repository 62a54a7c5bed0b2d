"""The limits, each against a real server: a body over --max_bytes (declared or chunked), bad
PDFs with extract.sh's reason words, too many pages, a page bomb, work past --timeout (its worker
killed), a full queue (503, Retry-After) and clients that leave mid-upload or while waiting.
After each the server answers, and its temporary folder holds no file the request left."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import threading
import time

import httpx
import pypdfium2 as pdfium
import pytest

from tests.generate.factory import pdf_bytes
from tests.service.conftest import TIGHT_MAX_BYTES, TIGHT_MAX_PAGES, TIGHT_TIMEOUT

GIANT_POINTS = 14400  # 200 inches: 400 megapixels at 100 dpi, rendered within the pixel cap


def blank_pdf(pages: int, width: float = 612, height: float = 792) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def giant_pdf(pages: int) -> bytes:
    """Pages of 200 x 200 inches with a word on each (text: the extraction reads words, not
    the painted regions of a scan)."""
    return pdf_bytes([(72, 700, 10, "giant")], pages=pages, page_size=(GIANT_POINTS,) * 2)


def slow_pdf() -> bytes:
    """Work that outlasts the tight server's --timeout: pages rendered at the pixel cap, one
    after the other (over 0.1 s each even on an idle machine: 60 take several seconds)."""
    return giant_pdf(TIGHT_MAX_PAGES)


def raw_exchange(server, head: str, parts: list[bytes], read: bool = True) -> bytes:
    """Send a request by hand (head and body parts) and read the answer until the server closes
    or 10 s pass; with read=False, close the connection after sending."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head.encode("latin-1"))
        for part in parts:
            connection.sendall(part)
        if not read:
            return b""
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and answer.split(b"\r\n\r\n", 1)[1].endswith(b"}"):
                    break
        except TimeoutError:
            pass
        return answer


def post_head(path: str, headers: dict[str, str]) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n"


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def json_of(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


@pytest.fixture
def tight(tight_server):
    """The tight server, idle; after the test: still answering, no file left in its TMPDIR."""
    tight_server.wait_idle()
    before = tight_server.temp_files()
    yield tight_server
    assert tight_server.client.get("/api/isalive").text == "true"
    tight_server.wait_idle()
    assert tight_server.temp_files() == before


def test_a_declared_body_over_max_bytes_is_refused_before_it_is_sent(tight):
    head = post_head(
        "/api/convert",
        {"Content-Type": "application/pdf", "Content-Length": str(5 * TIGHT_MAX_BYTES)},
    )
    started = time.monotonic()
    answer = raw_exchange(tight, head, [b"%PDF-1.4\n" + b"0" * 65536])
    assert status_of(answer) == 413, answer[:300]
    assert json_of(answer)["reason"] == "request too large"
    assert "--max_bytes" in json_of(answer)["detail"]
    assert time.monotonic() - started < 5  # not waiting for the 5 MiB that never came


def test_a_chunked_body_is_refused_once_it_passes_max_bytes(tight):
    head = post_head(
        "/api/convert", {"Content-Type": "application/pdf", "Transfer-Encoding": "chunked"}
    )
    chunk = b"0" * (256 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # a little over the limit is sent; the 8 MiB the client meant to send never are
    sent = [framed] * (TIGHT_MAX_BYTES // len(chunk) + 1)
    answer = raw_exchange(tight, head, sent)
    assert status_of(answer) == 413, answer[:300]
    assert json_of(answer)["reason"] == "request too large"


@pytest.mark.parametrize(
    ("name", "data", "status", "reason"),
    [
        ("no pages", blank_pdf(0), 400, "corrupt PDF"),
        ("not a PDF", b"Dear editor, please find our paper attached.", 400, "corrupt PDF"),
        ("truncated", pdf_bytes([(72, 700, 10, "x")])[:200], 400, "corrupt PDF"),
        ("encrypted", pdf_bytes([(72, 700, 10, "secret")], encrypt=True), 422, "encrypted PDF"),
    ],
)
def test_unusable_pdfs_get_extract_sh_reason_words(tight, name, data, status, reason):
    for answer in (
        tight.client.post("/api/convert", content=data),
        tight.client.post("/api/processHeaderDocument", files={"input": (name, data)}),
    ):
        assert (answer.status_code, answer.json()["reason"]) == (status, reason), name


def test_an_empty_upload_is_a_400(tight):
    answer = tight.client.post("/api/processFulltextDocument", files={"input": ("e.pdf", b"")})
    assert (answer.status_code, answer.json()["reason"]) == (400, "empty PDF")
    answer = tight.client.post("/api/convert", files={"other": ("x.pdf", b"%PDF")})
    assert (answer.status_code, answer.json()["reason"]) == (400, "no input")


def test_more_pages_than_max_pages_is_a_422_unless_fewer_are_asked_for(tight):
    data = pdf_bytes([(72, 700, 10, "page text")], pages=TIGHT_MAX_PAGES + 1)
    answer = tight.client.post("/api/convert", content=data)
    assert (answer.status_code, answer.json()["reason"]) == (422, "too many pages")
    assert "--max_pages" in answer.json()["detail"]
    assert tight.client.post("/api/convert?pages=1-2", content=data).status_code == 200


def test_a_page_bomb_is_read_within_the_pixel_cap(tight):
    pid = tight.health()["workers"][0]["pid"]
    answer = tight.client.post("/api/convert", content=giant_pdf(1))
    assert answer.status_code == 200
    assert tight.health()["workers"][0]["pid"] == pid  # done in time, not killed


def process_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_work_past_the_timeout_is_a_504_and_its_worker_is_killed(tight):
    pid = tight.health()["workers"][0]["pid"]
    started = time.monotonic()
    answer = tight.client.post("/api/convert", content=slow_pdf())
    seconds = time.monotonic() - started
    assert (answer.status_code, answer.json()["reason"]) == (504, "timeout")
    assert TIGHT_TIMEOUT <= seconds < TIGHT_TIMEOUT + 3
    state = tight.wait_idle()
    assert state["workers"][0]["pid"] != pid
    assert not process_exists(pid)
    assert state["counts"]["workers_replaced"] >= 1
    assert (
        tight.client.post("/api/convert", content=pdf_bytes([(72, 700, 10, "small")])).status_code
        == 200
    )


def post_in_background(server, data: bytes) -> tuple[threading.Thread, list]:
    answers: list = []

    def post():
        answers.append(httpx.post(f"{server.url}/api/convert", content=data, timeout=60))

    thread = threading.Thread(target=post)
    thread.start()
    return thread, answers


def wait_for(server, check, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = server.health()
        if check(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s: {server.health()}")


def test_a_full_queue_is_a_503_with_retry_after(tight):
    first, first_answer = post_in_background(tight, slow_pdf())
    wait_for(tight, lambda s: s["workers"][0]["busy"])
    second, second_answer = post_in_background(tight, slow_pdf())
    wait_for(tight, lambda s: s["waiting"] == 1)
    started = time.monotonic()
    refused = tight.client.post("/api/convert", content=pdf_bytes([(72, 700, 10, "small")]))
    assert time.monotonic() - started < 2  # at once, not after waiting
    assert (refused.status_code, refused.json()["reason"]) == (503, "busy")
    assert int(refused.headers["Retry-After"]) >= 1
    first.join(30)
    second.join(30)
    assert [a.status_code for a in first_answer + second_answer] == [504, 504]


def test_a_client_that_leaves_mid_upload_costs_nothing(tight):
    gone_before = tight.health()["counts"].get("client_disconnected", 0)
    head = post_head(
        "/api/convert", {"Content-Type": "application/pdf", "Content-Length": "500000"}
    )
    raw_exchange(tight, head, [b"%PDF-1.4\n" + b"0" * 100_000], read=False)
    state = wait_for(tight, lambda s: s["counts"].get("client_disconnected", 0) > gone_before)
    assert state["waiting"] == 0 and not state["workers"][0]["busy"]
    assert (
        tight.client.post("/api/convert", content=pdf_bytes([(72, 700, 10, "small")])).status_code
        == 200
    )


def test_a_client_that_leaves_while_waiting_is_dropped_from_the_queue(tight):
    first, first_answer = post_in_background(tight, slow_pdf())
    wait_for(tight, lambda s: s["workers"][0]["busy"])
    data = pdf_bytes([(72, 700, 10, "waiting")])
    head = post_head(
        "/api/convert", {"Content-Type": "application/pdf", "Content-Length": str(len(data))}
    )
    with socket.create_connection(("127.0.0.1", tight.port), timeout=10) as connection:
        connection.sendall(head.encode() + data)
        wait_for(tight, lambda s: s["waiting"] == 1)
    state = wait_for(tight, lambda s: s["waiting"] == 0)
    assert state["workers"][0]["busy"]  # the first request's work goes on
    first.join(30)
    assert first_answer[0].status_code == 504


def test_a_body_that_does_not_arrive_in_time_is_a_408(tight):
    head = post_head("/api/convert", {"Content-Type": "application/pdf", "Content-Length": "1000"})
    started = time.monotonic()
    answer = raw_exchange(tight, head, [b"%PDF-1.4\n"])  # and the other 991 bytes never come
    assert (status_of(answer), json_of(answer)["reason"]) == (408, "timeout")
    assert TIGHT_TIMEOUT <= time.monotonic() - started < TIGHT_TIMEOUT + 3


def test_a_worker_that_dies_is_a_500_and_is_replaced(tight):
    pid = tight.health()["workers"][0]["pid"]
    thread, answers = post_in_background(tight, slow_pdf())
    wait_for(tight, lambda s: s["workers"][0]["busy"])
    os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    thread.join(30)
    assert (answers[0].status_code, answers[0].json()["reason"]) == (500, "worker stopped")
    state = tight.wait_idle()
    assert state["workers"][0]["pid"] != pid
    assert (
        tight.client.post("/api/convert", content=pdf_bytes([(72, 700, 10, "x")])).status_code
        == 200
    )


def test_a_worker_that_died_while_idle_is_replaced_before_it_is_given_work(tight):
    pid = tight.health()["workers"][0]["pid"]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    answer = tight.client.post("/api/convert", content=pdf_bytes([(72, 700, 10, "x")]))
    assert answer.status_code == 200  # waited for the new worker instead of failing
    assert tight.wait_idle()["workers"][0]["pid"] != pid
