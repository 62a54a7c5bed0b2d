"""The field evaluation as an Apache Beam pipeline, for corpora of thousands of PDFs (--cloud runs
it on Dataflow; any other Beam flag, e.g. --runner DirectRunner, is passed through)."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from sciencebeam_gym.beam_steps import each_then_report
from sciencebeam_gym.field_evaluation.documents import (
    SCORED,
    DocumentResult,
    EvaluationTask,
    Settings,
    evaluate_task,
)
from sciencebeam_gym.field_evaluation.local import progress_line
from sciencebeam_gym.field_evaluation.report import write_report

METRICS_NAMESPACE = "field_evaluation"


class EvaluateDocumentDoFn(beam.DoFn):
    """Extracts (or reads) one document's JATS and scores it; yields its result."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.documents_scored = Metrics.counter(METRICS_NAMESPACE, "documents_scored")
        self.documents_skipped = Metrics.counter(METRICS_NAMESPACE, "documents_skipped")

    def process(self, task: EvaluationTask):
        result = evaluate_task(task, self.settings)
        if result.status == SCORED:
            self.documents_scored.inc()
        else:
            self.documents_skipped.inc()
        print(progress_line(result), flush=True)
        yield result


def write_report_step(results: list[DocumentResult], evaluation_path: str, info: dict) -> int:
    return write_report(evaluation_path, results, info)["documents"]["scored"]


def run_beam(
    tasks: list[EvaluationTask], settings: Settings, beam_args: list[str], info: dict
) -> None:
    """Score every task with Beam; the report is written by the pipeline's last step."""
    with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
        each_then_report(
            pipeline,
            tasks,
            "ListDocuments",
            "Evaluate",
            EvaluateDocumentDoFn(settings),
            write_report_step,
            settings.evaluation_path,
            info,
        )
