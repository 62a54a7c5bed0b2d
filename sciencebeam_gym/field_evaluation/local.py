"""Scoring on this machine: one process per core, each loading the model once.

Each worker is a process of ours that holds one task at a time, so when a worker dies (the OOM
killer's SIGKILL, a crash in native code) only the task it held fails, with the cause; a new
worker takes its place and the other tasks go on. A task still running `hard_limit` seconds
after it was handed out (pdfium stuck in one call, which no time check inside can interrupt)
is stopped the same way. A pool of the standard library breaks as a whole instead: every task
not yet finished fails with BrokenProcessPool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from sciencebeam_gym.field_evaluation.documents import (
    SCORED,
    SKIPPED,
    DocumentResult,
    EvaluationTask,
    Settings,
    evaluate_task,
)

WORKER_DIED = "worker died"
WORKER_STOPPED = "timed out"
# How often the pool looks at the clock for tasks past their hard limit.
POLL_SECONDS = 1.0
# Added to the documents' time limit for the hard limit of a worker's task: the first task of a
# worker also imports TensorFlow and loads the model.
HARD_LIMIT_GRACE = 300.0


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def progress_line(result: DocumentResult) -> str:
    if result.status == SCORED:
        return f"  {result.doc_id}: scored ({result.seconds:.1f} s)"
    detail = f" ({result.detail})" if result.detail else ""
    return f"  {result.doc_id}: skipped, {result.reason}{detail}"


def run_local(
    tasks: list[EvaluationTask],
    settings: Settings,
    workers: int,
    report: Callable[[str], None] = print,
    hard_limit: float | None = None,
) -> list[DocumentResult]:
    """Every task's result, in task order; one worker runs in this process."""
    if workers <= 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            results.append(evaluate_task(task, settings))
            report(progress_line(results[-1]))
        return results
    pool = WorkerPool(settings, min(workers, len(tasks)), hard_limit)
    try:
        return pool.run(tasks, report)
    finally:
        pool.close()


def _serve(connection: Connection, settings: Settings) -> None:
    """A worker: (index, task) in, (index, result) out, until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            message = connection.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        index, task = message
        connection.send((index, evaluate_task(task, settings)))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    index: int | None = None  # the task it holds
    since: float = 0.0


class WorkerPool:
    """Processes that each hold one task; a dead or stuck one is replaced, its task failed."""

    def __init__(self, settings: Settings, size: int, hard_limit: float | None = None):
        # spawn, not fork: TensorFlow and Beam's threads do not survive a fork.
        self.context = multiprocessing.get_context("spawn")
        self.settings, self.size, self.hard_limit = settings, size, hard_limit
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, self.settings), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def run(self, tasks: list[EvaluationTask], report: Callable[[str], None]):
        results: list[DocumentResult | None] = [None] * len(tasks)
        pending = deque(range(len(tasks)))
        self.workers = [self._start() for _ in range(self.size)]
        while pending or any(w.index is not None for w in self.workers):
            for position, worker in enumerate(self.workers):
                if worker.index is None and pending:
                    if not worker.process.is_alive():  # died between two tasks
                        worker.connection.close()
                        worker = self.workers[position] = self._start()
                    worker.index, worker.since = pending.popleft(), time.monotonic()
                    worker.connection.send((worker.index, tasks[worker.index]))
            busy = [w for w in self.workers if w.index is not None]
            ready = wait(
                [w.connection for w in busy] + [w.process.sentinel for w in busy], POLL_SECONDS
            )
            for worker in busy:
                result = self._collect(worker, tasks[worker.index], ready)
                if result is not None:
                    results[worker.index] = result
                    report(progress_line(result))
                    worker.index = None
        return results

    def _collect(self, worker: _Worker, task: EvaluationTask, ready) -> DocumentResult | None:
        """The worker's result when it has one; a failed result (and a new worker) when it died
        or ran past the hard limit; None while it works."""
        if worker.connection in ready:
            with contextlib.suppress(EOFError, OSError):  # EOF: the worker is gone
                return worker.connection.recv()[1]
        if worker.connection in ready or worker.process.sentinel in ready:
            worker.process.join(5)
            if worker.process.is_alive():  # its pipe broke, yet it runs: end it
                worker.process.kill()
                worker.process.join(5)
            return self._replace(worker, task, WORKER_DIED, _death(worker.process.exitcode))
        if self.hard_limit and time.monotonic() - worker.since > self.hard_limit:
            worker.process.kill()
            worker.process.join(5)
            detail = f"still running after {self.hard_limit:g} s: the worker was stopped"
            return self._replace(worker, task, WORKER_STOPPED, detail)
        return None

    def _replace(self, worker: _Worker, task: EvaluationTask, reason: str, detail: str):
        worker.connection.close()
        self.workers[self.workers.index(worker)] = self._start()
        return DocumentResult(task.doc_id, SKIPPED, reason, detail)

    def close(self) -> None:
        """Stop every worker: asked first, killed when it does not answer."""
        for worker in self.workers:
            with contextlib.suppress(OSError, ValueError):
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(2 if worker.index is None else 0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
            worker.connection.close()
        self.workers = []


def _death(exitcode: int | None) -> str:
    """How a worker ended, in words: a signal (9 is what the OOM killer sends) or a status."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"killed by {name}{hint} while on this document"
    return f"exited with status {exitcode} while on this document"
