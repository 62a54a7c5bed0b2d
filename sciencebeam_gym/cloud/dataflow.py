"""DataflowRunner options built from the toolkit's configuration (the environment of the scripts).

Any Beam pipeline of the toolkit runs on Dataflow by appending these arguments to its own:

    args = dataflow_args("preprocess-train")  # reads PROJECT, BUCKET, REGION, ... from os.environ

The worker count is bounded by MAX_NUM_WORKERS (10 unless the configuration raises it), so a job
that goes wrong cannot scale the bill.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

DEFAULT_REGION = "us-central1"
DEFAULT_MAX_NUM_WORKERS = 10
DEFAULT_SUB_PROJECT_NAME = "sciencebeam"

_JOB_NAME_MAX_LENGTH = 63


class DataflowConfigError(ValueError):
    """A configuration value Dataflow cannot run with; the message names the setting."""


def default_gym_root() -> str:
    """The repository root (where setup.py lives), from this file's location."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dataflow_job_name(name: str) -> str:
    """A valid Dataflow job name: lowercase letters, digits and dashes, starting with a letter."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"job-{cleaned}".rstrip("-")
    return cleaned[:_JOB_NAME_MAX_LENGTH].rstrip("-")


def _required(environ: Mapping[str, str], key: str, advice: str) -> str:
    value = (environ.get(key) or "").strip()
    if not value:
        raise DataflowConfigError(f"{key} is not set; {advice}")
    return value


def _positive_int(environ: Mapping[str, str], key: str, default: int | None) -> int | None:
    raw = (environ.get(key) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise DataflowConfigError(f"{key} must be a positive whole number, got {raw!r}")
    return int(raw)


def dataflow_args(job_name: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Command-line arguments that send a Beam pipeline to Dataflow, from the configuration."""
    project = _required(
        environ,
        "PROJECT",
        "set PROJECT in .config or run: gcloud config set project <your-project>",
    )
    bucket = _required(environ, "BUCKET", "set BUCKET in .config, e.g. BUCKET=gs://my-project-ml")
    if not bucket.startswith("gs://"):
        raise DataflowConfigError(f"BUCKET must be a gs:// URL, got {bucket!r}")
    bucket = bucket.rstrip("/")
    sub_project = (environ.get("SUB_PROJECT_NAME") or DEFAULT_SUB_PROJECT_NAME).strip()
    region = (environ.get("REGION") or DEFAULT_REGION).strip()
    gym_root = (environ.get("GYM_ROOT") or default_gym_root()).rstrip("/")
    max_workers = _positive_int(environ, "MAX_NUM_WORKERS", DEFAULT_MAX_NUM_WORKERS)
    num_workers = _positive_int(environ, "NUM_WORKERS", None)
    if num_workers is not None and max_workers is not None and num_workers > max_workers:
        raise DataflowConfigError(
            f"NUM_WORKERS={num_workers} is above MAX_NUM_WORKERS={max_workers}; "
            "lower NUM_WORKERS or raise MAX_NUM_WORKERS in .config"
        )
    dataflow_root = f"{bucket}/{sub_project}/dataflow"
    args = [
        "--runner",
        "DataflowRunner",
        "--project",
        project,
        "--region",
        region,
        "--temp_location",
        f"{dataflow_root}/temp",
        "--staging_location",
        f"{dataflow_root}/staging",
        "--setup_file",
        f"{gym_root}/setup.py",
        "--job_name",
        dataflow_job_name(job_name),
        "--max_num_workers",
        str(max_workers),
        "--save_main_session",
    ]
    if num_workers is not None:
        args += ["--num_workers", str(num_workers)]
    machine_type = (environ.get("DATAFLOW_MACHINE_TYPE") or "").strip()
    if machine_type:
        args += ["--worker_machine_type", machine_type]
    return args
