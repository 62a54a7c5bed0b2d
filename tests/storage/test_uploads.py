"""Checksummed, parallel, re-runnable uploads against the emulator: changes, interruption,
a file changed while sent, an endpoint that goes away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sciencebeam_gym.cloud.emulator import find_free_port
from sciencebeam_gym.storage import gcs_client, uploads
from sciencebeam_gym.storage.errors import StorageError
from tests.conftest import TEST_BUCKET
from tests.storage.factory import count_objects, generations, make_data_dir, objects, write_file

GCS_PATH = f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4"


def test_plan_uploads_maps_folders_under_their_name(tmp_path):
    make_data_dir(tmp_path / "data", pages_per_split=1)
    write_file(tmp_path / "data" / "train" / ".hidden", b"x")
    items = uploads.plan_uploads([str(tmp_path / "data" / "train")], "gs://bkt/x/data/")
    assert [item.object_name for item in items] == [
        "x/data/train/doc0/page1/doc0-page1.annot.png",
        "x/data/train/doc0/page1/doc0-page1.png",
    ]


def test_re_upload_sends_only_changed_files(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data")
    destination = f"{GCS_PATH}/data/"
    sources = [str(data_dir / "train"), str(data_dir / "test")]
    first = uploads.upload(sources, destination, workers=4)
    assert len(first.uploaded) == 12 and not first.skipped and not first.failed
    before = generations(storage_client)

    changed = data_dir / "train" / "doc1" / "page1" / "doc1-page1.png"
    changed.write_bytes(b"a new version of the page")
    second = uploads.upload(sources, destination, workers=4)

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
    command = [sys.executable, "-m", "sciencebeam_gym.cloud.upload", "upload"]
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

    result = uploads.upload([str(folder)], destination, workers=4)

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
    snapshot = uploads.snapshot_file(str(path))
    path.write_bytes(b"second version, written while the upload ran")
    item = uploads.UploadItem(str(path), TEST_BUCKET, "changed/page.png")
    with pytest.raises(uploads.FileChangedError, match="changed during upload"):
        uploads.upload_snapshot(storage_client, item, snapshot)
    assert objects(storage_client, "changed/") == {}


def test_a_large_file_goes_in_chunks_and_a_change_is_refused_there_too(
    gcs, storage_client, tmp_path
):
    path = tmp_path / "big.tfrecord.gz"
    path.write_bytes(os.urandom(9 * 1024 * 1024))  # above the single-request limit: resumable
    item = uploads.UploadItem(str(path), TEST_BUCKET, "big/big.tfrecord.gz")
    snapshot = uploads.snapshot_file(str(path))
    uploads.upload_snapshot(storage_client, item, snapshot)
    blob = storage_client.bucket(TEST_BUCKET).get_blob(item.object_name)
    assert blob.crc32c == snapshot.crc32c and blob.size == path.stat().st_size

    with path.open("r+b") as f:
        f.write(b"changed")
    item = uploads.UploadItem(str(path), TEST_BUCKET, "big/other.tfrecord.gz")
    with pytest.raises(uploads.FileChangedError):
        uploads.upload_snapshot(storage_client, item, snapshot)
    assert storage_client.bucket(TEST_BUCKET).get_blob(item.object_name) is None


def test_an_endpoint_that_goes_away_fails_the_upload_in_seconds(gcs, tmp_path, monkeypatch):
    # The listing reaches the emulator; then the endpoint is gone (nothing listens on the port).
    # The client's default retry kept each file going for 120 s with the progress line frozen.
    folder = tmp_path / "data"
    for i in range(6):
        write_file(folder / f"page{i}.png", b"x" * 100)
    items = uploads.plan_uploads([str(folder)], f"gs://{TEST_BUCKET}/gone/")
    gone = f"http://127.0.0.1:{find_free_port()}"
    made = []

    def client_factory():
        made.append(1)
        if len(made) > 1:  # the listing client first, then the uploading clients
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", gone)
        return gcs_client.make_client()

    started = time.monotonic()
    with pytest.raises(StorageError, match=f"cannot reach the storage endpoint {gone}"):
        uploads.upload_items(items, client_factory, workers=2)
    assert time.monotonic() - started < 30
