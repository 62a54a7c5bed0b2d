"""Score extracted articles field by field against the publishers' JATS.

    python -m sciencebeam_gym.field_evaluation --source ../shared/data/pdf-jats \\
        --model .models/pix2pix/v4-default/export --output /tmp/field-eval

Each PDF of the source is extracted with the model (or, with --extracted DIR, its already
extracted `<name>.xml` is read) and its title, abstract, authors, first author, affiliations,
keywords, section titles and references are scored against the publisher's XML beside it:
strict, soft (Levenshtein >= 0.8) and Ratcliff/Obershelp (>= 0.95). Writes
`<output>/evaluation/fields.csv` and `summary.json` and prints a table. Exit 0 when some document
was scored, 2 when none was (or a flag or setting is wrong). See doc/extract-evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.document.limits import add_timeout
from sciencebeam_gym.document.pages import add_pages
from sciencebeam_gym.document.sources import add_source

OUTPUT_FOLDER = "evaluation"


class EvaluationError(cli.CliError):
    """A flag, setting or folder the user has to fix; printed without a traceback (exit 2)."""


def build_parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.field_evaluation",
        description=__doc__.split("\n\n")[2],
        epilog="Any Beam flag (e.g. --runner DirectRunner) runs the evaluation as a Beam pipeline.",
    )
    add_source(parser, repeatable=True)
    parser.add_argument("--output", required=True, help="results go to OUTPUT/evaluation/")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--model",
        help="model for the extraction (an export, or a training folder); used when given",
    )
    what.add_argument(
        "--extracted",
        help="folder of already extracted JATS (<name>.xml per PDF): score them, no model needed",
    )
    parser.add_argument(
        "--export_path",
        default="",
        help="the configured export (EXPORT_MODEL_PATH): the model when there is one there "
        "(a gs:// one is taken as it is)",
    )
    parser.add_argument(
        "--model_path",
        default="",
        help="the training folder (TRAIN_MODEL_PATH): the model otherwise",
    )
    add_pages(parser, "all", "pages to extract: all (default), 1, 1-3, ...")
    parser.add_argument(
        "--pictures",
        action="store_true",
        help="also draw OUTPUT/evaluation/pictures/<doc>.png: the first page with the extracted "
        "fields' boxes and the publisher's text beside them",
    )
    parser.add_argument(
        "--workers", type=cli.positive_int, default=None, help="processes (all cores)"
    )
    add_timeout(parser, "one document's extraction")
    parser.add_argument(
        "--limit", type=cli.positive_int, default=None, help="only the first N pairs"
    )
    parser.add_argument("--xml_mapping", default=None, help="XML fields (default xml-mapping.conf)")
    from sciencebeam_gym.extract.cli import add_labeller

    add_labeller(parser)
    add_leave_out(parser)
    cli.add_cloud(parser)
    cli.add_dry_run(parser, "print the settings and pipeline options, then stop (no network)")
    return parser


def add_leave_out(parser: argparse.ArgumentParser) -> None:
    """The leave-publisher-out flags (field_evaluation.leave_out)."""
    from sciencebeam_gym.field_evaluation.leave_out import DEFAULT_FOLDS, LEAVE_OUT_CHOICES

    group = parser.add_argument_group("leave-publisher-out (--leave_out publisher)")
    group.add_argument(
        "--leave_out",
        choices=LEAVE_OUT_CHOICES,
        help="score each publisher with a word model trained without it (folds of whole "
        "publishers; see doc/extract-evaluation.md)",
    )
    group.add_argument(
        "--folds", type=cli.positive_int, default=DEFAULT_FOLDS, help="folds (%(default)s)"
    )
    group.add_argument(
        "--tokens",
        action="append",
        default=[],
        help="token files the word models train on: GLOB[:WEIGHT], repeat (their folders name "
        "the publisher: generate-data.sh --group publisher)",
    )
    group.add_argument(
        "--exclude_groups",
        default="",
        help="publishers not scored (the vision model trained on them), comma-separated; "
        "their token files train every fold",
    )
    group.add_argument(
        "--no_painted", action="store_true", help="word models without the painted classes"
    )
    group.add_argument("--painted_cache", default="", help="class maps of the token pages")
    group.add_argument(
        "--word_iterations", type=cli.positive_int, default=None, help="L-BFGS iterations"
    )


def _beam_args(args: argparse.Namespace, extra: list[str]) -> list[str] | None:
    """Beam's flags when the run goes through Beam (--cloud or any Beam flag); None for the
    local process pool."""
    if args.cloud:
        from sciencebeam_gym.cloud.dataflow import DataflowConfigError, dataflow_args

        try:
            # the workers read XML and compare texts (generate's extra); extracting needs TF
            extras = ("generate", "train") if args.model else ("generate",)
            return dataflow_args(args.job_name or "evaluate-extraction", extras=extras) + extra
        except DataflowConfigError as error:
            raise EvaluationError(f"--cloud: {error}") from error
    return extra or None


def choose_model(args: argparse.Namespace) -> tuple[str | None, str]:
    """(model, the flag it came from): --model; else the configured export when there is one
    (a gs:// one as it is: a cloud run reads it there), else the training folder; no model
    with --extracted."""
    if args.model or args.extracted:
        return args.model, "--model"
    from sciencebeam_gym.storage import fs

    if args.export_path and (fs.is_remote(args.export_path) or fs.exists(args.export_path)):
        return args.export_path, "--export_path"
    return args.model_path or None, "--model_path"


def prepare_output(output: str) -> str:
    """OUTPUT/evaluation, checked writable, without the results of an earlier run."""
    from sciencebeam_gym.field_evaluation.report import CSV_NAME, SUMMARY_NAME
    from sciencebeam_gym.storage import fs

    path = fs.join(output, OUTPUT_FOLDER)
    probe = fs.join(path, ".write-check")
    try:
        fs.write_bytes(probe, b"")
        fs.delete([probe, fs.join(path, CSV_NAME), fs.join(path, SUMMARY_NAME)])
    except Exception as error:  # noqa: BLE001 - any failure gets the same advice
        raise EvaluationError(
            f"cannot write to --output {output} ({error}); choose a folder you can write to"
        ) from error
    return path


def check_model(model: str, flag: str = "--model") -> None:
    """EvaluationError unless the extraction can run with this model path."""
    import importlib.util

    from sciencebeam_gym.storage import fs

    if importlib.util.find_spec("sciencebeam_gym.extract") is None:
        raise EvaluationError(
            "the extraction (sciencebeam_gym.extract) is not in this installation; "
            "score already extracted XML with --extracted DIR instead"
        )
    if not fs.exists(model):
        raise EvaluationError(
            f"{flag} {model} does not exist; export one with ./save-model.sh or pass --model PATH"
        )


def _settings(args: argparse.Namespace, evaluation_path: str):
    from sciencebeam_gym.document.xml_mapping import MappingError
    from sciencebeam_gym.field_evaluation.documents import Settings
    from sciencebeam_gym.field_evaluation.fields import load_evaluation_mapping

    try:
        mapping = load_evaluation_mapping(args.xml_mapping)
    except (MappingError, ValueError) as error:
        raise EvaluationError(f"--xml_mapping: {error}") from error
    return Settings(
        mapping,
        evaluation_path,
        args.model,
        args.pages,
        args.pictures,
        args.labeller,
        args.word_model,
        args.timeout,
    )


def _tasks(args: argparse.Namespace):
    from sciencebeam_gym.document.sources import SourceError
    from sciencebeam_gym.field_evaluation.documents import find_tasks

    try:
        tasks = [task for source in args.source for task in find_tasks(source, args.extracted)]
    except SourceError as error:
        raise EvaluationError(str(error)) from error
    return tasks[: args.limit] if args.limit else tasks


def _info(args: argparse.Namespace, settings, beam_args: list[str] | None) -> dict:
    from sciencebeam_gym.field_evaluation.measures import MEASURES

    return {
        "source": args.source if len(args.source) > 1 else args.source[0],
        "extracted": args.extracted,
        "model": args.model,
        "pages": str(args.pages),
        "labeller": args.labeller,
        "word_model": args.word_model,
        "output": settings.evaluation_path,
        "xml_mapping": settings.mapping.source,
        "measures": {m.name: m.threshold for m in MEASURES},
        "runner": "beam" if beam_args is not None else "local",
    }


def run(argv: Sequence[str] | None = None) -> dict:
    """Evaluate; returns the summary (empty for a dry run). EvaluationError for user errors."""
    args, extra = cli.parse_beam_args(build_parser(), argv)
    args.model, model_flag = choose_model(args)
    if not args.model and not args.extracted:
        raise EvaluationError("pass --model PATH (to extract the PDFs) or --extracted DIR")
    beam_args = _beam_args(args, extra)
    if args.dry_run:
        from apache_beam.options.pipeline_options import PipelineOptions

        options = PipelineOptions(beam_args or []).get_all_options(retain_unknown_options=True)
        flags = {k: v for k, v in vars(args).items() if k != "dry_run"}
        print(
            json.dumps(
                {
                    "evaluation": flags,
                    "beam_args": beam_args,
                    "pipeline_options": {
                        k: v for k, v in options.items() if v not in (None, [], {})
                    },
                },
                indent=2,
                default=str,
            )
        )
        return {}
    if args.model:
        check_model(args.model, model_flag)
    if args.leave_out:
        return _leave_out(args, beam_args)
    settings = _settings(args, prepare_output(args.output))
    tasks = _tasks(args)
    info = _info(args, settings, beam_args)
    print(f"evaluate-extraction: {len(tasks)} documents from {', '.join(args.source)}", flush=True)
    return _evaluate(tasks, settings, beam_args, info, args.workers)


def _leave_out(args: argparse.Namespace, beam_args) -> dict:
    """The leave-publisher-out run: its summary (a plain run's) with `leave_out` added."""
    from sciencebeam_gym.field_evaluation.leave_out import run_leave_out, write_leave_out
    from sciencebeam_gym.field_evaluation.local import default_workers
    from sciencebeam_gym.field_evaluation.report import write_report

    if not args.model:
        raise EvaluationError("--leave_out needs --model (the vision model's export)")
    if beam_args is not None or args.extracted:
        raise EvaluationError("--leave_out runs on this machine, with --model: no Beam flags")
    if args.labeller != "pixels" and not args.tokens:
        raise EvaluationError("--leave_out needs --tokens GLOB[:WEIGHT] to train word models on")
    settings = _settings(args, prepare_output(args.output))
    info = {**_info(args, settings, None), "leave_out": args.leave_out, "tokens": args.tokens}
    try:
        results, summary = run_leave_out(args, settings, args.workers or default_workers())
    except ValueError as error:  # a word model that cannot be trained: the message says why
        raise EvaluationError(str(error)) from error
    report = write_report(settings.evaluation_path, results, info)
    write_leave_out(settings.evaluation_path, summary)
    return {**report, "leave_out": summary}


def _evaluate(tasks, settings, beam_args, info, workers) -> dict:
    from sciencebeam_gym.field_evaluation.report import SUMMARY_NAME, write_report
    from sciencebeam_gym.storage import fs

    if beam_args is None:
        from sciencebeam_gym.field_evaluation.local import (
            HARD_LIMIT_GRACE,
            default_workers,
            run_local,
        )

        hard_limit = settings.timeout + HARD_LIMIT_GRACE if settings.timeout else None
        results = run_local(tasks, settings, workers or default_workers(), hard_limit=hard_limit)
        return write_report(settings.evaluation_path, results, info)
    from sciencebeam_gym.field_evaluation.pipeline import run_beam

    run_beam(tasks, settings, beam_args, info)
    return json.loads(fs.read_bytes(fs.join(settings.evaluation_path, SUMMARY_NAME)))


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 every document scored, 1 some skipped, 2 none scored or a wrong flag, 130 Ctrl-C."""
    try:
        summary = run(argv)
    except EvaluationError as error:
        return cli.report_error(error)
    except KeyboardInterrupt:
        return cli.report_interrupted(
            "no summary was written (the extracted files so far are complete); run again"
        )
    if not summary:
        return cli.EXIT_OK
    from sciencebeam_gym.field_evaluation.report import format_table

    print(format_table(summary))
    if "leave_out" in summary:
        from sciencebeam_gym.field_evaluation.leave_out import format_leave_out

        print(format_leave_out(summary["leave_out"]))
    print(f"results: {summary['settings']['output']}/")
    documents = summary["documents"]
    if documents["scored"] == 0:
        print("error: no document could be scored (see the reasons above)", file=sys.stderr)
    return cli.batch_exit_code(documents["scored"], documents["skipped"])
