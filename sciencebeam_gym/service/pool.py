"""A bounded pool of worker processes, each holding the model it loaded once at its start.

The server process stays light (no TensorFlow, no pdfium): every PDF is opened, painted and read
in a worker. A worker is a process, not a thread, so work past `--timeout` is stopped for real:
the worker is killed and a new one loads the model in its place. Requests wait for a free worker
in a queue of `queue_limit`; beyond it they are refused at once (503 with Retry-After) rather
than piling up. A worker that dies (a crash in a native library, out of memory) is replaced too.

    pool = WorkerPool(WorkerSpec(model=".models/pix2pix/v4-default/export"), size=2)
    await pool.start()
    answer = await pool.run(Job("convert", pdf_bytes), timeout=60)
    await pool.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from sciencebeam_gym.service.limits import BUSY, TIMED_OUT, WORKER_STOPPED, ServiceError

LOGGER = logging.getLogger(__name__)

# the model with its word model beside it when there is one, as extract.sh loads it
DEFAULT_LOADER = "sciencebeam_gym.extract.words:load_model"
# Loading TensorFlow and a model takes seconds, more on a busy machine.
START_TIMEOUT = 300.0
RESTART_DELAY = 5.0
STOP_GRACE = 5.0
RECENT_JOBS = 50


class PoolError(RuntimeError):
    """The workers could not start (the model does not load); the message says why."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to load its model: the model's path, the function that loads
    it (`module:function`, called as `function(model, dpi=dpi)`; no dpi: the model's own), and
    its CPU threads."""

    model: str
    loader: str = DEFAULT_LOADER
    dpi: float | None = None
    threads: int = 0  # 0: the libraries' own default


def load_labeller(spec: WorkerSpec):
    module_name, _, function_name = spec.loader.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(spec.model, dpi=spec.dpi)


def limit_threads(threads: int) -> None:
    """Several workers on one machine share its cores: each gets its part of them."""
    if threads > 0:
        for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
            os.environ[name] = str(threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"


def warm_up(labeller) -> None:
    """Paint one blank page, so the first request does not pay for tracing the model."""
    labeller.label_pages([Image.new("RGB", (200, 260), "white")])


def worker_main(conn, spec: WorkerSpec) -> None:
    """A worker process: load the model, say ready, then answer jobs until told to stop."""
    from sciencebeam_gym.service.jobs import run_job

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    limit_threads(spec.threads)
    try:
        labeller = load_labeller(spec)
        warm_up(labeller)
    except BaseException as error:  # reported to the server, which names the model and stops
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", os.getpid(), str(getattr(labeller, "source", spec.model))))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        if job is None:
            return
        conn.send(run_job(labeller, job))


class Worker:
    """The server's end of one worker process: its pipe and its process."""

    def __init__(self, context, spec: WorkerSpec):
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(child, spec), name="sciencebeam-gym-worker", daemon=True
        )
        self.process.start()
        child.close()  # the child's end lives in the child only: its death gives us EOF
        self.pid = self.process.pid
        self.busy = False

    def exchange(self, job):
        """Send a job and wait for its answer (in a thread: it blocks)."""
        self.conn.send(job)
        return self.conn.recv()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


class WorkerPool:
    """`size` worker processes and a queue of at most `queue_limit` waiting requests."""

    def __init__(self, spec: WorkerSpec, size: int = 1, queue_limit: int = 2):
        self.spec = spec
        self.size = size
        self.queue_limit = queue_limit
        self.model_source = spec.model
        self.counts: Counter[str] = Counter()
        self._context = multiprocessing.get_context("spawn")
        self._threads = ThreadPoolExecutor(2 * size + 4, thread_name_prefix="worker-pipe")
        self._workers: list[Worker] = []
        self._idle: list[Worker] = []
        self._waiting: deque[asyncio.Future] = deque()
        self._starting = 0
        self._recent: deque[float] = deque(maxlen=RECENT_JOBS)
        self._stopping = False
        self._tasks: set[asyncio.Task] = set()

    # --- workers ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the model; PoolError if one fails."""
        results = await asyncio.gather(
            *(self._start_worker() for _ in range(self.size)), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        for worker in (r for r in results if isinstance(r, Worker)):
            self._release(worker)
        if failures:
            await self.stop()
            raise PoolError(str(failures[0]))

    async def _start_worker(self) -> Worker:
        loop = asyncio.get_running_loop()
        self._starting += 1
        try:
            worker = Worker(self._context, self.spec)
            try:
                message = await asyncio.wait_for(
                    loop.run_in_executor(self._threads, worker.conn.recv), START_TIMEOUT
                )
            except (EOFError, OSError, asyncio.TimeoutError) as error:
                worker.kill()
                raise PoolError(
                    f"a worker did not start ({type(error).__name__}): see its log above"
                ) from error
            if message[0] != "ready":
                worker.kill()
                raise PoolError(f"the model {self.spec.model} does not load: {message[1]}")
            self.model_source = message[2]
            self._workers.append(worker)
            LOGGER.info("worker %d ready (%s)", worker.pid, message[2])
            return worker
        finally:
            self._starting -= 1

    def _retire(self, worker: Worker, why: str) -> None:
        """Kill a worker (past its time, or dead already) and start another in its place."""
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)
        self.counts["workers_replaced"] += 1
        LOGGER.warning("worker %d stopped (%s); starting another", worker.pid, why)
        self._spawn(self._replace(worker))

    async def _replace(self, old: Worker) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._threads, old.process.join, STOP_GRACE)
        old.conn.close()
        while not self._stopping:
            try:
                self._release(await self._start_worker())
                return
            except PoolError as error:
                LOGGER.error("%s; trying again in %g s", error, RESTART_DELAY)
                await asyncio.sleep(RESTART_DELAY)

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Ask every worker to stop, kill those that do not, and refuse what was waiting."""
        if self._stopping:
            return
        self._stopping = True
        for future in self._waiting:
            future.cancel()
        loop = asyncio.get_running_loop()
        for worker in list(self._workers):
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in list(self._workers):
            await loop.run_in_executor(self._threads, worker.process.join, STOP_GRACE)
            worker.kill()
        for task in list(self._tasks):
            task.cancel()
        self._threads.shutdown(wait=False, cancel_futures=True)

    # --- requests ------------------------------------------------------------------------------

    def retry_after(self) -> int:
        """Seconds after which a refused request may find room: the recent mean job time times
        the requests ahead of it per worker (at least 1)."""
        mean = sum(self._recent) / len(self._recent) if self._recent else 1.0
        return max(1, math.ceil(mean * (len(self._waiting) + 1) / max(1, self.size)))

    async def _acquire(self, deadline: float) -> Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._retire(worker, "it died while idle")
        if len(self._waiting) >= self.queue_limit:
            self.counts["refused_busy"] += 1
            seconds = self.retry_after()
            raise ServiceError(
                BUSY,
                f"every worker is busy and {len(self._waiting)} requests wait (--workers "
                f"{self.size}, --queue {self.queue_limit}); try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append(future)
        try:
            return await asyncio.wait_for(future, max(0.0, deadline - loop.time()))
        except (asyncio.TimeoutError, asyncio.CancelledError) as error:
            if future.done() and not future.cancelled():
                self._release(future.result())  # a worker came just as we gave up
            if isinstance(error, asyncio.CancelledError):
                raise
            self.counts["timed_out_waiting"] += 1
            raise ServiceError(
                TIMED_OUT, "no worker was free within --timeout; the request was dropped"
            ) from error
        finally:
            if future in self._waiting:
                self._waiting.remove(future)

    def _release(self, worker: Worker) -> None:
        worker.busy = False
        if self._stopping:
            return
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                worker.busy = True
                future.set_result(worker)
                return
        self._idle.append(worker)

    async def run(self, job, timeout: float) -> tuple:
        """The job's answer from a worker (see jobs.run_job); ServiceError when the queue is
        full (503), when it takes longer than `timeout` seconds, waiting included (504: the
        worker is killed), or when its worker dies (500). A caller that is cancelled (its client
        left) leaves the job to finish; the worker returns to the pool after it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        worker = await self._acquire(deadline)
        if deadline - loop.time() <= 0:  # no time left to work: the worker need not die for it
            self._release(worker)
            self.counts["timed_out_waiting"] += 1
            raise ServiceError(TIMED_OUT, "no worker was free within --timeout")
        worker.busy = True
        started = time.perf_counter()
        call = loop.run_in_executor(self._threads, worker.exchange, job)
        try:
            answer = await asyncio.wait_for(asyncio.shield(call), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError as error:
            call.add_done_callback(_quietly)
            self.counts["timed_out_working"] += 1
            self._retire(worker, f"past --timeout {timeout:g} s")
            raise ServiceError(
                TIMED_OUT,
                f"the work took longer than {timeout:g} s (--timeout) and was stopped",
            ) from error
        except asyncio.CancelledError:
            self.counts["abandoned"] += 1
            call.add_done_callback(lambda done: self._after_abandoned(worker, done))
            raise
        except (EOFError, OSError) as error:
            self._retire(worker, f"it died: {type(error).__name__}")
            raise ServiceError(
                WORKER_STOPPED, "the worker stopped while working on this document"
            ) from error
        self._recent.append(time.perf_counter() - started)
        self.counts["jobs_done"] += 1
        self._release(worker)
        return answer

    def _after_abandoned(self, worker: Worker, call) -> None:
        if call.cancelled() or call.exception() is not None:
            self._retire(worker, "it died on an abandoned job")
        else:
            self._release(worker)

    def health(self) -> dict:
        return {
            "model": self.model_source,
            "workers": [{"pid": w.pid, "busy": w.busy} for w in self._workers],
            "starting": self._starting,
            "waiting": len(self._waiting),
            "queue_limit": self.queue_limit,
            "counts": dict(self.counts),
        }


def _quietly(call) -> None:
    """Collect the outcome of a call nobody waits for (a killed worker's EOF)."""
    if not call.cancelled():
        call.exception()
