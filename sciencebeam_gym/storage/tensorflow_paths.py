"""Give TensorFlow a path it can use for each gs:// input and output of a run.

TensorFlow reads and writes gs:// itself (tf.io.gfile, TFRecordDataset, checkpoints, summaries)
against real Cloud Storage, but it cannot be pointed at a storage emulator. So for each gs://
path this module picks, in order:

1. `STORAGE_EMULATOR_HOST` set -> *stage*: inputs are copied to local disk, outputs are written
   to a local folder and copied back by `sync()` (and when the block ends);
2. `/gcs/<bucket>` exists (Vertex AI mounts buckets there with Cloud Storage FUSE) -> *fuse*:
   the same object through the mount;
3. otherwise -> *native*: the gs:// path unchanged, for TensorFlow's own Cloud Storage support.

`GYM_GCS_MODE=stage|fuse|native` forces one. Local paths always pass through unchanged. Only a
command line opens this context; what it calls receives the mapped paths and `sync`.

    with TensorflowPaths() as tf_paths:
        train_files = tf_paths.readable_files(train_files)
        model_dir = tf_paths.writable_folder(output_path)  # resume: what is there comes down
        ...                                                 # train, writing under model_dir
        tf_paths.sync()                                     # after each checkpoint
        checkpoints = tf_paths.readable_folder(url)         # a folder to read only
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sciencebeam_gym.storage import fs, gcs_client, uploads
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.paths import is_gcs, join_object_name, parse_gcs_url

MODES = ("stage", "fuse", "native")
MODE_ENV_VAR = "GYM_GCS_MODE"
FUSE_ROOT = "/gcs"
DOWNLOAD_WORKERS = 8


def choose_mode(env: dict | None = None, fuse_root: str = FUSE_ROOT, bucket: str = "") -> str:
    env = os.environ if env is None else env
    forced = env.get(MODE_ENV_VAR, "")
    if forced:
        if forced not in MODES:
            raise StorageError(
                f"{MODE_ENV_VAR}={forced!r} is not one of {', '.join(MODES)} (or unset for auto)"
            )
        return forced
    if env.get(gcs_client.EMULATOR_ENV_VAR):
        return "stage"
    if os.path.isdir(os.path.join(fuse_root, bucket) if bucket else fuse_root):
        return "fuse"
    return "native"


def fuse_path(url: str, fuse_root: str = FUSE_ROOT) -> str:
    """gs://bucket/a/b -> /gcs/bucket/a/b (where Vertex AI mounts buckets)."""
    bucket, name = parse_gcs_url(url)
    return os.path.join(fuse_root, bucket, *[p for p in name.split("/") if p])


@dataclass
class StagedOutput:
    """An output folder written locally (stage mode) and copied to `url` by `sync()`."""

    url: str
    local_dir: str
    # (size, mtime) of each local file as last downloaded or sent, by relative path: only files
    # that differ from it are sent, so a file written to the bucket directly meanwhile (through
    # storage.fs) is not overwritten by an older local copy.
    synced: dict[str, tuple[int, int]] = field(default_factory=dict)


def scan_files(folder: str) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under a folder, by relative '/'-separated path."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for file_name in files:
            path = os.path.join(root, file_name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            info = os.stat(path)
            found[relative] = (info.st_size, info.st_mtime_ns)
    return found


class TensorflowPaths:
    """Maps gs:// paths to paths TensorFlow can use; copies staged outputs back on sync()."""

    def __init__(
        self,
        cache_dir: str | None = None,
        mode: str | None = None,
        fuse_root: str = FUSE_ROOT,
        workers: int = DOWNLOAD_WORKERS,
    ):
        self._own_cache = cache_dir is None
        self.cache_dir = cache_dir or tempfile.mkdtemp(prefix="gym-gcs-")
        self.forced_mode = mode
        self.fuse_root = fuse_root
        self.workers = workers
        self.outputs: list[StagedOutput] = []
        self._client = None
        self._lock = threading.Lock()

    # --- context manager ---------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.sync()
        finally:
            if self._own_cache:
                shutil.rmtree(self.cache_dir, ignore_errors=True)

    # --- choosing ------------------------------------------------------------------------------

    def mode_for(self, url: str) -> str:
        if self.forced_mode:
            return self.forced_mode
        bucket, _ = parse_gcs_url(url)
        return choose_mode(fuse_root=self.fuse_root, bucket=bucket)

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = gcs_client.make_client()
            return self._client

    def cache_path(self, url: str, area: str) -> str:
        bucket, name = parse_gcs_url(url)
        return os.path.join(self.cache_dir, area, bucket, *[p for p in name.split("/") if p])

    # --- inputs --------------------------------------------------------------------------------

    def readable_file(self, path: str) -> str:
        return self.readable_files([path])[0]

    def readable_files(self, paths: Sequence[str]) -> list[str]:
        """A path TensorFlow can read for each file (same order); staged files come down once."""
        result = list(paths)
        to_download = []
        for i, path in enumerate(paths):
            if not is_gcs(path):
                continue
            mode = self.mode_for(path)
            if mode == "fuse":
                result[i] = fuse_path(path, self.fuse_root)
            elif mode == "stage":
                result[i] = self.cache_path(path, "in")
                to_download.append((path, result[i]))
        if to_download:
            self._download_all(to_download)
        return result

    def _download_all(self, pairs: Sequence[tuple[str, str]]) -> None:
        client = self.client()
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(lambda pair: download_if_changed(client, *pair), pairs))

    def readable_folder(self, url: str) -> str:
        """A folder TensorFlow can read for `url` (e.g. a model's checkpoints); never synced."""
        if not is_gcs(url) or self.mode_for(url) != "stage":
            return self._mapped_folder(url)
        local = self.cache_path(url, "in")
        self._download_folder(url, local)
        return local

    # --- outputs -------------------------------------------------------------------------------

    def writable_folder(self, url: str) -> str:
        """A folder TensorFlow can write for `url`; when staged, what is there comes down first
        (so a run resumes from its checkpoints) and sync() sends changes back."""
        if not is_gcs(url) or self.mode_for(url) != "stage":
            return self._mapped_folder(url)
        local = self.cache_path(url, "out")
        self._download_folder(url, local)
        self.outputs.append(StagedOutput(url.rstrip("/"), local, synced=scan_files(local)))
        return local

    def _mapped_folder(self, url: str) -> str:
        if is_gcs(url) and self.mode_for(url) == "fuse":
            local = fuse_path(url, self.fuse_root)
            os.makedirs(local, exist_ok=True)
            return local
        return url

    def _download_folder(self, url: str, local: str) -> None:
        os.makedirs(local, exist_ok=True)
        bucket, _ = parse_gcs_url(url.rstrip("/"))
        gcs_client.check_bucket_exists(self.client(), bucket)
        relative = fs.list_tree(url)
        url = url.rstrip("/")
        self._download_all([(f"{url}/{r}", os.path.join(local, *r.split("/"))) for r in relative])

    def sync(self) -> uploads.UploadResult:
        """Send new and changed staged output files; delete objects whose local file is gone."""
        total = uploads.UploadResult()
        for output in self.outputs:
            total.add(self._sync_output(output))
        for name, message in sorted(total.failed.items()):
            print(f"[storage] not copied yet: {name}: {message}", file=sys.stderr, flush=True)
        return total

    def _sync_output(self, output: StagedOutput) -> uploads.UploadResult:
        bucket, prefix = parse_gcs_url(output.url)
        current = scan_files(output.local_dir)
        changed = sorted(rel for rel, state in current.items() if output.synced.get(rel) != state)
        items = [
            uploads.UploadItem(
                os.path.join(output.local_dir, *rel.split("/")),
                bucket,
                join_object_name(prefix, rel),
            )
            for rel in changed
        ]
        progress = uploads.Progress(len(items), stream=io.StringIO())  # quiet: runs often
        result = uploads.upload_items(items, gcs_client.make_client, progress=progress)
        gone = sorted(set(output.synced) - set(current))
        if gone:
            bucket_ref = self.client().bucket(bucket)
            for rel in gone:
                blob = bucket_ref.blob(join_object_name(prefix, rel))
                if blob.exists():
                    blob.delete()
        failed = {rel for rel in changed if join_object_name(prefix, rel) in result.failed}
        output.synced = {rel: state for rel, state in current.items() if rel not in failed}
        return result


def download_if_changed(client, url: str, local_path: str) -> None:
    """Copy an object to a local file unless the file already has the same CRC32C."""
    bucket, name = parse_gcs_url(url)
    blob = client.bucket(bucket).get_blob(
        name, timeout=gcs_client.request_timeout(), retry=gcs_client.request_retry()
    )
    if blob is None:
        raise StorageError(describe_missing_object(client, url))
    if os.path.exists(local_path) and uploads.snapshot_file(local_path).crc32c == blob.crc32c:
        return
    os.makedirs(os.path.dirname(local_path), exist_ok=True)
    temp_path = f"{local_path}.part-{os.getpid()}-{threading.get_ident()}"
    blob.download_to_filename(
        temp_path,
        checksum="crc32c",
        timeout=gcs_client.request_timeout(),
        retry=gcs_client.request_retry(),
    )
    os.replace(temp_path, local_path)


def describe_missing_object(client, url: str) -> str:
    try:
        return gcs_client.describe_missing(client, url)
    except StorageError as e:
        return str(e)
