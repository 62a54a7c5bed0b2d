"""Local files to Cloud Storage: checksummed, parallel, and safe to re-run.

    items = plan_uploads(["data/train", "color_map.conf"], "gs://bucket/v4/")
    result = upload_items(items, make_client)    # or: upload(sources, destination)

Each file's CRC32C is taken before it is sent and declared with the upload, so Cloud Storage
refuses bytes that changed meanwhile and no object is created. Objects already there with the
same checksum are skipped: an interrupted upload is finished by running it again. When the
endpoint stops answering, one check ends the whole upload instead of each file timing out.
"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.gcs_client import (
    EndpointUnreachableError,
    check_after_failure,
    check_bucket_exists,
    make_client,
    request_retry,
    request_timeout,
)
from sciencebeam_gym.storage.paths import gcs_url, join_object_name, parse_gcs_url

DEFAULT_WORKERS = 8
CHUNK_BYTES = 1 << 20


class FileChangedError(StorageError):
    """A local file changed between computing its checksum and uploading it."""


# --- checksums ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalFile:
    """A local file as it was when its checksum was computed."""

    path: str
    size: int
    mtime_ns: int
    crc32c: str  # base64 of the big-endian CRC32C, the form Cloud Storage reports


def crc32c_base64(data_chunks: Iterable[bytes]) -> str:
    import google_crc32c

    checksum = google_crc32c.Checksum()
    for chunk in data_chunks:
        checksum.update(chunk)
    return base64.b64encode(checksum.digest()).decode("ascii")


def read_chunks(path: str) -> Iterable[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk


def snapshot_file(path: str) -> LocalFile:
    before = os.stat(path)
    crc = crc32c_base64(read_chunks(path))
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise FileChangedError(f"{path} changed while its checksum was computed")
    return LocalFile(path=path, size=after.st_size, mtime_ns=after.st_mtime_ns, crc32c=crc)


# --- planning: which local file goes to which object -------------------------------------------


@dataclass(frozen=True)
class UploadItem:
    local_path: str
    bucket: str
    object_name: str

    @property
    def url(self) -> str:
        return gcs_url(self.bucket, self.object_name)


def plan_uploads(sources: Sequence[str], destination: str) -> list[UploadItem]:
    """Map files and folders to objects under the destination folder (hidden files skipped).

    A folder `dir` goes to `DEST/<name of dir>/...`, a file to `DEST/<file name>`.
    """
    bucket, prefix = parse_gcs_url(destination)
    items = []
    for source in sources:
        source = source.rstrip("/") or "/"
        if os.path.isfile(source):
            name = join_object_name(prefix, os.path.basename(source))
            items.append(UploadItem(source, bucket, name))
        elif os.path.isdir(source):
            items.extend(_plan_folder(source, bucket, prefix))
        else:
            raise StorageError(f"{source} does not exist (nothing to upload)")
    return sorted(items, key=lambda item: item.object_name)


def _plan_folder(folder: str, bucket: str, prefix: str) -> list[UploadItem]:
    base = os.path.basename(os.path.abspath(folder))
    return [
        UploadItem(
            os.path.join(folder, *relative.split("/")),
            bucket,
            join_object_name(prefix, base, relative),
        )
        for relative in fs.list_tree(folder)
        if not any(part.startswith(".") for part in relative.split("/"))
    ]


# --- uploading -------------------------------------------------------------------------------


@dataclass
class UploadResult:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_sent: int = 0

    def add(self, other: UploadResult) -> None:
        self.uploaded += other.uploaded
        self.skipped += other.skipped
        self.failed.update(other.failed)
        self.bytes_sent += other.bytes_sent


def common_folder(items: Sequence[UploadItem]) -> str:
    """The longest folder prefix ('a/b/') shared by every object name, so one listing covers all."""
    prefix = os.path.commonprefix([item.object_name for item in items])
    return prefix[: prefix.rfind("/") + 1]


def list_remote_checksums(client, bucket: str, prefixes: Iterable[str]) -> dict[str, str]:
    """CRC32C of the objects under the prefixes, by object name (one listing per prefix)."""
    checksums = {}
    for prefix in sorted(set(prefixes)):
        blobs = client.list_blobs(
            bucket, prefix=prefix, timeout=request_timeout(), retry=request_retry()
        )
        for blob in blobs:
            checksums[blob.name] = blob.crc32c
    return checksums


def upload_snapshot(client, item: UploadItem, local: LocalFile) -> None:
    """Send a file, declaring the checksum taken earlier; the server refuses other bytes."""
    from google.api_core import exceptions
    from google.resumable_media.common import DataCorruption

    blob = client.bucket(item.bucket).blob(item.object_name)
    # The declared checksum travels in the object's metadata and Cloud Storage checks the
    # received bytes against it. (The client's own checksum option would replace it with the
    # checksum of whatever bytes were read, which hides a change, so it stays off.)
    blob.crc32c = local.crc32c
    changed = FileChangedError(
        f"{item.local_path} changed during upload (its checksum no longer matches); nothing "
        f"was written to {item.url}; run the upload again once the file is complete"
    )
    try:
        blob.upload_from_filename(
            item.local_path, checksum=None, timeout=request_timeout(), retry=request_retry()
        )
    except (exceptions.BadRequest, DataCorruption) as e:
        if isinstance(e, DataCorruption) or "crc32c" in str(e).lower():
            raise changed from e
        raise
    except exceptions.NotFound as e:
        raise StorageError(f"bucket gs://{item.bucket} does not exist") from e
    if blob.crc32c != local.crc32c:
        blob.delete()
        raise changed


class Progress:
    """Prints a progress line to stderr at most every `interval_s` seconds, and a summary."""

    def __init__(self, total: int, interval_s: float = 2.0, stream=None):
        self.total = total
        self.interval_s = interval_s
        self.stream = stream or sys.stderr
        self.done = 0
        self.sent = 0
        self.skipped = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def update(self, sent_bytes: int = 0, skipped: bool = False) -> None:
        with self._lock:
            self.done += 1
            self.sent += sent_bytes
            self.skipped += int(skipped)
            now = time.monotonic()
            if now - self._last >= self.interval_s or self.done == self.total:
                self._last = now
                print(f"  {self.describe()}", file=self.stream, flush=True)

    def describe(self) -> str:
        return (
            f"{self.done}/{self.total} files, {format_bytes(self.sent)} sent, "
            f"{self.skipped} already there"
        )


def format_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def upload_items(
    items: Sequence[UploadItem],
    client_factory: Callable[[], object],
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
) -> UploadResult:
    """Upload in parallel, skipping objects whose CRC32C already matches the local file."""
    result = UploadResult()
    if not items:
        return result
    progress = progress or Progress(len(items))
    local_state = threading.local()

    def client():
        if not hasattr(local_state, "client"):
            local_state.client = client_factory()
        return local_state.client

    listing_client = client_factory()
    check_bucket_exists(listing_client, items[0].bucket)
    remote = list_remote_checksums(listing_client, items[0].bucket, [common_folder(items)])
    lock = threading.Lock()

    def upload_one(item: UploadItem) -> None:
        local = snapshot_file(item.local_path)
        if remote.get(item.object_name) == local.crc32c:
            with lock:
                result.skipped.append(item.object_name)
            progress.update(skipped=True)
            return
        try:
            upload_snapshot(client(), item, local)
        except Exception as error:
            check_after_failure(client(), error)
            raise
        with lock:
            result.uploaded.append(item.object_name)
            result.bytes_sent += local.size
        progress.update(sent_bytes=local.size)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(upload_one, item): item for item in items}
        try:
            for future in concurrent.futures.as_completed(futures):
                error = future.exception()
                if isinstance(error, EndpointUnreachableError):
                    raise error
                if error is not None:
                    item = futures[future]
                    result.failed[item.object_name] = describe_error(error)
                    progress.update()
        except (KeyboardInterrupt, EndpointUnreachableError):
            for future in futures:
                future.cancel()
            raise
    result.uploaded.sort()
    result.skipped.sort()
    return result


def upload(
    sources: Sequence[str],
    destination: str,
    workers: int = DEFAULT_WORKERS,
    project: str | None = None,
) -> UploadResult:
    """Copy files and folders into a gs:// folder (see `plan_uploads`), with a progress line."""
    items = plan_uploads(sources, destination)
    make_client(project)  # fails early on missing extras or credentials
    print(f"upload: {len(items)} files -> {destination}", file=sys.stderr, flush=True)
    return upload_items(items, lambda: make_client(project), workers=workers)


def describe_error(error: BaseException) -> str:
    from google.api_core import exceptions

    if isinstance(error, StorageError | OSError):
        return str(error)
    if isinstance(error, exceptions.Forbidden):
        return f"permission denied ({error.message}); the account needs roles/storage.objectAdmin"
    if isinstance(error, exceptions.GoogleAPICallError):
        return f"{type(error).__name__}: {error.message}"
    return f"{type(error).__name__}: {error}"
