"""gs:// paths for TensorFlow: staged through local disk on the emulator, /gcs on Vertex AI."""

from __future__ import annotations

import os

import pytest

from sciencebeam_gym.storage import tensorflow_paths, uploads
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths
from tests.conftest import TEST_BUCKET

ROOT = f"gs://{TEST_BUCKET}/tf-paths-test"


def put(client, name: str, data: bytes) -> None:
    client.bucket(TEST_BUCKET).blob(name).upload_from_string(data)


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def names(client, prefix: str) -> list[str]:
    return sorted(b.name for b in client.list_blobs(TEST_BUCKET, prefix=prefix))


def test_choose_mode(tmp_path):
    assert tensorflow_paths.choose_mode({"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}) == "stage"
    assert tensorflow_paths.choose_mode({}, fuse_root=str(tmp_path / "none")) == "native"
    (tmp_path / "gcs" / "my-bucket").mkdir(parents=True)
    fuse_root = str(tmp_path / "gcs")
    assert tensorflow_paths.choose_mode({}, fuse_root=fuse_root, bucket="my-bucket") == "fuse"
    assert tensorflow_paths.choose_mode({}, fuse_root=fuse_root, bucket="not-mounted") == "native"
    assert tensorflow_paths.choose_mode(
        {"GYM_GCS_MODE": "native", "STORAGE_EMULATOR_HOST": "x"}
    ) == ("native")
    with pytest.raises(StorageError, match="GYM_GCS_MODE"):
        tensorflow_paths.choose_mode({"GYM_GCS_MODE": "copy"})


def test_fuse_and_native_paths(tmp_path):
    fuse = TensorflowPaths(mode="fuse", fuse_root=str(tmp_path))
    assert fuse.readable_files([f"gs://{TEST_BUCKET}/a/b.tfrecord.gz", "/local/x"]) == [
        str(tmp_path / TEST_BUCKET / "a" / "b.tfrecord.gz"),
        "/local/x",
    ]
    out = fuse.writable_folder(f"gs://{TEST_BUCKET}/model/training")
    assert out == str(tmp_path / TEST_BUCKET / "model" / "training") and os.path.isdir(out)
    assert fuse.readable_folder(f"gs://{TEST_BUCKET}/model") == str(
        tmp_path / TEST_BUCKET / "model"
    )
    native = TensorflowPaths(mode="native")
    assert native.readable_file(f"gs://{TEST_BUCKET}/a") == f"gs://{TEST_BUCKET}/a"
    assert native.readable_folder(f"gs://{TEST_BUCKET}/m") == f"gs://{TEST_BUCKET}/m"
    assert native.writable_folder(f"gs://{TEST_BUCKET}/m") == f"gs://{TEST_BUCKET}/m"


def test_staged_inputs_come_down_once(gcs, storage_client, tmp_path):
    put(storage_client, "tf-paths-test/preproc/train/part-0.tfrecord.gz", b"records 0")
    put(storage_client, "tf-paths-test/preproc/train/part-1.tfrecord.gz", b"records 1")
    paths = [f"{ROOT}/preproc/train/part-{i}.tfrecord.gz" for i in range(2)]
    with TensorflowPaths(cache_dir=str(tmp_path / "cache")) as tf_paths:
        local = tf_paths.readable_files([*paths, "/already/local"])
        assert local[2] == "/already/local"
        assert [read(p) for p in local[:2]] == [b"records 0", b"records 1"]
        first_mtime = os.stat(local[0]).st_mtime_ns
        assert tf_paths.readable_files(paths) == local[:2]
        assert os.stat(local[0]).st_mtime_ns == first_mtime  # same checksum: not fetched again
        put(storage_client, "tf-paths-test/preproc/train/part-0.tfrecord.gz", b"new records")
        tf_paths.readable_files(paths)
        assert read(local[0]) == b"new records"


def test_a_missing_input_names_the_near_path(gcs, storage_client, tmp_path):
    put(storage_client, "tf-paths-test/preproc/train/part-0.tfrecord.gz", b"x")
    with (
        TensorflowPaths() as tf_paths,
        pytest.raises(StorageError, match="did you mean preproc/"),
    ):
        tf_paths.readable_files([f"{ROOT}/preprc/train/part-0.tfrecord.gz"])


def test_staged_output_resumes_syncs_and_mirrors_deletions(gcs, storage_client, tmp_path):
    put(storage_client, "tf-paths-test/training/checkpoints/ckpt-1.index", b"old index")
    put(storage_client, "tf-paths-test/training/config.json", b"{}")
    with TensorflowPaths() as tf_paths:
        out = tf_paths.writable_folder(f"{ROOT}/training")
        # what was there came down, so a run can resume from it
        assert read(os.path.join(out, "checkpoints", "ckpt-1.index")) == b"old index"
        os.makedirs(os.path.join(out, "train"), exist_ok=True)
        with open(os.path.join(out, "train", "events.out"), "wb") as f:
            f.write(b"event 1")
        # meanwhile config.json is rewritten in the bucket directly (as the trainer does
        # through storage.fs): the older local copy must not overwrite it
        put(storage_client, "tf-paths-test/training/config.json", b'{"step": 2}')
        result = tf_paths.sync()
        assert result.uploaded == ["tf-paths-test/training/train/events.out"]
        assert not result.skipped and not result.failed
        # checkpoint rotation deletes locally; the next sync deletes the object too
        os.remove(os.path.join(out, "checkpoints", "ckpt-1.index"))
        with open(os.path.join(out, "train", "events.out"), "ab") as f:
            f.write(b", event 2")
    # leaving the block synced the appended events file and the deletion
    assert names(storage_client, "tf-paths-test/") == [
        "tf-paths-test/training/config.json",
        "tf-paths-test/training/train/events.out",
    ]
    blob = storage_client.bucket(TEST_BUCKET).blob("tf-paths-test/training/train/events.out")
    assert blob.download_as_bytes() == b"event 1, event 2"
    config = storage_client.bucket(TEST_BUCKET).blob("tf-paths-test/training/config.json")
    assert config.download_as_bytes() == b'{"step": 2}'


def test_output_in_a_missing_bucket_is_a_clear_error(gcs):
    with (
        TensorflowPaths() as tf_paths,
        pytest.raises(StorageError, match="no-such-bucket does not exist"),
    ):
        tf_paths.writable_folder("gs://no-such-bucket/training")


@pytest.mark.slow
def test_tensorflow_reads_and_checkpoints_through_the_mapped_paths(gcs, storage_client, tmp_path):
    """Real TensorFlow: TFRecords from gs:// and a checkpoint back to gs:// on the emulator."""
    import tensorflow as tf

    local_records = str(tmp_path / "part-0.tfrecord.gz")
    with tf.io.TFRecordWriter(local_records, options="GZIP") as writer:
        for i in range(3):
            writer.write(f"record {i}".encode())
    uploads.upload([local_records], f"{ROOT}/preproc/train/", workers=1)

    with TensorflowPaths() as tf_paths:
        [readable] = tf_paths.readable_files([f"{ROOT}/preproc/train/part-0.tfrecord.gz"])
        dataset = tf.data.TFRecordDataset([readable], compression_type="GZIP")
        assert [r.numpy() for r in dataset] == [b"record 0", b"record 1", b"record 2"]
        model_dir = tf_paths.writable_folder(f"{ROOT}/training")
        step = tf.Variable(7, dtype=tf.int64)
        manager = tf.train.CheckpointManager(
            tf.train.Checkpoint(step=step), os.path.join(model_dir, "checkpoints"), 2
        )
        manager.save(checkpoint_number=7)
        tf_paths.sync()
    assert "tf-paths-test/training/checkpoints/checkpoint" in names(
        storage_client, "tf-paths-test/"
    )

    # a new run (fresh local disk) finds the checkpoint and resumes from it; a reader (as
    # evaluation) gets the same files through readable_folder
    with TensorflowPaths() as tf_paths:
        reader_dir = tf_paths.readable_folder(f"{ROOT}/training/checkpoints")
        assert tf.train.latest_checkpoint(reader_dir).endswith("ckpt-7")
        assert tf_paths.outputs == []  # nothing to send back
        model_dir = tf_paths.writable_folder(f"{ROOT}/training")
        latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
        assert latest is not None and latest.endswith("ckpt-7")
        restored = tf.Variable(0, dtype=tf.int64)
        tf.train.Checkpoint(step=restored).restore(latest).assert_consumed()
        assert int(restored.numpy()) == 7
