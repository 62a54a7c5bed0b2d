"""The upload command line and its scripts (upload-config.sh, upload-data.sh) against the
emulator: what they copy, re-runs, and the errors a user can fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sciencebeam_gym.cloud import upload
from tests.conftest import REPO_ROOT, TEST_BUCKET
from tests.storage.factory import generations, make_data_dir, objects, write_file


def run_script(name: str, args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO_ROOT / name), *args], env=env, capture_output=True, text=True, timeout=120
    )


# --- the scripts -------------------------------------------------------------------------------


def test_upload_config_copies_the_colour_map_and_skips_it_the_second_time(
    script_env, storage_client
):
    first = run_script("upload-config.sh", [], script_env)
    assert first.returncode == 0, first.stderr
    name = "sciencebeam/pix2pix/v4/config/color_map.conf"
    uploaded = objects(storage_client, "sciencebeam/")
    assert list(uploaded) == [name]
    assert uploaded[name] == (REPO_ROOT / "color_map.conf").read_bytes()
    generation = generations(storage_client)[name]

    second = run_script("upload-config.sh", [], script_env)
    assert second.returncode == 0, second.stderr
    assert "0 uploaded" in second.stderr and "1 already there" in second.stderr
    assert generations(storage_client)[name] == generation


def test_upload_data_copies_train_and_test(script_env, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "mydata")
    result = run_script("upload-data.sh", [str(data_dir), "--workers", "3"], script_env)
    assert result.returncode == 0, result.stderr
    uploaded = objects(storage_client, "sciencebeam/")
    local = {
        f"sciencebeam/pix2pix/v4/data/{p.relative_to(data_dir).as_posix()}": p.read_bytes()
        for p in data_dir.rglob("*.png")
    }
    assert uploaded == local
    assert "12 uploaded" in result.stderr


def test_upload_data_defaults_to_the_local_data_path(script_env, storage_client, tmp_path):
    local_data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    make_data_dir(local_data, pages_per_split=1)
    result = run_script("upload-data.sh", [], script_env)
    assert result.returncode == 0, result.stderr
    assert sorted(objects(storage_client, "sciencebeam/")) == [
        "sciencebeam/pix2pix/v4/data/test/doc0/page1/doc0-page1.annot.png",
        "sciencebeam/pix2pix/v4/data/test/doc0/page1/doc0-page1.png",
        "sciencebeam/pix2pix/v4/data/train/doc0/page1/doc0-page1.annot.png",
        "sciencebeam/pix2pix/v4/data/train/doc0/page1/doc0-page1.png",
    ]


@pytest.mark.parametrize("missing", ["train", "test"])
def test_upload_data_exits_2_when_a_split_is_missing(missing, script_env, storage_client, tmp_path):
    data_dir = tmp_path / "data"
    kept = "test" if missing == "train" else "train"
    write_file(data_dir / kept / "a" / "b" / "x-page1.png", b"page")
    result = run_script("upload-data.sh", [str(data_dir)], script_env)
    assert result.returncode == 2
    assert f"no {missing}/ folder in {data_dir}" in result.stderr
    assert objects(storage_client) == {}


def test_upload_scripts_need_a_project(script_env, tmp_path):
    # no gcloud configuration to take a project from either
    env = dict(script_env, PROJECT="", CLOUDSDK_CONFIG=str(tmp_path / "gcloud"))
    result = run_script("upload-config.sh", [], env)
    assert result.returncode == 2
    assert "needs a Google Cloud project" in result.stderr


# --- bad input -----------------------------------------------------------------------------------


def test_unknown_bucket_is_a_clear_error(gcs, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    code = upload.main(["upload", str(tmp_path / "a.txt"), "gs://no-such-bucket/x/"])
    assert code == 2
    assert "bucket gs://no-such-bucket does not exist" in capsys.readouterr().err


def test_missing_local_source_is_a_clear_error(gcs, tmp_path, capsys):
    code = upload.main(["upload", str(tmp_path / "nope"), f"gs://{TEST_BUCKET}/x/"])
    assert code == 2
    assert "nope does not exist" in capsys.readouterr().err


def test_typo_in_destination_is_a_clear_error(gcs, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    code = upload.main(["upload", str(tmp_path / "a.txt"), f"gs:/{TEST_BUCKET}/x/"])
    assert code == 2
    assert "typo" in capsys.readouterr().err


def run_isolated(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_missing_credentials_are_a_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "NO_GCE_CHECK": "True",  # no metadata-server probe: nothing leaves the machine
    }
    code = (
        "import sys; from sciencebeam_gym.cloud.upload import main; "
        f"sys.exit(main(['upload', {str(tmp_path / 'a.txt')!r}, 'gs://some-bucket/x/']))"
    )
    result = run_isolated(code, env)
    assert result.returncode == 2, result.stderr
    assert "gcloud auth application-default login" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_cloud_client_is_a_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    code = (
        "import sys; sys.modules['google.cloud.storage'] = None\n"
        "from sciencebeam_gym.cloud.upload import main\n"
        f"sys.exit(main(['upload', {str(tmp_path / 'a.txt')!r}, 'gs://some-bucket/x/']))"
    )
    result = run_isolated(code, dict(os.environ))
    assert result.returncode == 2, result.stderr
    assert "pip install -e '.[cloud]'" in result.stderr
