"""Uploads to Cloud Storage against the emulator: scripts, checksums, interruption, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sciencebeam_gym.cloud import storage
from sciencebeam_gym.cloud.emulator import find_free_port
from tests.cloud.conftest import REPO_ROOT, TEST_BUCKET

GCS_PATH = f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4"


def write_file(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_data_dir(root, pages_per_split: int = 3):
    """A data folder in the layout generate-sample-data.sh writes: split/doc/page/*.png."""
    for split in ("train", "test"):
        for i in range(pages_per_split):
            base = root / split / f"doc{i}" / "page1"
            write_file(base / f"doc{i}-page1.png", f"{split} page {i}".encode())
            write_file(base / f"doc{i}-page1.annot.png", f"{split} annot {i}".encode())
    return root


def objects(client, prefix: str = "") -> dict[str, bytes]:
    return {b.name: b.download_as_bytes() for b in client.list_blobs(TEST_BUCKET, prefix=prefix)}


def generations(client, prefix: str = "") -> dict[str, int]:
    return {b.name: b.generation for b in client.list_blobs(TEST_BUCKET, prefix=prefix)}


def count_objects(client, prefix: str, up_to: int) -> int:
    return sum(1 for _ in client.list_blobs(TEST_BUCKET, prefix=prefix, max_results=up_to))


def run_script(name: str, args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO_ROOT / name), *args], env=env, capture_output=True, text=True, timeout=120
    )


# --- gs:// paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs:/bucket/x", "typo"),
        ("gs//bucket/x", "typo"),
        ("s3://bucket/x", "not a Cloud Storage URL"),
        ("gs:///x", "no bucket name"),
        ("gs://My_Bucket/x", "not a valid bucket name"),
        ("gs://bucket//x", "empty folder name"),
    ],
)
def test_parse_gcs_url_rejects_typos_with_a_reason(url, message):
    with pytest.raises(storage.StorageError, match=message):
        storage.parse_gcs_url(url)


def test_parse_gcs_url_splits_bucket_and_name():
    assert storage.parse_gcs_url("gs://my-bucket/a/b.txt") == ("my-bucket", "a/b.txt")
    assert storage.parse_gcs_url("gs://my-bucket/") == ("my-bucket", "")


def test_plan_uploads_maps_folders_under_their_name(tmp_path):
    make_data_dir(tmp_path / "data", pages_per_split=1)
    write_file(tmp_path / "data" / "train" / ".hidden", b"x")
    items = storage.plan_uploads([str(tmp_path / "data" / "train")], "gs://bkt/x/data/")
    assert [item.object_name for item in items] == [
        "x/data/train/doc0/page1/doc0-page1.annot.png",
        "x/data/train/doc0/page1/doc0-page1.png",
    ]


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


# --- checksums, interruption, changes ------------------------------------------------------------


def test_re_upload_sends_only_changed_files(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data")
    destination = f"{GCS_PATH}/data/"
    sources = [str(data_dir / "train"), str(data_dir / "test")]
    first = storage.upload(sources, destination, workers=4)
    assert len(first.uploaded) == 12 and not first.skipped and not first.failed
    before = generations(storage_client)

    changed = data_dir / "train" / "doc1" / "page1" / "doc1-page1.png"
    changed.write_bytes(b"a new version of the page")
    second = storage.upload(sources, destination, workers=4)

    changed_name = "sciencebeam/pix2pix/v4/data/train/doc1/page1/doc1-page1.png"
    assert second.uploaded == [changed_name]
    assert len(second.skipped) == 11
    after = generations(storage_client)
    assert after[changed_name] != before[changed_name]
    assert {k: v for k, v in after.items() if k != changed_name} == {
        k: v for k, v in before.items() if k != changed_name
    }
    assert storage_client.bucket(TEST_BUCKET).blob(changed_name).download_as_bytes() == (
        b"a new version of the page"
    )


def test_interrupted_upload_is_finished_by_a_re_run(gcs, storage_client, tmp_path):
    count = 300
    folder = tmp_path / "many"
    for i in range(count):
        write_file(folder / f"f{i:04d}.bin", os.urandom(64) + str(i).encode())
    destination = f"gs://{TEST_BUCKET}/upload/"
    command = [sys.executable, "-m", "sciencebeam_gym.cloud.storage", "upload"]
    command += [str(folder), destination, "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while count_objects(storage_client, "upload/", 10) < 10 and time.monotonic() < deadline:
            assert process.poll() is None, "the upload finished before it could be interrupted"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    before = generations(storage_client, "upload/")
    assert 10 <= len(before) < count

    result = storage.upload([str(folder)], destination, workers=4)

    assert not result.failed
    assert len(result.uploaded) == count - len(before)
    assert sorted(result.skipped) == sorted(before)
    after = generations(storage_client, "upload/")
    assert len(after) == count
    assert {name: after[name] for name in before} == before  # not sent again
    uploaded = objects(storage_client, "upload/")
    for i in (0, count // 2, count - 1):
        expected = (folder / f"f{i:04d}.bin").read_bytes()
        assert uploaded[f"upload/many/f{i:04d}.bin"] == expected


def test_a_file_changed_after_its_checksum_is_refused_and_not_written(
    gcs, storage_client, tmp_path
):
    path = tmp_path / "page.png"
    path.write_bytes(b"first version")
    snapshot = storage.snapshot_file(str(path))
    path.write_bytes(b"second version, written while the upload ran")
    item = storage.UploadItem(str(path), TEST_BUCKET, "changed/page.png")
    with pytest.raises(storage.FileChangedError, match="changed during upload"):
        storage.upload_snapshot(storage_client, item, snapshot)
    assert objects(storage_client, "changed/") == {}


def test_a_large_file_goes_in_chunks_and_a_change_is_refused_there_too(
    gcs, storage_client, tmp_path
):
    path = tmp_path / "big.tfrecord.gz"
    path.write_bytes(os.urandom(9 * 1024 * 1024))  # above the single-request limit: resumable
    item = storage.UploadItem(str(path), TEST_BUCKET, "big/big.tfrecord.gz")
    snapshot = storage.snapshot_file(str(path))
    storage.upload_snapshot(storage_client, item, snapshot)
    blob = storage_client.bucket(TEST_BUCKET).get_blob(item.object_name)
    assert blob.crc32c == snapshot.crc32c and blob.size == path.stat().st_size

    with path.open("r+b") as f:
        f.write(b"changed")
    item = storage.UploadItem(str(path), TEST_BUCKET, "big/other.tfrecord.gz")
    with pytest.raises(storage.FileChangedError):
        storage.upload_snapshot(storage_client, item, snapshot)
    assert storage_client.bucket(TEST_BUCKET).get_blob(item.object_name) is None


# --- bad input -----------------------------------------------------------------------------------


def test_unknown_bucket_is_a_clear_error(gcs, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    code = storage.main(["upload", str(tmp_path / "a.txt"), "gs://no-such-bucket/x/"])
    assert code == 2
    assert "bucket gs://no-such-bucket does not exist" in capsys.readouterr().err


def test_missing_local_source_is_a_clear_error(gcs, tmp_path, capsys):
    code = storage.main(["upload", str(tmp_path / "nope"), f"gs://{TEST_BUCKET}/x/"])
    assert code == 2
    assert "nope does not exist" in capsys.readouterr().err


def test_typo_in_destination_is_a_clear_error(gcs, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    code = storage.main(["upload", str(tmp_path / "a.txt"), f"gs:/{TEST_BUCKET}/x/"])
    assert code == 2
    assert "typo" in capsys.readouterr().err


def test_describe_missing_suggests_the_near_name(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data", pages_per_split=1)
    storage.upload([str(data_dir / "train")], f"{GCS_PATH}/data/", workers=2)
    message = storage.describe_missing(storage_client, f"{GCS_PATH}/dta/train")
    assert f"{GCS_PATH}/ has data/" in message
    assert "did you mean data/" in message


def test_explain_no_match_for_a_glob(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data", pages_per_split=1)
    storage.upload([str(data_dir / "train")], f"{GCS_PATH}/data/", workers=2)
    typo = storage.explain_no_match(f"{GCS_PATH}/dta/train/*/*/*-page1*.png", storage_client)
    assert "did you mean data/" in typo
    wrong_files = storage.explain_no_match(f"{GCS_PATH}/data/train/doc0/page1/*.jpg")
    assert (
        wrong_files == f"{GCS_PATH}/data/train/doc0/page1/ has doc0-page1.annot.png, doc0-page1.png"
    )
    assert storage.explain_no_match("/local/*.png") == ""
    assert "gs://no-such-bucket does not exist" in storage.explain_no_match(
        "gs://no-such-bucket/x/*"
    )


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
        "import sys; from sciencebeam_gym.cloud.storage import main; "
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
        "from sciencebeam_gym.cloud.storage import main\n"
        f"sys.exit(main(['upload', {str(tmp_path / 'a.txt')!r}, 'gs://some-bucket/x/']))"
    )
    result = run_isolated(code, dict(os.environ))
    assert result.returncode == 2, result.stderr
    assert "pip install -e '.[cloud]'" in result.stderr


def test_an_endpoint_that_goes_away_fails_the_upload_in_seconds(gcs, tmp_path, monkeypatch):
    # The listing reaches the emulator; then the endpoint is gone (nothing listens on the port).
    # The client's default retry kept each file going for 120 s with the progress line frozen.
    folder = tmp_path / "data"
    for i in range(6):
        write_file(folder / f"page{i}.png", b"x" * 100)
    items = storage.plan_uploads([str(folder)], f"gs://{TEST_BUCKET}/gone/")
    gone = f"http://127.0.0.1:{find_free_port()}"
    made = []

    def client_factory():
        made.append(1)
        if len(made) > 1:  # the listing client first, then the uploading clients
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", gone)
        return storage.make_client()

    started = time.monotonic()
    with pytest.raises(storage.StorageError, match=f"cannot reach the storage endpoint {gone}"):
        storage.upload_items(items, client_factory, workers=2)
    assert time.monotonic() - started < 30
