"""Run a toolkit module as a Vertex AI custom training job (what train.sh --cloud calls).

    source prepare-shell.sh --cloud
    python -m sciencebeam_gym.cloud.vertex_job --module sciencebeam_gym.trainer.task --dry-run \\
        --train_data_paths "$PREPROC_PATH/train/*tfrecord*" --output_path "$TRAIN_MODEL_PATH"

Builds the package (sdist, `python -m build`), stages it in the bucket, and submits a CustomJob
that runs `python -m MODULE ARGS...` in a prebuilt TensorFlow container; every argument this
command does not know goes to MODULE unchanged and in order. It then follows the job until it ends
(--no-wait returns at once) and prints the console link. --dry-run prints, as JSON, where the job
would go (project, region, endpoint), the AIP_* folders Vertex AI will give it, and the complete
job spec, without touching the network.

The job's base output directory is TRAIN_MODEL_PATH, so Vertex AI sets AIP_MODEL_DIR,
AIP_CHECKPOINT_DIR and AIP_TENSORBOARD_LOG_DIR below it (see `vertex_output_dirs`).

Settings come from the environment that prepare-shell.sh exports (its defaults are the only
ones): PROJECT, BUCKET, REGION, JOB_ID, MACHINE_TYPE, ACCELERATOR_TYPE, ACCELERATOR_COUNT,
TRAINING_REPLICA_COUNT, TRAIN_MODEL_PATH, SUB_PROJECT_NAME, GYM_ROOT; optionally
TRAINING_IMAGE_URI (the container), VERTEX_SERVICE_ACCOUNT (the job's identity) and
VERTEX_TENSORBOARD or --tensorboard (a Vertex AI TensorBoard instance that receives the job's
logs: its full resource name, or its ID in PROJECT and REGION; it needs the service account).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sciencebeam_gym
from sciencebeam_gym import cli
from sciencebeam_gym.storage import gcs_client, uploads
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.paths import parse_gcs_url

EXIT_USER_ERROR = cli.EXIT_USAGE
EXIT_JOB_FAILED = cli.EXIT_FAILED

# The newest prebuilt TensorFlow training containers listed in Vertex AI's "supported frameworks"
# page (TensorFlow 2.17, Python 3.10; GPU images use CUDA 12). The package's requirement
# tensorflow>=2.16 is satisfied by them, so pip keeps the container's TensorFlow.
TF_IMAGE_VERSION = "2-17.py310"
IMAGE_REGISTRIES = {"europe": "europe-docker.pkg.dev", "asia": "asia-docker.pkg.dev"}
DEFAULT_REGISTRY = "us-docker.pkg.dev"

TERMINAL_STATES = {
    "JOB_STATE_SUCCEEDED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_EXPIRED",
    "JOB_STATE_PARTIALLY_SUCCEEDED",
}
DISPLAY_NAME_MAX = 128
# A state read that keeps failing (the API or the network down) gives up after this long.
POLL_RETRY_DEADLINE_S = 600.0
# The folders Vertex AI creates below the base output directory and names in AIP_* variables.
VERTEX_OUTPUT_DIRS = {
    "AIP_MODEL_DIR": "model",
    "AIP_CHECKPOINT_DIR": "checkpoints",
    "AIP_TENSORBOARD_LOG_DIR": "logs",
}
TENSORBOARD_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/tensorboards/[^/]+$")


class VertexJobError(cli.CliError):
    """A problem the user can fix before (or instead of) submitting; printed without traceback."""


# --- settings --------------------------------------------------------------------------------


@dataclass
class JobSettings:
    """Everything the job spec is built from (read from the environment, checked up front)."""

    project: str
    region: str
    bucket: str
    job_id: str
    module: str
    module_args: list[str]
    output_path: str
    staging_path: str
    machine_type: str
    accelerator_type: str
    accelerator_count: int
    replica_count: int
    image_uri: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    service_account: str = ""
    tensorboard: str = ""  # projects/P/locations/R/tensorboards/ID, a Vertex AI TensorBoard

    @property
    def uses_gpu(self) -> bool:
        return self.accelerator_count > 0 and self.accelerator_type not in ("", "NONE")


def default_image_uri(region: str, gpu: bool) -> str:
    registry = IMAGE_REGISTRIES.get(region.split("-")[0], DEFAULT_REGISTRY)
    kind = "tf-gpu" if gpu else "tf-cpu"
    return f"{registry}/vertex-ai/training/{kind}.{TF_IMAGE_VERSION}:latest"


def env_setting(env: Mapping[str, str], name: str) -> str:
    """A setting prepare-shell.sh exports (its default lives there only, not here)."""
    value = env.get(name)
    if value is None:
        raise VertexJobError(
            f"{name} is not set; source prepare-shell.sh --cloud (which sets it) or set it in .config"
        )
    return value.strip()


def env_int(env: Mapping[str, str], name: str) -> int:
    value = env_setting(env, name)
    try:
        return int(value)
    except ValueError as e:
        raise VertexJobError(f"{name}={value!r} is not a whole number (set it in .config)") from e


def tensorboard_resource(value: str, project: str, region: str) -> str:
    """The full resource name of a Vertex AI TensorBoard, given that or its ID alone."""
    if value and "/" not in value and value.isdigit():
        value = f"projects/{project}/locations/{region}/tensorboards/{value}"
    if value and not TENSORBOARD_NAME.match(value):
        raise VertexJobError(
            f"VERTEX_TENSORBOARD={value!r} is not a TensorBoard resource name "
            "(projects/PROJECT/locations/REGION/tensorboards/ID, or the numeric ID)"
        )
    return value


def settings_from_env(
    env: Mapping[str, str],
    module: str,
    module_args: Sequence[str],
    job_id: str | None = None,
    tensorboard: str | None = None,
) -> JobSettings:
    """Read and check the configuration; VertexJobError names the setting that is wrong."""
    project = env.get("PROJECT", "")
    if not project:
        raise VertexJobError(
            "no Google Cloud project: set PROJECT in .config or run: gcloud config set project ID"
        )
    bucket = env.get("BUCKET") or f"gs://{project}-ml"
    bucket_name, _ = parse_gcs_url(bucket)
    job_id = job_id or env.get("JOB_ID") or ""
    if not job_id:
        raise VertexJobError("no job id: pass --job_id or source prepare-shell.sh (sets JOB_ID)")
    if len(job_id) > DISPLAY_NAME_MAX:
        raise VertexJobError(f"job id {job_id!r} is longer than {DISPLAY_NAME_MAX} characters")
    output_path = env.get("TRAIN_MODEL_PATH") or ""
    if not output_path.startswith("gs://"):
        raise VertexJobError(
            f"TRAIN_MODEL_PATH={output_path!r} must be a gs:// path for a cloud job "
            "(source prepare-shell.sh with --cloud)"
        )
    parse_gcs_url(output_path)
    sub_project = env_setting(env, "SUB_PROJECT_NAME")
    region = env_setting(env, "REGION")
    if not region:
        raise VertexJobError("REGION is empty; set it in .config, e.g. REGION=us-central1")
    settings = JobSettings(
        project=project,
        region=region,
        bucket=f"gs://{bucket_name}",
        job_id=job_id,
        module=module,
        module_args=list(module_args),
        output_path=output_path.rstrip("/"),
        staging_path=f"gs://{bucket_name}/{sub_project}/staging/{job_id}",
        machine_type=env_setting(env, "MACHINE_TYPE"),
        accelerator_type=env_setting(env, "ACCELERATOR_TYPE"),
        accelerator_count=env_int(env, "ACCELERATOR_COUNT"),
        replica_count=env_int(env, "TRAINING_REPLICA_COUNT"),
        labels={"toolkit": "sciencebeam-gym"},
    )
    if not settings.machine_type:
        raise VertexJobError("MACHINE_TYPE is empty; set it in .config, e.g. n1-standard-8")
    settings.service_account = env.get("VERTEX_SERVICE_ACCOUNT", "")
    settings.tensorboard = tensorboard_resource(
        (tensorboard if tensorboard is not None else env.get("VERTEX_TENSORBOARD", "")).strip(),
        project,
        region,
    )
    if settings.tensorboard and not settings.service_account:
        raise VertexJobError(
            "VERTEX_TENSORBOARD needs VERTEX_SERVICE_ACCOUNT (a service account that may write "
            "to the TensorBoard instance and the bucket); set both in .config"
        )
    if settings.replica_count < 1:
        raise VertexJobError(f"TRAINING_REPLICA_COUNT={settings.replica_count} must be at least 1")
    settings.image_uri = env.get("TRAINING_IMAGE_URI") or default_image_uri(
        settings.region, settings.uses_gpu
    )
    return settings


# --- the job spec --------------------------------------------------------------------------------


def import_vertex():
    try:
        from google.cloud import aiplatform_v1
    except ImportError as e:
        raise VertexJobError(
            "the Vertex AI client is not installed (google-cloud-aiplatform); "
            "install the cloud extras: pip install -e '.[cloud]'"
        ) from e
    return aiplatform_v1


def build_machine_spec(settings: JobSettings):
    v1 = import_vertex()
    spec = v1.MachineSpec(machine_type=settings.machine_type)
    if settings.uses_gpu:
        if settings.accelerator_type not in v1.AcceleratorType.__members__:
            known = ", ".join(n for n in v1.AcceleratorType.__members__ if n.startswith("NVIDIA"))
            raise VertexJobError(
                f"ACCELERATOR_TYPE={settings.accelerator_type!r} is not a Vertex AI accelerator; "
                f"use one of {known} (or ACCELERATOR_COUNT=0 for none)"
            )
        spec.accelerator_type = v1.AcceleratorType[settings.accelerator_type]
        spec.accelerator_count = settings.accelerator_count
    return spec


def build_custom_job(settings: JobSettings, package_uri: str):
    """The CustomJob: one chief pool, plus a worker pool when more than one replica is asked."""
    v1 = import_vertex()

    def pool(replicas: int):
        return v1.WorkerPoolSpec(
            machine_spec=build_machine_spec(settings),
            replica_count=replicas,
            python_package_spec=v1.PythonPackageSpec(
                executor_image_uri=settings.image_uri,
                package_uris=[package_uri],
                python_module=settings.module,
                args=settings.module_args,
            ),
        )

    pools = [pool(1)]
    if settings.replica_count > 1:
        pools.append(pool(settings.replica_count - 1))
    return v1.CustomJob(
        display_name=settings.job_id,
        labels=settings.labels,
        job_spec=v1.CustomJobSpec(
            worker_pool_specs=pools,
            base_output_directory=v1.GcsDestination(output_uri_prefix=settings.output_path),
            service_account=settings.service_account,
            tensorboard=settings.tensorboard,
        ),
    )


def vertex_output_dirs(base_output_directory: str) -> dict[str, str]:
    """The AIP_* folders Vertex AI sets for a job with this base output directory."""
    base = base_output_directory.rstrip("/")
    return {name: f"{base}/{folder}/" for name, folder in VERTEX_OUTPUT_DIRS.items()}


def job_to_dict(job) -> dict:
    """The job as the REST API sees it (camelCase, enum names, unset fields left out)."""
    from google.protobuf import json_format

    v1 = import_vertex()
    return json_format.MessageToDict(v1.CustomJob.pb(job))


# --- the package -----------------------------------------------------------------------------------


def source_root() -> str:
    """The checkout holding setup.py (the package is installed editable from it)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.isfile(os.path.join(root, "setup.py")):
        raise VertexJobError(
            f"no setup.py in {root}: cloud jobs build the package from a source checkout "
            "(install it with pip install -e '.[cloud]')"
        )
    return root


def sdist_name() -> str:
    """The file name `python -m build --sdist` gives the package (normalised, PEP 625)."""
    return f"sciencebeam_gym-{sciencebeam_gym.__version__}.tar.gz"


def build_sdist(root: str, dist_dir: str) -> str:
    """Build the package's source distribution into dist_dir; returns its path.

    --no-isolation builds with this environment's setuptools instead of fetching one from PyPI.
    """
    command = [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", dist_dir]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-2000:]
        raise VertexJobError(
            f"building the package failed in {root} (is the cloud extra installed? "
            f"pip install -e '.[cloud]'):\n{output}"
        )
    built = os.path.join(dist_dir, sdist_name())
    if not os.path.isfile(built):
        raise VertexJobError(f"the build left {os.listdir(dist_dir)} in {dist_dir}, not {built}")
    return built


def package_uri_for(settings: JobSettings, sdist_path: str) -> str:
    return f"{settings.staging_path}/{os.path.basename(sdist_path)}"


def stage_package(sdist_path: str, settings: JobSettings) -> str:
    result = uploads.upload([sdist_path], settings.staging_path + "/", workers=1)
    if result.failed:
        raise VertexJobError(f"staging the package failed: {result.failed}")
    return package_uri_for(settings, sdist_path)


# --- submission and following ------------------------------------------------------------------


def job_endpoint(region: str, api_endpoint: str | None = None) -> str:
    """The regional Vertex AI endpoint, unless one is given (a test server, a private one)."""
    return api_endpoint or f"{region}-aiplatform.googleapis.com"


def make_job_client(region: str, api_endpoint: str | None = None):
    """A JobServiceClient over REST. A plain-http endpoint (a local test server) gets no
    credentials, so real ones are never sent unencrypted."""
    v1 = import_vertex()
    endpoint = job_endpoint(region, api_endpoint)
    credentials = None
    if endpoint.startswith("http://"):
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()
    return v1.JobServiceClient(
        transport="rest", credentials=credentials, client_options={"api_endpoint": endpoint}
    )


def check_credentials(api_endpoint: str | None) -> None:
    if api_endpoint and api_endpoint.startswith("http://"):
        return
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError as e:
        raise VertexJobError(
            "no Google Cloud credentials found; run: gcloud auth application-default login"
        ) from e


def console_url(job_name: str) -> str:
    """The Cloud console page of a job (same form as the Vertex AI SDK's dashboard link)."""
    match = re.match(r"projects/([^/]+)/locations/([^/]+)/customJobs/([^/]+)$", job_name)
    if not match:
        return ""
    project, location, job = match.groups()
    return (
        f"https://console.cloud.google.com/agent-platform/locations/{location}/training/{job}"
        f"?project={project}"
    )


def job_parent(settings: JobSettings) -> str:
    return f"projects/{settings.project}/locations/{settings.region}"


def submit_job(client, settings: JobSettings, job):
    return client.create_custom_job(parent=job_parent(settings), custom_job=job)


def state_read_retry(poll_interval_s: float, report: Callable[[str], None]):
    """Retry of a state read on the API's passing errors, each one reported, with backoff."""
    from google.api_core import exceptions, retry

    def on_error(error: Exception) -> None:
        report(f"could not read the job's state ({type(error).__name__}); trying again")

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.ServiceUnavailable,
            exceptions.InternalServerError,
            exceptions.DeadlineExceeded,
            exceptions.TooManyRequests,
        ),
        initial=poll_interval_s,
        maximum=max(poll_interval_s, 300.0),
        timeout=POLL_RETRY_DEADLINE_S,
        on_error=on_error,
    )


def follow_job(
    client,
    job_name: str,
    poll_interval_s: float,
    report: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
):
    """Poll the job until it reaches a final state; report each state change. Returns the job."""
    retry = state_read_retry(poll_interval_s, report)
    last_state = None
    while True:
        job = client.get_custom_job(name=job_name, retry=retry)
        state = job.state.name
        if state != last_state:
            report(f"state: {state}")
            last_state = state
        if state in TERMINAL_STATES:
            return job
        sleep(poll_interval_s)


def write_job_id(root: str, job_id: str) -> None:
    path = os.path.join(root, ".job-id")
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w") as f:
        f.write(job_id + "\n")
    os.replace(temp, path)


# --- command line ------------------------------------------------------------------------------


def build_parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.cloud.vertex_job",
        description=(
            "Run a toolkit module as a Vertex AI custom job. Arguments not listed here go to "
            "the module unchanged, in order. Settings come from prepare-shell.sh's environment."
        ),
    )
    parser.add_argument(
        "--module", required=True, help="module to run, e.g. sciencebeam_gym.trainer.task"
    )
    cli.add_dry_run(
        parser,
        help="print project, region, endpoint, AIP_* folders and the job as JSON; no network",
    )
    parser.add_argument("--no_wait", action="store_true", help="return once the job is submitted")
    parser.add_argument(
        "--tensorboard",
        default=None,
        help="Vertex AI TensorBoard that receives the job's logs: "
        "projects/P/locations/R/tensorboards/ID or the ID (default $VERTEX_TENSORBOARD)",
    )
    parser.add_argument("--job_id", default=None, help="job display name (default $JOB_ID)")
    parser.add_argument(
        "--poll_interval_secs", type=float, default=30.0, help="seconds between state checks"
    )
    parser.add_argument(
        "--api_endpoint",
        default=os.environ.get("VERTEX_API_ENDPOINT"),
        help="Vertex AI endpoint (default REGION-aiplatform.googleapis.com; $VERTEX_API_ENDPOINT)",
    )
    return parser


def parse_args(argv: Sequence[str] | None):
    parser = build_parser()
    args, module_args = parser.parse_known_args(argv)
    return args, module_args


def log(message: str) -> None:
    print(f"[vertex] {message}", file=sys.stderr, flush=True)


def dry_run_description(settings: JobSettings, api_endpoint: str | None) -> dict:
    """Where the job would go, what Vertex AI would tell it, and the job itself."""
    job = build_custom_job(settings, package_uri_for(settings, sdist_name()))
    return {
        "project": settings.project,
        "region": settings.region,
        "endpoint": job_endpoint(settings.region, api_endpoint),
        "parent": job_parent(settings),
        "vertex_sets": vertex_output_dirs(settings.output_path),
        "custom_job": job_to_dict(job),
    }


def run(argv: Sequence[str] | None = None, env: dict | None = None) -> int:
    args, module_args = parse_args(argv)
    env = dict(os.environ if env is None else env)
    settings = settings_from_env(
        env, args.module, module_args, job_id=args.job_id, tensorboard=args.tensorboard
    )
    root = env.get("GYM_ROOT") or os.getcwd()
    build_custom_job(settings, "")  # checks the spec (extras, accelerator) before anything runs
    if args.dry_run:
        print(json.dumps(dry_run_description(settings, args.api_endpoint), indent=2))
        return 0
    check_credentials(args.api_endpoint)
    client = gcs_client.make_client(settings.project)
    gcs_client.check_bucket_exists(client, parse_gcs_url(settings.bucket)[0])
    with tempfile.TemporaryDirectory(prefix="gym-sdist-") as dist_dir:
        sdist = build_sdist(source_root(), dist_dir)
        log(f"staging {os.path.basename(sdist)} -> {settings.staging_path}/")
        package_uri = stage_package(sdist, settings)
    job_client = make_job_client(settings.region, args.api_endpoint)
    created = submit_job(job_client, settings, build_custom_job(settings, package_uri))
    write_job_id(root, settings.job_id)
    log(f"submitted {created.name} ({settings.job_id})")
    link = console_url(created.name)
    log(f"console: {link}")
    log(f"logs: gcloud ai custom-jobs stream-logs {created.name} --region={settings.region}")
    if args.no_wait:
        return 0
    final = follow_job(job_client, created.name, args.poll_interval_secs, log)
    if final.state.name != "JOB_STATE_SUCCEEDED":
        message = final.error.message or "no message"
        log(f"job ended in {final.state.name}: {message}; see {link}")
        return EXIT_JOB_FAILED
    log(f"job succeeded; outputs under {settings.output_path}")
    return 0


def explain_api_error(error) -> str:
    """The API's message, with what to do for the usual first-run problems."""
    text = f"{type(error).__name__}: {error.message}"
    lowered = text.lower()
    if "has not been used" in lowered or "is disabled" in lowered:
        text += "\n  enable the API: gcloud services enable aiplatform.googleapis.com"
    elif type(error).__name__ in ("PermissionDenied", "Forbidden"):
        text += "\n  the account needs roles/aiplatform.user (and storage access to the bucket)"
    return text


def main(argv: Sequence[str] | None = None, env: dict | None = None) -> int:
    from google.api_core.exceptions import GoogleAPICallError, RetryError

    try:
        return run(argv, env)
    except (VertexJobError, StorageError) as e:
        return cli.report_error(e, EXIT_USER_ERROR)
    except GoogleAPICallError as e:
        print(f"error: Vertex AI refused the request: {explain_api_error(e)}", file=sys.stderr)
        return EXIT_JOB_FAILED
    except RetryError as e:
        print(
            f"error: stopped following the job: its state could not be read for "
            f"{POLL_RETRY_DEADLINE_S:g} s ({e.cause}); the job keeps running (see the console link)",
            file=sys.stderr,
        )
        return EXIT_JOB_FAILED
    except KeyboardInterrupt:
        log("stopped following; the job keeps running (see the console link above)")
        return cli.EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
