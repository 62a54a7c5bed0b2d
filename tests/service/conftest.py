"""Real servers for the service's tests: `python -m sciencebeam_gym.service.cli` on a free
loopback port, each with its own temporary folder (TMPDIR) so a test can see that no request
leaves a file behind.

- `tf_server`: the tiny exported TensorFlow model (real model loading in a worker process);
- `oracle_server`: the oracle labeller (tests/service/oracle.py) on real articles: real titles;
- `tight_server`: the oracle with small limits, for timeouts, a full queue and large bodies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.extract.pages import Text, make_pdf, painted, paragraph
from tests.service.oracle import paint_answers, painted_answers

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_PDFS = REPO_ROOT.parent / "shared" / "data" / "pdf-jats"
# Real articles whose first two pages the oracle knows (four publishers' layouts).
ORACLE_STEMS = ("plos-pone-0115884", "PMC4521097", "mdpi-metabo4040932", "PMC4736012")
ORACLE_LOADER = "tests.service.oracle:load_oracle"
START_SECONDS = 300  # TensorFlow's import on a busy machine

# A made-up article whose painted classes the oracle knows (whether or not the shared data is
# there): a title, authors, an abstract, sections, references, over three pages.
SYNTHETIC_PAGES = [
    [
        Text(72, 80, 20, "Frogs Give Birth", "manuscript_title"),
        Text(72, 110, 11, "Ann Lee, Bob Ray", "author"),
        Text(72, 130, 9, "Uni X, Oslo", "author_aff"),
        *paragraph(72, 160, ["Abstract", "Frogs were seen."], "abstract"),
        Text(72, 220, 12, "Introduction", "section_title"),
        *paragraph(72, 240, ["Frogs are many."], "section_paragraph"),
    ],
    [*paragraph(72, 80, ["1. Lee A. Frogs. 2001.", "2. Ray B. Toads. 2002."], "reference")],
    [
        Text(72, 80, 12, "Methods", "section_title"),
        *paragraph(72, 100, ["We counted frogs."], "section_paragraph"),
    ],
]
SYNTHETIC_PDF = make_pdf(SYNTHETIC_PAGES)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A running server: its URL, its process, its temporary folder and its log."""

    def __init__(self, url: str, process: subprocess.Popen, temp: Path, log: Path):
        self.url = url
        self.process = process
        self.temp = temp
        self.log = log
        self.port = int(url.rsplit(":", 1)[1])
        self.client = httpx.Client(base_url=url, timeout=120)

    def health(self) -> dict:
        return self.client.get("/api/health").json()

    def temp_files(self) -> set[str]:
        return {str(p.relative_to(self.temp)) for p in self.temp.rglob("*")}

    def wait_idle(self, seconds: float = START_SECONDS) -> dict:
        """Wait until every worker is up and free and nothing waits (after a worker was killed,
        its replacement loads the model)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = self.health()
            workers = state["workers"]
            if (
                len(workers) == state["pool"]["maxActive"]
                and not state["starting"]
                and not state["waiting"]
                and not any(w["busy"] for w in workers)
            ):
                return state
            time.sleep(0.2)
        raise AssertionError(f"the server did not become idle: {self.health()}")

    def log_tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def running_server(args: list[str], folder: Path):
    """Start the service with these arguments and wait until it answers; stop it after."""
    temp = folder / "tmp"
    temp.mkdir(parents=True)
    log = folder / "server.log"
    port = free_port()
    env = dict(os.environ, TMPDIR=str(temp), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    command = [sys.executable, "-m", "sciencebeam_gym.service.cli", "--port", str(port), *args]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", process, temp, log)
    try:
        wait_until_answering(server)
        yield server
    finally:
        server.client.close()
        stop(process)


def wait_until_answering(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server stopped:\n{server.log_tail()}")
        try:
            if server.client.get("/api/isalive", timeout=2).text == "true":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer in {START_SECONDS} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C, as a person would; killed if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def oracle_articles() -> list[tuple[Path, Path]]:
    return [
        (SHARED_PDFS / f"{stem}.pdf", SHARED_PDFS / f"{stem}.xml")
        for stem in ORACLE_STEMS
        if (SHARED_PDFS / f"{stem}.pdf").exists() and (SHARED_PDFS / f"{stem}.xml").exists()
    ]


def need_articles() -> list[tuple[Path, Path]]:
    articles = oracle_articles()
    if not articles:
        pytest.skip(f"{SHARED_PDFS} holds none of the real articles {ORACLE_STEMS}")
    return articles


@pytest.fixture(scope="session")
def answers(tmp_path_factory) -> Path:
    """The oracle's answers: the synthetic article's pages, and the first two pages of the real
    articles there are."""
    path = tmp_path_factory.mktemp("oracle") / "answers.npz"
    known = painted_answers(SYNTHETIC_PDF, painted(SYNTHETIC_PAGES))
    paint_answers(oracle_articles(), (1, 2), path, known)
    return path


@pytest.fixture(scope="session")
def oracle_server(tmp_path_factory, answers):
    folder = tmp_path_factory.mktemp("oracle-server")
    args = ["--model", str(answers), "--loader", ORACLE_LOADER, "--workers", "1", "--queue", "4"]
    with running_server(args, folder) as server:
        yield server


TIGHT_TIMEOUT = 2.5
TIGHT_MAX_BYTES = 1024 * 1024
TIGHT_MAX_PAGES = 60


@pytest.fixture(scope="session")
def tight_server(tmp_path_factory, answers):
    """One worker, one place in the queue, 2.5 s per request, 1 MiB bodies, 60 pages."""
    folder = tmp_path_factory.mktemp("tight-server")
    args = [
        *("--model", str(answers), "--loader", ORACLE_LOADER, "--workers", "1", "--queue", "1"),
        *("--timeout", str(TIGHT_TIMEOUT), "--max_bytes", str(TIGHT_MAX_BYTES)),
        *("--max_pages", str(TIGHT_MAX_PAGES)),
    ]
    with running_server(args, folder) as server:
        yield server


@pytest.fixture(scope="session")
def tf_server(tmp_path_factory, tiny_export):
    folder = tmp_path_factory.mktemp("tf-server")
    with running_server(["--model", str(tiny_export), "--workers", "1"], folder) as server:
        yield server
