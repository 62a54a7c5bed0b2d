"""DataflowRunner options built from the toolkit's configuration (the environment of the scripts).

Any Beam pipeline of the toolkit runs on Dataflow by appending these arguments to its own:

    args = dataflow_args("preprocess-train")  # reads PROJECT, BUCKET, REGION, ... from os.environ

The worker count is bounded by MAX_NUM_WORKERS, so a job that goes wrong cannot scale the bill.
Every default (REGION, MAX_NUM_WORKERS, SUB_PROJECT_NAME) lives in prepare-shell.sh only.
Workers install the package's core through `--setup_file` (Beam is in their image); a stage that
needs more names its extra, whose requirements go to `--requirements_file`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

_JOB_NAME_MAX_LENGTH = 63
DISTRIBUTION = "sciencebeam-gym"


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


def _from_prepare_shell(environ: Mapping[str, str], key: str) -> str:
    return _required(
        environ, key, "source prepare-shell.sh --cloud (which sets it) or set it in .config"
    )


def _positive_int(environ: Mapping[str, str], key: str) -> int | None:
    raw = (environ.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise DataflowConfigError(f"{key} must be a positive whole number, got {raw!r}")
    return int(raw)


def extra_requirements(extras: Sequence[str]) -> list[str]:
    """The requirements the installed package declares for these extras (setup.py's EXTRAS)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    wanted = []
    for line in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker and any(marker.evaluate({"extra": extra}) for extra in extras):
            requirement.marker = None
            wanted.append(str(requirement))
    return sorted(set(wanted))


def write_worker_requirements(gym_root: str, job_name: str, extras: Sequence[str]) -> str:
    """A requirements file of the extras for the workers; written under .temp, beside the job."""
    folder = os.path.join(gym_root, ".temp", "dataflow")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{job_name}-requirements.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in extra_requirements(extras)))
    return path


def dataflow_args(
    job_name: str, environ: Mapping[str, str] = os.environ, extras: Sequence[str] = ()
) -> list[str]:
    """Command-line arguments that send a Beam pipeline to Dataflow, from the configuration.

    extras: the package's extras the pipeline's workers import beyond the core."""
    project = _required(
        environ,
        "PROJECT",
        "set PROJECT in .config or run: gcloud config set project <your-project>",
    )
    bucket = _required(environ, "BUCKET", "set BUCKET in .config, e.g. BUCKET=gs://my-project-ml")
    if not bucket.startswith("gs://"):
        raise DataflowConfigError(f"BUCKET must be a gs:// URL, got {bucket!r}")
    bucket = bucket.rstrip("/")
    sub_project = _from_prepare_shell(environ, "SUB_PROJECT_NAME")
    region = _from_prepare_shell(environ, "REGION")
    gym_root = (environ.get("GYM_ROOT") or default_gym_root()).rstrip("/")
    _from_prepare_shell(environ, "MAX_NUM_WORKERS")
    max_workers = _positive_int(environ, "MAX_NUM_WORKERS")
    num_workers = _positive_int(environ, "NUM_WORKERS")
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
    if extras:
        job = dataflow_job_name(job_name)
        args += ["--requirements_file", write_worker_requirements(gym_root, job, extras)]
    machine_type = (environ.get("DATAFLOW_MACHINE_TYPE") or "").strip()
    if machine_type:
        args += ["--worker_machine_type", machine_type]
    return args
