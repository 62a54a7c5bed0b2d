"""serve.sh and its module: help without TensorFlow, a missing or unloadable model named with
what to do, the warning for a public interface; and the small parsers of the requests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sciencebeam_gym.service.cli import is_loopback
from sciencebeam_gym.service.forms import read_upload
from sciencebeam_gym.service.handling import accepted_types, grobid_pages, negotiate
from sciencebeam_gym.service.limits import ServiceError, parse_size
from tests.service.conftest import ORACLE_LOADER, REPO_ROOT


def run_serve(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "GYM_QUIET": "true", "HOME": str(REPO_ROOT)}
    return subprocess.run(
        [str(REPO_ROOT / "serve.sh"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_answers_without_importing_tensorflow():
    code = (
        "import sys\nfrom sciencebeam_gym.service.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules, 'fastapi' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert "--max_bytes" in result.stdout and "--workers" in result.stdout
    assert result.stdout.strip().endswith("False False")


def test_no_model_says_what_to_run(tmp_path):
    result = run_serve("--model", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert f"no model at {tmp_path / 'nothing'}" in result.stderr
    assert "./save-model.sh" in result.stderr


def test_a_model_that_does_not_load_stops_the_server_before_it_listens(tmp_path):
    broken = tmp_path / "answers.npz"
    broken.write_bytes(b"not an npz file")
    result = run_serve("--model", str(broken), "--loader", ORACLE_LOADER, "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "warning: listening on 0.0.0.0" in result.stderr and "no authentication" in result.stderr
    assert f"error: the model {broken} does not load" in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_loopback_hosts():
    assert [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org")] == [False] * 4


def test_sizes():
    assert [parse_size(t) for t in ("50MB", "50M", "512k", "1048576", "1.5g")] == [
        50 * 2**20,
        50 * 2**20,
        512 * 2**10,
        2**20,
        int(1.5 * 2**30),
    ]
    with pytest.raises(ValueError, match="50MB"):
        parse_size("fifty")


def test_accept_headers_are_read_by_quality():
    assert accepted_types("text/html;q=0.5, application/json, */*;q=0") == [
        "application/json",
        "text/html",
    ]
    offers = {"application/xml": "jats", "application/json": "json"}
    assert negotiate("", offers) == ("application/xml", "jats")
    assert negotiate("application/json;q=0.9, application/xml", offers)[1] == "jats"
    assert negotiate("image/png, */*;q=0.1", offers)[1] == "jats"
    with pytest.raises(ServiceError) as refused:
        negotiate("image/png", offers)
    assert refused.value.status == 406


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data
        body += b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_a_form_gives_its_input_part_and_its_fields():
    body = multipart(
        [
            ("consolidateHeader", None, b"1"),
            ("input", "paper.pdf", b"%PDF-1.4 data\r\n--not a boundary"),
            ("teiCoordinates", None, b"persName"),
            ("teiCoordinates", None, b"ref"),
        ]
    )
    upload = read_upload(body, "multipart/form-data; boundary=b0undary")
    assert (upload.data, upload.filename) == (b"%PDF-1.4 data\r\n--not a boundary", "paper.pdf")
    assert upload.fields == {"consolidateHeader": ["1"], "teiCoordinates": ["persName", "ref"]}
    assert read_upload(b"%PDF raw", "application/pdf").data == b"%PDF raw"
    for bad, reason in [(multipart([("x", None, b"1")]), "no input"), (b"junk", "bad request")]:
        with pytest.raises(ServiceError) as refused:
            read_upload(bad, "multipart/form-data; boundary=b0undary")
        assert (refused.value.status, refused.value.reason) == (400, reason)


def test_grobid_start_and_end_choose_the_pages():
    def pages(**fields):
        body = multipart(
            [("input", "a.pdf", b"%PDF")] + [(k, None, v.encode()) for k, v in fields.items()]
        )
        return grobid_pages(read_upload(body, "multipart/form-data; boundary=b0undary"))

    assert [pages().select(9), pages(start="-1", end="-1").select(9)] == [list(range(1, 10))] * 2
    assert pages(start="2", end="4").select(9) == [2, 3, 4]
    assert pages(start="3").select(9) == list(range(3, 10))
    assert pages(end="2").select(9) == [1, 2]
    with pytest.raises(ServiceError):
        pages(start="5", end="2")
