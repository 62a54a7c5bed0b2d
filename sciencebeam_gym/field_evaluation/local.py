"""Scoring on this machine: one process per core, each loading the model once."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from sciencebeam_gym.field_evaluation.documents import (
    SCORED,
    SKIPPED,
    DocumentResult,
    EvaluationTask,
    Settings,
    evaluate_task,
)


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


def _result(task: EvaluationTask, future) -> DocumentResult:
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a worker that died (memory, crash) loses one task
        return DocumentResult(task.doc_id, SKIPPED, "worker failed", repr(error))


def run_local(
    tasks: list[EvaluationTask],
    settings: Settings,
    workers: int,
    report: Callable[[str], None] = print,
) -> list[DocumentResult]:
    """Every task's result, in task order; one worker runs in this process."""
    if workers <= 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            results.append(evaluate_task(task, settings))
            report(progress_line(results[-1]))
        return results
    # spawn, not fork: TensorFlow and Beam's threads do not survive a fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(evaluate_task, task, settings) for task in tasks]
        results = []
        for task, future in zip(tasks, futures, strict=True):
            results.append(_result(task, future))
            report(progress_line(results[-1]))
    return results
