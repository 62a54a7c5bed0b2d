"""The Vertex AI job: spec field by field (dry run), and the real client against a local server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sciencebeam_gym.cloud import vertex_job
from tests.conftest import REPO_ROOT, TEST_BUCKET, TEST_PROJECT

MODULE = "sciencebeam_gym.trainer.task"
TRAIN_MODEL_PATH = f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4-default/training"
JOB_ID = "sciencebeam_tester_pix2pix_20260101_120000"
# Flags for the module, some looking like this command's own flags: they must pass unchanged.
MODULE_ARGS = [
    "--train_data_paths",
    f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4/preproc/train/*tfrecord*",
    "--output_path",
    TRAIN_MODEL_PATH,
    "--batch_size=10",
    "--job",
    "x",
    "--module_name",
    "y",
]


def job_env(tmp_path, **overrides) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "NO_GCE_CHECK": "True",
        "PROJECT": TEST_PROJECT,
        "BUCKET": f"gs://{TEST_BUCKET}",
        "REGION": "us-central1",
        "JOB_ID": JOB_ID,
        "SUB_PROJECT_NAME": "sciencebeam",
        "MACHINE_TYPE": "n1-standard-8",
        "ACCELERATOR_TYPE": "NVIDIA_TESLA_T4",
        "ACCELERATOR_COUNT": "1",
        "TRAINING_REPLICA_COUNT": "1",
        "TRAIN_MODEL_PATH": TRAIN_MODEL_PATH,
        "GYM_ROOT": str(tmp_path),
    }
    env.update(overrides)
    return env


def dry_run_output(tmp_path, capsys, args=(), **env_overrides) -> dict:
    argv = ["--module", MODULE, "--dry-run", *args, *MODULE_ARGS]
    code = vertex_job.main(argv, env=job_env(tmp_path, **env_overrides))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def dry_run(tmp_path, capsys, args=(), **env_overrides) -> dict:
    return dry_run_output(tmp_path, capsys, args, **env_overrides)["custom_job"]


def test_dry_run_says_where_the_job_goes_and_what_vertex_sets(tmp_path, capsys):
    printed = dry_run_output(tmp_path, capsys, REGION="europe-west4")
    assert printed["project"] == TEST_PROJECT
    assert printed["region"] == "europe-west4"
    assert printed["endpoint"] == "europe-west4-aiplatform.googleapis.com"
    assert printed["parent"] == f"projects/{TEST_PROJECT}/locations/europe-west4"
    base = printed["custom_job"]["jobSpec"]["baseOutputDirectory"]["outputUriPrefix"]
    assert base == TRAIN_MODEL_PATH
    assert printed["vertex_sets"] == {
        "AIP_MODEL_DIR": f"{TRAIN_MODEL_PATH}/model/",
        "AIP_CHECKPOINT_DIR": f"{TRAIN_MODEL_PATH}/checkpoints/",
        "AIP_TENSORBOARD_LOG_DIR": f"{TRAIN_MODEL_PATH}/logs/",
    }
    other = dry_run_output(tmp_path, capsys, args=["--api_endpoint", "http://127.0.0.1:1"])
    assert other["endpoint"] == "http://127.0.0.1:1"


def test_dry_run_names_the_package_as_the_build_does(tmp_path):
    built = vertex_job.build_sdist(str(REPO_ROOT), str(tmp_path))
    assert os.path.basename(built) == vertex_job.sdist_name()
    with tarfile.open(built) as tar:
        names = tar.getnames()
    for data_file in (
        "LICENSE",
        "sciencebeam_gym/color_map.conf",
        "sciencebeam_gym/xml-mapping.conf",
    ):
        assert any(n.endswith(f"/{data_file}") for n in names), data_file


# --- the spec, field by field -------------------------------------------------------------------


def test_dry_run_spec_for_one_gpu(tmp_path, capsys):
    job = dry_run(tmp_path, capsys)
    assert job["displayName"] == JOB_ID
    assert job["labels"] == {"toolkit": "sciencebeam-gym"}
    spec = job["jobSpec"]
    assert spec["baseOutputDirectory"] == {"outputUriPrefix": TRAIN_MODEL_PATH}
    assert len(spec["workerPoolSpecs"]) == 1
    pool = spec["workerPoolSpecs"][0]
    assert pool["replicaCount"] == "1"
    assert pool["machineSpec"] == {
        "machineType": "n1-standard-8",
        "acceleratorType": "NVIDIA_TESLA_T4",
        "acceleratorCount": 1,
    }
    package = pool["pythonPackageSpec"]
    assert package["executorImageUri"] == (
        "us-docker.pkg.dev/vertex-ai/training/tf-gpu.2-17.py310:latest"
    )
    assert package["pythonModule"] == MODULE
    assert package["args"] == MODULE_ARGS
    [uri] = package["packageUris"]
    assert uri.startswith(f"gs://{TEST_BUCKET}/sciencebeam/staging/{JOB_ID}/sciencebeam")
    assert uri.endswith(".tar.gz")
    assert not (tmp_path / ".job-id").exists()  # a dry run leaves nothing behind


def test_dry_run_spec_for_several_workers(tmp_path, capsys):
    job = dry_run(
        tmp_path,
        capsys,
        TRAINING_REPLICA_COUNT="3",
        MACHINE_TYPE="a2-highgpu-1g",
        ACCELERATOR_TYPE="NVIDIA_TESLA_A100",
    )
    chief, workers = job["jobSpec"]["workerPoolSpecs"]
    assert chief["replicaCount"] == "1"
    assert workers["replicaCount"] == "2"
    for pool in (chief, workers):
        assert pool["machineSpec"]["machineType"] == "a2-highgpu-1g"
        assert pool["machineSpec"]["acceleratorType"] == "NVIDIA_TESLA_A100"
        assert pool["pythonPackageSpec"]["args"] == MODULE_ARGS
        assert pool["pythonPackageSpec"]["pythonModule"] == MODULE


def test_dry_run_spec_without_gpu_uses_the_cpu_image(tmp_path, capsys):
    job = dry_run(tmp_path, capsys, ACCELERATOR_COUNT="0", REGION="europe-west4")
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {"machineType": "n1-standard-8"}
    assert pool["pythonPackageSpec"]["executorImageUri"] == (
        "europe-docker.pkg.dev/vertex-ai/training/tf-cpu.2-17.py310:latest"
    )


def test_dry_run_takes_job_id_flag_and_image_override(tmp_path, capsys):
    job = dry_run(
        tmp_path, capsys, args=["--job_id", "my_job"], TRAINING_IMAGE_URI="example/image:1"
    )
    assert job["displayName"] == "my_job"
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert pool["pythonPackageSpec"]["executorImageUri"] == "example/image:1"
    assert "/staging/my_job/" in pool["pythonPackageSpec"]["packageUris"][0]


def test_dry_run_with_a_vertex_tensorboard(tmp_path, capsys):
    tensorboard = f"projects/{TEST_PROJECT}/locations/us-central1/tensorboards/123"
    account = f"trainer@{TEST_PROJECT}.iam.gserviceaccount.com"
    job = dry_run(tmp_path, capsys, VERTEX_TENSORBOARD=tensorboard, VERTEX_SERVICE_ACCOUNT=account)
    assert job["jobSpec"]["tensorboard"] == tensorboard
    assert job["jobSpec"]["serviceAccount"] == account
    plain = dry_run(tmp_path, capsys)
    assert "tensorboard" not in plain["jobSpec"] and "serviceAccount" not in plain["jobSpec"]
    by_flag = dry_run(
        tmp_path, capsys, args=["--tensorboard", "123"], VERTEX_SERVICE_ACCOUNT=account
    )
    assert by_flag["jobSpec"]["tensorboard"] == tensorboard  # the ID, in PROJECT and REGION


def test_dry_run_needs_no_network_nor_credentials(tmp_path):
    env = job_env(tmp_path)
    env.pop("STORAGE_EMULATOR_HOST", None)
    command = [sys.executable, "-m", "sciencebeam_gym.cloud.vertex_job", "--module", MODULE]
    command += ["--dry-run", *MODULE_ARGS]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["custom_job"]["displayName"] == JOB_ID


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PROJECT": ""}, "no Google Cloud project"),
        ({"TRAIN_MODEL_PATH": "/local/training"}, "TRAIN_MODEL_PATH"),
        ({"BUCKET": "gs:/typo-bucket"}, "typo"),
        ({"ACCELERATOR_TYPE": "NVIDIA_TESLA_T5"}, "not a Vertex AI accelerator"),
        ({"TRAINING_REPLICA_COUNT": "two"}, "TRAINING_REPLICA_COUNT"),
        ({"REGION": None}, "REGION is not set; source prepare-shell.sh"),
        ({"MACHINE_TYPE": None}, "MACHINE_TYPE is not set; source prepare-shell.sh"),
        ({"ACCELERATOR_TYPE": None}, "ACCELERATOR_TYPE is not set; source prepare-shell.sh"),
        ({"VERTEX_TENSORBOARD": "projects/p/locations/r/tensorboards/1"}, "needs VERTEX_SERVICE"),
        (
            {"VERTEX_TENSORBOARD": "tb-1", "VERTEX_SERVICE_ACCOUNT": "a@b"},
            "not a TensorBoard resource name",
        ),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path, capsys, overrides, message):
    argv = ["--module", MODULE, "--dry-run", *MODULE_ARGS]
    env = {k: v for k, v in job_env(tmp_path, **overrides).items() if v is not None}
    code = vertex_job.main(argv, env=env)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.out == ""


# --- the real client against a local server ---------------------------------------------------


class FakeVertexServer:
    """A loopback HTTP server answering the two Vertex AI calls the job makes, recording them."""

    def __init__(self, states, error_message="", unavailable_answers=0):
        self.requests = []
        self.unavailable_answers = unavailable_answers
        self.states = list(states)
        self.error_message = error_message
        self.job = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(("POST", self.path, body, dict(self.headers)))
                parent = self.path.split("?")[0].removeprefix("/v1/").removesuffix("/customJobs")
                server.job = {**body, "name": f"{parent}/customJobs/4242"}
                self.reply({**server.job, "state": "JOB_STATE_PENDING"})

            def do_GET(self):
                server.requests.append(("GET", self.path, None, dict(self.headers)))
                if server.unavailable_answers > 0:
                    server.unavailable_answers -= 1
                    data = b'{"error": {"code": 503, "message": "try later"}}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                state = server.states.pop(0) if len(server.states) > 1 else server.states[0]
                answer = {**server.job, "state": state}
                if state == "JOB_STATE_FAILED":
                    answer["error"] = {"code": 3, "message": server.error_message}
                self.reply(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def submit(tmp_path, server, extra=(), **env_overrides) -> int:
    argv = ["--module", MODULE, "--api_endpoint", server.url, "--poll_interval_secs", "0.01"]
    env = job_env(tmp_path, **env_overrides)
    env["STORAGE_EMULATOR_HOST"] = os.environ["STORAGE_EMULATOR_HOST"]
    return vertex_job.main([*argv, *extra, *MODULE_ARGS], env=env)


def test_submission_stages_the_package_and_follows_the_job(gcs, storage_client, tmp_path, capsys):
    states = ["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"]
    with FakeVertexServer(states) as server:
        code = submit(tmp_path, server)
    err = capsys.readouterr().err
    assert code == 0, err

    posts = [r for r in server.requests if r[0] == "POST"]
    gets = [r for r in server.requests if r[0] == "GET"]
    assert len(posts) == 1
    method, path, body, headers = posts[0]
    assert path.split("?")[0] == f"/v1/projects/{TEST_PROJECT}/locations/us-central1/customJobs"
    assert "authorization" not in {k.lower() for k in headers}  # no credentials over plain http
    assert body["displayName"] == JOB_ID
    pool = body["jobSpec"]["workerPoolSpecs"][0]
    assert pool["pythonPackageSpec"]["pythonModule"] == MODULE
    assert pool["pythonPackageSpec"]["args"] == MODULE_ARGS
    # the REST client sends enums as numbers; read the body back as the API would
    from google.cloud import aiplatform_v1

    received = aiplatform_v1.CustomJob.from_json(json.dumps(body))
    machine = received.job_spec.worker_pool_specs[0].machine_spec
    assert machine.accelerator_type.name == "NVIDIA_TESLA_T4"
    assert machine.accelerator_count == 1
    assert machine.machine_type == "n1-standard-8"
    assert body["jobSpec"]["baseOutputDirectory"]["outputUriPrefix"] == TRAIN_MODEL_PATH

    # the package named in the job really is in the bucket, and it is this package
    [package_uri] = pool["pythonPackageSpec"]["packageUris"]
    object_name = package_uri.removeprefix(f"gs://{TEST_BUCKET}/")
    data = storage_client.bucket(TEST_BUCKET).blob(object_name).download_as_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
    assert any(n.endswith("sciencebeam_gym/cloud/vertex_job.py") for n in names)
    assert any(n.endswith("/setup.py") for n in names)

    # it polled until the final state, reporting each change once
    assert len(gets) == len(states)
    assert all(g[1].split("?")[0].endswith("/customJobs/4242") for g in gets)
    assert err.count("state: JOB_STATE_RUNNING") == 1
    assert "state: JOB_STATE_SUCCEEDED" in err
    assert (
        f"console: https://console.cloud.google.com/agent-platform/locations/us-central1/"
        f"training/4242?project={TEST_PROJECT}"
    ) in err
    assert (tmp_path / ".job-id").read_text().strip() == JOB_ID


def test_a_failed_job_exits_non_zero_with_its_message(gcs, tmp_path, capsys):
    server = FakeVertexServer(["JOB_STATE_RUNNING", "JOB_STATE_FAILED"], "replica chief exited 1")
    with server:
        code = submit(tmp_path, server)
    err = capsys.readouterr().err
    assert code == 1
    assert "job ended in JOB_STATE_FAILED: replica chief exited 1" in err


def test_following_survives_a_passing_outage(gcs, tmp_path, capsys):
    server = FakeVertexServer(["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"], unavailable_answers=2)
    with server:
        code = submit(tmp_path, server)
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("could not read the job's state (ServiceUnavailable)") == 2
    assert "state: JOB_STATE_SUCCEEDED" in err


def test_following_gives_up_clearly_on_a_lasting_outage(gcs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(vertex_job, "POLL_RETRY_DEADLINE_S", 0.3)
    server = FakeVertexServer(["JOB_STATE_RUNNING"], unavailable_answers=10**6)
    with server:
        code = submit(tmp_path, server)
    err = capsys.readouterr().err
    assert code == 1
    assert "stopped following the job: its state could not be read for 0.3 s" in err
    assert "the job keeps running" in err and "Traceback" not in err


def test_no_wait_returns_after_submitting(gcs, tmp_path, capsys):
    with FakeVertexServer(["JOB_STATE_RUNNING"]) as server:
        code = submit(tmp_path, server, extra=["--no-wait"])
    assert code == 0, capsys.readouterr().err
    assert [r[0] for r in server.requests] == ["POST"]


def test_unknown_bucket_stops_before_anything_is_sent(gcs, tmp_path, capsys):
    with FakeVertexServer(["JOB_STATE_SUCCEEDED"]) as server:
        code = submit(tmp_path, server, BUCKET="gs://no-such-bucket")
    assert code == 2
    assert "bucket gs://no-such-bucket does not exist" in capsys.readouterr().err
    assert server.requests == []


def test_missing_credentials_stop_before_anything_runs(tmp_path):
    env = job_env(tmp_path)  # no emulator, no credentials, the real endpoint
    command = [sys.executable, "-m", "sciencebeam_gym.cloud.vertex_job", "--module", MODULE]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "gcloud auth application-default login" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_cloud_extras_are_a_clear_error(tmp_path):
    code = (
        "import sys; sys.modules['google.cloud.aiplatform_v1'] = None\n"
        "from sciencebeam_gym.cloud.vertex_job import main\n"
        "sys.exit(main(['--module', 'm', '--dry-run']))"
    )
    env = job_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "pip install -e '.[cloud]'" in result.stderr


def dry_run_job(tmp_path, script: str, *args: str, **settings: str) -> dict:
    """The Vertex AI job that `script --cloud --dry-run ARGS` prints, without a .config
    (settings: environment variables such as IMAGE_WIDTH)."""
    env = dict(os.environ, PROJECT=TEST_PROJECT, GYM_QUIET="true", JOB_ID=JOB_ID, **settings)
    env["GYM_CONFIG_FILE"] = str(tmp_path / "no.config")
    env.pop("BUCKET", None)
    result = subprocess.run(
        [str(REPO_ROOT / script), "--cloud", "--dry-run", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["custom_job"]


@pytest.mark.parametrize(
    ("script", "module", "path_flag"),
    [
        ("train.sh", "sciencebeam_gym.trainer.task", "--output_path"),
        ("eval.sh", "sciencebeam_gym.trainer.evaluate_checkpoint", "--model_path"),
    ],
)
def test_scripts_with_cloud_submit_their_module(tmp_path, script, module, path_flag):
    job = dry_run_job(tmp_path, script, "--some_flag", "last")
    assert job["displayName"] == JOB_ID
    package = job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]
    assert package["pythonModule"] == module
    args = package["args"]
    assert args[args.index(path_flag) + 1] == TRAIN_MODEL_PATH
    assert args[-2:] == ["--some_flag", "last"]


def test_train_sh_passes_a_non_square_page_size_as_width_and_height(tmp_path):
    job = dry_run_job(tmp_path, "train.sh", IMAGE_WIDTH="256", IMAGE_HEIGHT="320")
    args = job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["args"]
    assert args[args.index("--image_width") + 1] == "256"
    assert args[args.index("--image_height") + 1] == "320"
    assert "--image_size" not in args


def test_save_model_cloud_submits_the_export_module(tmp_path):
    job = dry_run_job(tmp_path, "save-model.sh")
    assert job["displayName"] == f"{JOB_ID}_export"
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert pool["pythonPackageSpec"]["pythonModule"] == "sciencebeam_gym.serving.export"
    args = pool["pythonPackageSpec"]["args"]
    assert args[args.index("--model_path") + 1] == TRAIN_MODEL_PATH
    assert args[args.index("--export_path") + 1] == TRAIN_MODEL_PATH.rsplit("/", 1)[0] + "/export"
    assert "acceleratorCount" not in pool["machineSpec"]  # a CPU job
    assert args[args.index("--dpi") + 1] == "100"  # GENERATE_DPI: the training pages' dpi


def test_save_model_passes_the_configured_dpi_of_the_training_pages(tmp_path):
    job = dry_run_job(tmp_path, "save-model.sh", GENERATE_DPI="72")
    args = job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["args"]
    assert args[args.index("--dpi") + 1] == "72"


def test_train_sh_reads_quoted_paths_in_its_settings(tmp_path):
    job = dry_run_job(
        tmp_path,
        "train.sh",
        TRAIN_DATA_PATHS="'/data/my records/*tfrecord*':2 \"/other data/*tfrecord*\" /plain/*",
        TRAINING_ARGS="--class_weights '/my dir/w.json' --ngf=16",
    )
    args = job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["args"]
    sources = [args[i + 1] for i, arg in enumerate(args) if arg == "--train_data_paths"]
    assert sources == ["/data/my records/*tfrecord*:2", "/other data/*tfrecord*", "/plain/*"]
    assert args[args.index("--class_weights") + 1] == "/my dir/w.json"
    assert "--ngf=16" in args


def test_train_sh_record_flags_replace_the_configured_ones(tmp_path):
    job = dry_run_job(
        tmp_path,
        "train.sh",
        "--train_data_paths",
        "/given/*:3",
        "--eval-data-paths=/given-eval/*",
        TRAIN_DATA_PATHS="/configured/*",
        EVAL_DATA_PATHS="/configured-eval/*",
    )
    args = job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["args"]
    assert [a for a in args if "configured" in a] == []
    sources = [args[i + 1] for i, arg in enumerate(args) if arg == "--train_data_paths"]
    assert sources == ["/given/*:3"]
    assert "--eval-data-paths=/given-eval/*" in args


def test_an_unclosed_quote_in_a_setting_is_named(tmp_path):
    env = dict(os.environ, PROJECT=TEST_PROJECT, GYM_QUIET="true", JOB_ID=JOB_ID)
    env.update(GYM_CONFIG_FILE=str(tmp_path / "no.config"), TRAINING_ARGS="--class_weights '/a b")
    result = subprocess.run(
        [str(REPO_ROOT / "train.sh"), "--cloud", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "TRAINING_ARGS cannot be split into words: unmatched single quote" in result.stderr
