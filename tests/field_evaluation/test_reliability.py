"""evaluate-extraction as a hostile corpus meets it (issue 22): a worker killed by SIGKILL costs
its one document, a stuck one is stopped, bombs are skips, exit codes say what happened."""

from __future__ import annotations

import gzip
import multiprocessing
import os
import signal
import threading
import time

import pytest

from sciencebeam_gym.document import limits
from sciencebeam_gym.field_evaluation.documents import (
    SCORED,
    EvaluationTask,
    Settings,
    evaluate_task,
)
from sciencebeam_gym.field_evaluation.fields import load_evaluation_mapping
from sciencebeam_gym.field_evaluation.local import WORKER_DIED, WORKER_STOPPED, run_local
from tests.field_evaluation import jats_factory as jats
from tests.field_evaluation.test_cli import _run, _summary, _write, corpus  # noqa: F401


def slow_references(count: int) -> tuple[str, ...]:
    """References whose scoring takes about a second for 400 of them (each is compared with
    every extracted one)."""
    return tuple(
        f"Author{i} A, Other B ({1900 + i % 100}) A title number {i} about seals. J Zool {i}:1-9"
        for i in range(count)
    )


def make_tasks(folder, references: list[int]) -> list[EvaluationTask]:
    tasks = []
    for index, count in enumerate(references):
        refs = slow_references(count)
        gold, extracted = folder / f"gold{index}.xml", folder / f"extracted{index}.xml"
        _write(str(gold), jats.article_xml(references=refs))
        _write(str(extracted), jats.article_xml(references=refs[::-1]))
        tasks.append(EvaluationTask(f"doc{index}", str(gold), None, str(extracted)))
    return tasks


def settings_for(folder) -> Settings:
    return Settings(load_evaluation_mapping(None), str(folder / "evaluation"))


def kill_a_worker_after_the_first_result(lines: list[str]) -> threading.Thread:
    """A thread that sends SIGKILL (what the OOM killer sends) to one worker of the pool, once
    the pool has given a result (every worker then holds a task)."""

    def kill() -> None:
        deadline = time.monotonic() + 120
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = multiprocessing.active_children()
        if workers:
            os.kill(workers[0].pid, signal.SIGKILL)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_a_worker_killed_by_sigkill_costs_its_document_alone(tmp_path):
    tasks = make_tasks(tmp_path, [400] * 6)
    lines: list[str] = []
    killer = kill_a_worker_after_the_first_result(lines)
    results = run_local(tasks, settings_for(tmp_path), workers=2, report=lines.append)
    killer.join(5)
    failed = [r for r in results if r.status != SCORED]
    assert [r.doc_id for r in results] == [t.doc_id for t in tasks]
    assert len(failed) == 1, [(r.doc_id, r.reason) for r in results]
    assert failed[0].reason == WORKER_DIED and "SIGKILL" in failed[0].detail
    assert len(lines) == 6 and not multiprocessing.active_children()


def test_a_task_past_the_hard_limit_is_stopped_and_the_pool_goes_on(tmp_path):
    tasks = make_tasks(tmp_path, [3, 1500, 3, 1500, 3])
    started = time.monotonic()
    results = run_local(tasks, settings_for(tmp_path), workers=2, hard_limit=1.5)
    assert [r.status == SCORED for r in results] == [True, False, True, False, True]
    assert all(r.reason == WORKER_STOPPED for r in results if r.status != SCORED)
    assert time.monotonic() - started < 60  # 1500 references alone take far longer


def test_the_pool_gives_what_one_process_gives(tmp_path):
    tasks = make_tasks(tmp_path, [3, 20, 5])
    settings = settings_for(tmp_path)
    pooled = run_local(tasks, settings, workers=2)
    alone = [evaluate_task(task, settings) for task in tasks]
    assert [(r.doc_id, r.status, r.scores) for r in pooled] == [
        (r.doc_id, r.status, r.scores) for r in alone
    ]


def test_a_gold_xml_gz_expanding_past_the_cap_is_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 2**20)
    gold = tmp_path / "bomb.xml.gz"
    gold.write_bytes(gzip.compress(b"<article>" + b" " * (16 * 2**20) + b"</article>"))
    task = EvaluationTask("bomb", str(gold), None, str(gold))
    result = evaluate_task(task, settings_for(tmp_path))
    assert result.reason == f"publisher XML: {limits.TOO_LARGE}"


def test_a_fifo_as_gold_xml_is_a_skip_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "waiting.xml")
    task = EvaluationTask("fifo", str(tmp_path / "waiting.xml"), None, str(tmp_path / "x.xml"))
    result = evaluate_task(task, settings_for(tmp_path))
    assert result.reason == "publisher XML: cannot be read"
    assert "not a regular file" in result.detail


def test_exit_status_says_whether_all_some_or_none_were_scored(corpus, tmp_path):  # noqa: F811
    source, extracted, output = corpus
    assert _run(source, extracted, output, "--workers", "1") == 1  # some skipped
    assert _summary(output)["documents"]["skipped"] == 4
    good = tmp_path / "good"
    _write(str(good / "a.xml"), jats.article_xml())
    _write(str(good / "a.pdf"), b"%PDF-1.4")
    assert _run(str(good), extracted, output + "-2") == 2  # the corpus's have no a.xml
    _write(str(tmp_path / "good-extracted" / "a.xml"), jats.article_xml())
    assert _run(str(good), str(tmp_path / "good-extracted"), output + "-3") == 0


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--pages", "5-2"), ("--pages", "1-0"), ("--timeout", "0"), ("--timeout", "nan")],
)
def test_a_bad_flag_value_is_refused_before_any_work(corpus, capsys, flag, value):  # noqa: F811
    source, extracted, output = corpus
    with pytest.raises(SystemExit) as exit_info:
        _run(source, extracted, output, flag, value)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert flag in error and "Traceback" not in error
    assert not os.path.exists(output)
