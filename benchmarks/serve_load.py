"""Load on ./serve.sh's service, beside in-process extraction measured in the same run.

    .venv/bin/python benchmarks/serve_load.py                    # .models/pix2pix/v4-default/export
    .venv/bin/python benchmarks/serve_load.py --model PATH --workers 1 --seconds 60

Every request is a first page, `POST /api/convert?pages=1` with a PDF of --source as its body,
sent by clients on loopback (threads, one keep-alive connection each; a client refused with
503 waits the Retry-After the server gives, at most --retry_cap seconds). In one run:
- `baseline_in_process`: extract_document(pdf, model, [1]) in this process, PDFs/s, measured
  before the server starts and again after it stops (a busy machine's load drifts; the mean);
- `idle`: one request at a time on the idle server: latency p50 / p95 / p99 (target p95 < 1 s);
- `load`: --clients clients (default workers + queue) for --seconds or --requests: PDFs/s,
  latency, answers by status; its ratio to the in-process rate (target >= 0.8);
- `overload`: 4 x (workers + queue) clients for --seconds: answers by status and connections
  dropped (target: no error but 503, nothing dropped);
- `memory`: RSS of the server and its workers before and after --leak_requests requests
  (target: growth < 10 %).
Without --model and without the configured export, a model of the quick preset's shape with
untrained weights is exported to a temporary folder (speed does not depend on the weights).
Prints one JSON object; say whether the machine was busy when you quote it.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import pathlib
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
DEFAULT_SOURCE = os.path.join(REPO_ROOT, "..", "shared", "data", "pdf-jats")
DEFAULT_MODEL = os.path.join(REPO_ROOT, ".models", "pix2pix", "v4-default", "export")
PATH = "/api/convert?pages=1"
OVERLOAD_FACTOR = 4
DROPPED = "dropped"  # a connection closed or reset without an answer


def percentiles(latencies: list[float]) -> dict:
    if not latencies:
        return {}
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

    return {"p50_s": at(0.50), "p95_s": at(0.95), "p99_s": at(0.99), "max_s": round(ordered[-1], 3)}


class Client(threading.Thread):
    """Posts the PDFs in turn until the phase stops or its count of requests runs out."""

    def __init__(self, port: int, documents: list[bytes], state: dict, retry_cap: float):
        super().__init__(daemon=True)
        self.port, self.documents, self.state, self.retry_cap = port, documents, state, retry_cap
        self.results: list[tuple[str, float]] = []  # (status or DROPPED, seconds)
        self.connection = None

    def post(self, data: bytes) -> tuple[str, float, float]:
        """(status, seconds, Retry-After) of one request; DROPPED when the connection broke."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        started = time.perf_counter()
        try:
            self.connection.request("POST", PATH, data, {"Content-Type": "application/pdf"})
            response = self.connection.getresponse()
            response.read()
            retry = float(response.headers.get("Retry-After") or 0)
            return str(response.status), time.perf_counter() - started, retry
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            return DROPPED, time.perf_counter() - started, 0.0

    def take(self) -> bool:
        with self.state["lock"]:
            if self.state["stop"] or self.state["left"] <= 0:
                return False
            self.state["left"] -= 1
            return True

    def run(self) -> None:
        index = 0
        while self.take():
            status, seconds, retry = self.post(self.documents[index % len(self.documents)])
            self.results.append((status, seconds))
            index += 1
            if status == "503":
                time.sleep(min(retry, self.retry_cap))
        if self.connection is not None:
            self.connection.close()


def drive(port: int, documents: list[bytes], clients: int, seconds: float, requests: int, cap):
    """`clients` clients for at most `seconds` and `requests`; every (status, latency)."""
    state = {"stop": False, "left": requests, "lock": threading.Lock()}
    workers = [Client(port, documents, state, cap) for _ in range(clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    deadline = started + seconds
    while any(w.is_alive() for w in workers) and time.perf_counter() < deadline:
        time.sleep(0.05)
    state["stop"] = True
    for worker in workers:
        worker.join()
    return [r for w in workers for r in w.results], time.perf_counter() - started


def summary(results: list[tuple[str, float]], seconds: float, clients: int) -> dict:
    statuses = Counter(status for status, _ in results)
    done = [latency for status, latency in results if status == "200"]
    return {
        "clients": clients,
        "requests": len(results),
        "seconds": round(seconds, 2),
        "pdfs_per_sec": round(len(done) / seconds, 3),
        **percentiles(done),
        "statuses": dict(sorted(statuses.items())),
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (the server and its workers)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = pathlib.Path(f"/proc/{current}/status").read_text()
            total += int(
                next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
            )
            for task in pathlib.Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return round(total / 1024, 1)


def baseline(documents: list[bytes], model, seconds: float) -> dict:
    """In-process extraction of first pages, repeated over the PDFs for about `seconds`."""
    from sciencebeam_gym.extract import extract_document

    extract_document(documents[0], model, [1])  # warm-up: graph tracing, caches
    done, started = 0, time.perf_counter()
    while done < len(documents) or time.perf_counter() - started < seconds:
        extract_document(documents[done % len(documents)], model, [1])
        done += 1
    elapsed = time.perf_counter() - started
    return {
        "documents": done,
        "seconds": round(elapsed, 2),
        "pdfs_per_sec": round(done / elapsed, 3),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(model: str, port: int, args: argparse.Namespace) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "sciencebeam_gym.service.cli", "--model", model,
        "--port", str(port), "--workers", str(args.workers), "--queue", str(args.queue),
        "--timeout", str(args.timeout),
    ]  # fmt: skip
    log = open(os.path.join(tempfile.gettempdir(), f"serve-load-{port}.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: the server stopped; see {log.name}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/isalive")
            if connection.getresponse().read() == b"true":
                return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"error: the server did not answer in 300 s; see {log.name}")


def fresh_export(folder: str) -> str:
    sys.path.insert(0, HERE)
    from extract_throughput import fresh_export as export

    return export(folder)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="", help="an export (default: the configured one)")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="a folder of PDFs")
    parser.add_argument("--workers", type=int, default=1, help="the server's worker processes")
    parser.add_argument("--queue", type=int, default=-1, help="its queue (default 2 x workers)")
    parser.add_argument("--timeout", type=float, default=60.0, help="its --timeout")
    parser.add_argument("--clients", type=int, default=0, help="load clients (workers + queue)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of load and overload")
    parser.add_argument("--requests", type=int, default=2000, help="most requests per phase")
    parser.add_argument("--idle_requests", type=int, default=30, help="idle-latency requests")
    parser.add_argument("--leak_requests", type=int, default=1000, help="requests between RSS")
    parser.add_argument("--baseline_seconds", type=float, default=30.0, help="in-process run")
    parser.add_argument("--retry_cap", type=float, default=2.0, help="longest wait after a 503")
    args = parser.parse_args(argv)
    args.queue = 2 * args.workers if args.queue < 0 else args.queue
    args.clients = args.clients or args.workers + args.queue
    return args


def run_phases(server, port: int, documents: list[bytes], args) -> dict:
    cap = args.retry_cap
    idle, _ = drive(port, documents, 1, 600, args.idle_requests, cap)
    result = {"idle": {"requests": len(idle), **percentiles([t for s, t in idle if s == "200"])}}
    rss_start = rss_mib(server.pid)
    results, seconds = drive(port, documents, args.clients, args.seconds, args.requests, cap)
    result["load"] = summary(results, seconds, args.clients)
    crowd = OVERLOAD_FACTOR * (args.workers + args.queue)
    results, seconds = drive(port, documents, crowd, args.seconds, args.requests, cap)
    result["overload"] = summary(results, seconds, crowd)
    between = result["load"]["requests"] + result["overload"]["requests"]
    more, _ = drive(port, documents, args.clients, 3600, max(0, args.leak_requests - between), cap)
    between += len(more)
    rss_end = rss_mib(server.pid)
    result["memory"] = {
        "requests_between": between,
        "rss_start_mib": rss_start,
        "rss_end_mib": rss_end,
        "growth_pct": round(100 * (rss_end - rss_start) / rss_start, 2),
    }
    return result


def targets(result: dict) -> dict:
    errors = {s for s in result["overload"]["statuses"] if s not in ("200", "503")}
    return {
        "throughput_ratio_at_least_0.8": result["load"]["ratio_to_in_process"] >= 0.8,
        "overload_only_503_errors": not errors,
        "rss_growth_under_10_pct": result["memory"]["growth_pct"] < 10,
        "idle_first_page_p95_under_1_s": result["idle"].get("p95_s", 99) < 1.0,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.source, "*.pdf")))
    if not paths:
        raise SystemExit(f"error: no PDF in {args.source} (--source)")
    documents = [pathlib.Path(p).read_bytes() for p in paths]
    with tempfile.TemporaryDirectory(prefix="serve-load-") as folder:
        model = args.model or (DEFAULT_MODEL if os.path.exists(DEFAULT_MODEL) else "")
        model = model or fresh_export(folder)
        from sciencebeam_gym.extract import load_model

        labeller = load_model(model)
        before = baseline(documents, labeller, args.baseline_seconds)
        port = free_port()
        server = start_server(model, port, args)
        try:
            result = run_phases(server, port, documents, args)
        finally:
            server.terminate()
            server.wait(60)
        # the machine's load drifts: the in-process rate is measured before and after the server
        after = baseline(documents, labeller, args.baseline_seconds)
    in_process = round((before["pdfs_per_sec"] + after["pdfs_per_sec"]) / 2, 3)
    result = {
        "baseline_in_process": {"before": before, "after": after, "pdfs_per_sec": in_process},
        **result,
    }
    result["load"]["ratio_to_in_process"] = round(result["load"]["pdfs_per_sec"] / in_process, 3)
    result["targets"] = targets(result)
    result["settings"] = {
        "model": model
        if args.model or model == DEFAULT_MODEL
        else "fresh quick-preset shape (untrained)",
        "source": os.path.abspath(args.source),
        "pdfs": len(documents),
        "request": f"POST {PATH} (first page, PDF as the body)",
        "workers": args.workers,
        "queue": args.queue,
        "cpus": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
