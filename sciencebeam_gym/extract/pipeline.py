"""extract.sh --cloud: the same extraction as a Beam pipeline (Dataflow), one PDF per element.

    python -m sciencebeam_gym.extract.cli gs://b/pdfs/ gs://b/out --cloud --saved_model gs://b/export

`--dry_run` prints the job (runner options, documents, model, output) and starts nothing, so the
command can be checked offline. Each worker loads the model once (`setup`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from sciencebeam_gym import cli
from sciencebeam_gym.document.pages import PageSelection

REPORT_NAME = "extract-report.json"


@dataclass(frozen=True)
class JobSettings:
    """What every worker needs to extract one PDF and write its output."""

    saved_model: str
    model_path: str
    output: str
    fmt: str
    pages: PageSelection
    dpi: float | None  # None: the model's
    timeout: float | None = None
    labeller: str = "auto"  # extract.words.LABELLERS
    word_model: str = ""


def pipeline_args(args: argparse.Namespace, beam_args: list[str]) -> list[str]:
    """Dataflow options from the configuration (--cloud), else Beam's local runner."""
    if not args.cloud:
        return ["--runner", "DirectRunner", *beam_args]
    from sciencebeam_gym.cloud.dataflow import DataflowConfigError, dataflow_args

    try:
        return dataflow_args(args.job_name or "extract") + beam_args
    except DataflowConfigError as error:
        raise cli.CliError(f"--cloud: {error}") from error


def job_settings(args: argparse.Namespace, output: str) -> JobSettings:
    model = args.saved_model or args.export_path
    if not model and not args.model_path:
        raise cli.CliError("--cloud needs a model: --saved_model (or --export_path) PATH")
    settings = (args.format, args.pages, args.dpi, args.timeout, args.labeller, args.word_model)
    return JobSettings(model, args.model_path, output, *settings)


def run_pipeline(
    args: argparse.Namespace, jobs: list[tuple[str, str]], output: str, beam_args=()
) -> int:
    """Print the job (--dry_run) or run it; the exit status as for a local run."""
    options = pipeline_args(args, list(beam_args))
    settings = job_settings(args, output)
    if args.dry_run:
        plan = {"pipeline_options": options, "documents": len(jobs), "first": jobs[:3]}
        plan["settings"] = {**settings.__dict__, "pages": str(settings.pages)}
        print(json.dumps(plan, indent=2))
        return 0
    results = run_beam(jobs, settings, options)
    done = sum(1 for r in results if r["status"] == "ok")
    for result in results:
        if result["status"] != "ok":
            print(f"skipped: {result['detail']}", file=sys.stderr)
    print(f"extract: {done} of {len(jobs)} documents written to {output}")
    return cli.batch_exit_code(done, len(results) - done)


def run_beam(jobs: list[tuple[str, str]], settings: JobSettings, options: list[str]) -> list[dict]:
    """Run the pipeline on (PDF, output file) pairs; one result row per PDF (status, output or
    reason), also written to `<output>/REPORT_NAME` by the job (the workers' results come back
    through it)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from sciencebeam_gym.beam_steps import each_then_report
    from sciencebeam_gym.storage import fs

    report = fs.join(settings.output, REPORT_NAME)
    with beam.Pipeline(options=PipelineOptions(options)) as pipeline:
        each_then_report(
            pipeline, jobs, "ListPdfs", "Extract", ExtractPdfDoFn(settings), write_report, report
        )
    return json.loads(fs.read_bytes(report))


def write_report(results: list[dict], path: str) -> None:
    from sciencebeam_gym.storage import fs

    rows = sorted(results, key=lambda r: r["pdf"])
    fs.write_bytes(path, (json.dumps(rows, indent=1) + "\n").encode("utf-8"))


def _do_fn_base():
    import apache_beam as beam

    return beam.DoFn


class ExtractPdfDoFn(_do_fn_base()):
    """(PDF path, output file) -> its JATS XML (or JSON) written there; a result row."""

    def __init__(self, settings: JobSettings):
        import apache_beam as beam

        super().__init__()
        self.settings = settings
        self.model = None
        self.extracted = beam.metrics.Metrics.counter("extract", "documents_extracted")
        self.skipped = beam.metrics.Metrics.counter("extract", "documents_skipped")

    def setup(self):
        from sciencebeam_gym.extract.words import choose_labeller

        s = self.settings
        self.model = choose_labeller(
            s.saved_model, "", s.model_path, s.dpi, s.labeller, s.word_model
        )

    def process(self, job: tuple[str, str]):
        from sciencebeam_gym.extract.document import ExtractError, extract_to

        pdf_path, target = job
        s = self.settings
        try:
            extract_to(pdf_path, self.model, target, s.fmt, s.pages, timeout=s.timeout)
        except ExtractError as error:
            self.skipped.inc()
            yield {
                "pdf": pdf_path,
                "status": "skipped",
                "reason": error.reason,
                "detail": str(error),
            }
            return
        self.extracted.inc()
        yield {"pdf": pdf_path, "status": "ok", "output": target}
