"""DataflowRunner arguments from the configuration, and runner options reaching the pipeline."""

import json
import os
import subprocess

import pytest
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)

from sciencebeam_gym.cloud.dataflow import (
    DataflowConfigError,
    dataflow_args,
    dataflow_job_name,
    extra_requirements,
)
from sciencebeam_gym.preprocess import pipeline
from tests.conftest import REPO_ROOT

ENV = {
    "PROJECT": "my-project",
    "BUCKET": "gs://my-bucket",
    "REGION": "europe-west1",
    "SUB_PROJECT_NAME": "sciencebeam",
    "GYM_ROOT": "/src/gym",
    "MAX_NUM_WORKERS": "4",
    "NUM_WORKERS": "2",
}


def options_of(args) -> PipelineOptions:
    return PipelineOptions(args)


def test_every_field_comes_from_the_configuration():
    options = options_of(dataflow_args("Preprocess_Train 2024", ENV))
    cloud = options.view_as(GoogleCloudOptions)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert cloud.project == "my-project"
    assert cloud.region == "europe-west1"
    assert cloud.temp_location == "gs://my-bucket/sciencebeam/dataflow/temp"
    assert cloud.staging_location == "gs://my-bucket/sciencebeam/dataflow/staging"
    assert cloud.job_name == "preprocess-train-2024"
    setup = options.view_as(SetupOptions)
    assert setup.setup_file == "/src/gym/setup.py"
    assert setup.save_main_session is True
    workers = options.view_as(WorkerOptions)
    assert workers.max_num_workers == 4
    assert workers.num_workers == 2


def prepare_shell_environment(tmp_path) -> dict:
    """The environment `source prepare-shell.sh --cloud` exports, with no .config."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PROJECT": "p",
        "GYM_CONFIG_FILE": str(tmp_path / "no.config"),
        "GYM_QUIET": "true",
    }
    command = f"source {REPO_ROOT}/prepare-shell.sh --cloud && env -0"
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, check=True)
    return dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)


def test_defaults_come_from_prepare_shell_and_leave_the_initial_count_to_dataflow(tmp_path):
    env = prepare_shell_environment(tmp_path)
    options = options_of(dataflow_args("job", env))
    workers = options.view_as(WorkerOptions)
    assert workers.max_num_workers == int(env["MAX_NUM_WORKERS"])
    assert workers.num_workers is None
    cloud = options.view_as(GoogleCloudOptions)
    assert cloud.region == env["REGION"]
    assert cloud.temp_location == f"gs://p-ml/{env['SUB_PROJECT_NAME']}/dataflow/temp"
    assert options.view_as(SetupOptions).setup_file == f"{REPO_ROOT}/setup.py"
    assert options.view_as(SetupOptions).requirements_file is None  # the core only


@pytest.mark.parametrize("key", ["REGION", "MAX_NUM_WORKERS", "SUB_PROJECT_NAME"])
def test_no_default_of_its_own(key):
    env = {k: v for k, v in ENV.items() if k != key}
    with pytest.raises(DataflowConfigError, match=f"{key} is not set; source prepare-shell.sh"):
        dataflow_args("job", env)


def test_a_stage_extra_becomes_the_workers_requirements_file(tmp_path):
    args = dataflow_args("Generate Data", {**ENV, "GYM_ROOT": str(tmp_path)}, extras=["generate"])
    path = options_of(args).view_as(SetupOptions).requirements_file
    assert path == str(tmp_path / ".temp" / "dataflow" / "generate-data-requirements.txt")
    with open(path) as f:
        names = {line.split(">")[0].split("=")[0] for line in f.read().split()}
    assert {"pypdfium2", "rapidfuzz", "lxml"} <= names
    assert not names & {"tensorflow", "apache-beam"}  # training's stack, and Beam is in the image
    assert extra_requirements(["train"]) != extra_requirements(["generate"])


def test_optional_machine_type():
    args = dataflow_args("job", {**ENV, "DATAFLOW_MACHINE_TYPE": "n1-highcpu-8"})
    assert options_of(args).view_as(WorkerOptions).machine_type == "n1-highcpu-8"
    assert "--worker_machine_type" not in dataflow_args("job", ENV)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PROJECT": ""}, "PROJECT is not set"),
        ({"BUCKET": ""}, "BUCKET is not set"),
        ({"BUCKET": "my-bucket"}, "BUCKET must be a gs:// URL"),
        ({"MAX_NUM_WORKERS": "many"}, "MAX_NUM_WORKERS must be a positive whole number"),
        ({"NUM_WORKERS": "0"}, "NUM_WORKERS must be a positive whole number"),
        ({"NUM_WORKERS": "8"}, "NUM_WORKERS=8 is above MAX_NUM_WORKERS=4"),
    ],
)
def test_clear_errors_name_the_setting(change, message):
    with pytest.raises(DataflowConfigError, match=message):
        dataflow_args("job", {**ENV, **change})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sciencebeam_alice_pix2pix_20240101_120000-preprocess-train", None),
        ("UPPER case__and spaces", "upper-case-and-spaces"),
        ("2024 job", "job-2024-job"),
        ("x" * 100, "x" * 63),
    ],
)
def test_job_names_are_valid_for_dataflow(name, expected):
    import re

    job_name = dataflow_job_name(name)
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", job_name)
    assert len(job_name) <= 63
    if expected:
        assert job_name == expected


def test_preprocess_cloud_dry_run_builds_dataflow_options(monkeypatch, capsys):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    argv = ["--data_paths", "gs://my-bucket/data/train/*/*/*-page1*.png"]
    argv += ["--output_path", "gs://my-bucket/preproc/train", "--cloud", "--job_name", "Job 1"]
    assert pipeline.main([*argv, "--dry_run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    options = printed["pipeline_options"]
    assert options["runner"] == "DataflowRunner"
    assert options["project"] == "my-project"
    assert options["job_name"] == "job-1"
    assert options["max_num_workers"] == 4
    assert "direct_num_workers" not in printed["beam_args"]


def test_preprocess_cloud_without_project_fails_clearly(monkeypatch, capsys):
    monkeypatch.delenv("PROJECT", raising=False)
    monkeypatch.setenv("BUCKET", "gs://b")
    argv = ["--data_paths", "x", "--output_path", "gs://b/out", "--cloud", "--dry_run"]
    assert pipeline.main(argv) == 2
    assert "PROJECT is not set" in capsys.readouterr().err


def test_other_runners_options_reach_the_pipeline_intact(capsys):
    extra = ["--runner", "FlinkRunner", "--flink_master", "localhost:8081", "--parallelism", "3"]
    argv = ["--data_paths", "x", "--output_path", "/tmp/out", *extra, "--dry_run"]
    assert pipeline.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    options = PipelineOptions(printed["beam_args"]).get_all_options()
    assert options["runner"] == "FlinkRunner"
    assert options["flink_master"] == "localhost:8081"
    assert options["parallelism"] == 3
    assert "--direct_num_workers" not in printed["beam_args"]
    assert printed["pipeline_options"]["flink_master"] == "localhost:8081"


def test_local_runs_use_every_core_unless_told_otherwise(capsys):
    argv = ["--data_paths", "x", "--output_path", "/tmp/out", "--dry_run"]
    assert pipeline.main(argv) == 0
    options = json.loads(capsys.readouterr().out)["pipeline_options"]
    assert options["direct_num_workers"] == pipeline.default_local_workers()
    assert pipeline.main([*argv, "--num_workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["pipeline_options"]["direct_num_workers"] == 1
