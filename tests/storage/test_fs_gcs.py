"""storage.fs on gs:// paths, through the Cloud Storage client, against the emulator."""

from __future__ import annotations

import subprocess
import sys

from sciencebeam_gym.storage import fs
from tests.conftest import TEST_BUCKET

ROOT = f"gs://{TEST_BUCKET}/fs-test"


def test_write_read_and_exists(gcs, storage_client):
    path = f"{ROOT}/config/color_map.conf"
    assert not fs.exists(path)
    fs.write_text(path, "[color_map]\n1=(255,0,0)\n")
    assert fs.exists(path)
    assert fs.read_bytes(path) == b"[color_map]\n1=(255,0,0)\n"
    assert fs.size(path) == len(b"[color_map]\n1=(255,0,0)\n")
    # the bytes really are in the bucket (seen by the storage client directly, not only through fs)
    blob = storage_client.bucket(TEST_BUCKET).get_blob("fs-test/config/color_map.conf")
    assert blob.download_as_bytes() == b"[color_map]\n1=(255,0,0)\n"


def test_write_replaces_and_leaves_no_temporary_object(gcs, storage_client):
    path = f"{ROOT}/a.txt"
    fs.write_bytes(path, b"one")
    fs.write_bytes(path, b"two")
    assert fs.read_bytes(path) == b"two"
    names = [b.name for b in storage_client.list_blobs(TEST_BUCKET, prefix="fs-test/")]
    assert names == ["fs-test/a.txt"]


def test_glob_and_delete(gcs):
    for split, count in (("train", 3), ("test", 2)):
        for i in range(count):
            fs.write_bytes(f"{ROOT}/preproc/{split}/part-{i:05d}.tfrecord.gz", b"x")
    assert fs.glob(f"{ROOT}/preproc/train/*tfrecord*") == [
        f"{ROOT}/preproc/train/part-{i:05d}.tfrecord.gz" for i in range(3)
    ]
    both = fs.glob_many([f"{ROOT}/preproc/train/*", f"{ROOT}/preproc/test/*"])
    assert len(both) == 5
    assert fs.glob(f"{ROOT}/nothing/*") == []
    deleted = fs.delete_matching(f"{ROOT}/preproc/test/*")
    assert len(deleted) == 2
    assert fs.glob(f"{ROOT}/preproc/test/*") == []
    assert fs.is_remote(ROOT) and fs.join(ROOT, "x") == f"{ROOT}/x"


def test_gcs_without_apache_beam_and_tree_copies(gcs, storage_client, tmp_path):
    # the trainer's image has no Beam: gs:// goes through the storage client alone
    script = (
        "import sys; sys.modules['apache_beam'] = None\n"
        "from sciencebeam_gym.storage import fs\n"
        f"root = {ROOT!r}\n"
        "fs.write_text(root + '/model/config.json', '{}')\n"
        "fs.write_text(root + '/model/checkpoints/ckpt-1.index', 'i')\n"
        "assert fs.glob(root + '/model/**') == [root + '/model/checkpoints/ckpt-1.index', "
        "root + '/model/config.json'], fs.glob(root + '/model/**')\n"
        "assert fs.glob(root + '/model/*') == [root + '/model/config.json']\n"
        "assert fs.exists(root + '/model/config.json') and not fs.exists(root + '/nothing')\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    local = tmp_path / "model"
    assert fs.copy_tree(f"{ROOT}/model", str(local), last=["config.json"]) == [
        "checkpoints/ckpt-1.index",
        "config.json",
    ]
    assert (local / "checkpoints" / "ckpt-1.index").read_text() == "i"
    back = f"{ROOT}/copy"
    fs.copy_tree(str(local), back)
    names = sorted(b.name for b in storage_client.list_blobs(TEST_BUCKET, prefix="fs-test/copy/"))
    assert names == ["fs-test/copy/checkpoints/ckpt-1.index", "fs-test/copy/config.json"]
