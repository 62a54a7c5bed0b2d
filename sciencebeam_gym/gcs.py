"""Cloud Storage paths and the client every part of the toolkit shares (trainer and cloud alike).

gs:// URLs are checked with messages that point at the typo; the client is made against the
emulator when STORAGE_EMULATOR_HOST is set, and gives up within seconds when its endpoint cannot
be reached (the client's own default retries a lost connection for 120 s, silently).
"""

from __future__ import annotations

import base64
import concurrent.futures
import difflib
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sciencebeam_gym import cli

EMULATOR_ENV_VAR = "STORAGE_EMULATOR_HOST"
# Seconds to open a connection, and to wait for a response once connected.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
# Seconds a request is retried in all (transient errors, lost connections).
RETRY_DEADLINE_S = 10.0
DEFAULT_WORKERS = 8
CHUNK_BYTES = 1 << 20

# Bucket names: 3-63 characters of lowercase letters, digits, '-', '_' and '.',
# starting and ending with a letter or digit.
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


class StorageError(cli.CliError):
    """A problem the user can fix (bad path, missing bucket, no credentials); no traceback."""


# --- gs:// paths ---------------------------------------------------------------------------------


def parse_gcs_url(url: str) -> tuple[str, str]:
    """Split gs://bucket/some/path into ("bucket", "some/path"), with clear errors for typos."""
    if not url.startswith("gs://"):
        if re.match(r"^gs:/*", url, flags=re.IGNORECASE) or url.lower().startswith("gs//"):
            raise StorageError(
                f"{url!r} looks like a Cloud Storage URL with a typo; write gs://BUCKET/PATH"
            )
        raise StorageError(f"{url!r} is not a Cloud Storage URL (expected gs://BUCKET/PATH)")
    bucket, _, name = url[len("gs://") :].partition("/")
    check_bucket_name(bucket, url)
    if "//" in f"/{name}":
        raise StorageError(f"{url!r} has an empty folder name ('//'); check the path for a typo")
    return bucket, name


def check_bucket_name(bucket: str, url: str) -> None:
    if not bucket:
        raise StorageError(f"{url!r} has no bucket name (expected gs://BUCKET/PATH)")
    if not BUCKET_NAME_PATTERN.match(bucket):
        raise StorageError(
            f"{bucket!r} (in {url!r}) is not a valid bucket name: use 3-63 lowercase letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit"
        )


def join_object_name(prefix: str, *parts: str) -> str:
    pieces = [p.strip("/") for p in (prefix, *parts) if p.strip("/")]
    return "/".join(pieces)


# --- the client, credentials and buckets -----------------------------------------------------------


def import_storage():
    try:
        from google.cloud import storage
    except ImportError as e:
        raise StorageError(
            "the Cloud Storage client is not installed (google-cloud-storage); "
            "install the toolkit with its cloud extras: pip install -e '.[cloud]'"
        ) from e
    return storage


def check_credentials() -> None:
    """Fail early, with the command to run, when no Google credentials can be found."""
    if os.environ.get(EMULATOR_ENV_VAR):
        return
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError as e:
        raise StorageError(
            "no Google Cloud credentials found; run: gcloud auth application-default login "
            "(or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)"
        ) from e


def make_client(project: str | None = None):
    """A storage client (anonymous against an emulator); raises StorageError when unusable."""
    storage = import_storage()
    check_credentials()
    return storage.Client(project=project or os.environ.get("PROJECT") or None)


def check_bucket_exists(client, bucket: str) -> None:
    from google.api_core import exceptions

    try:
        found = client.lookup_bucket(bucket, timeout=request_timeout(), retry=request_retry())
    except exceptions.Forbidden:
        # Object-level roles may not include storage.buckets.get; the upload itself will tell.
        return
    if found is None:
        raise StorageError(
            f"bucket gs://{bucket} does not exist (or is not visible to these credentials); "
            f"check BUCKET in .config, or create it: "
            f"gcloud storage buckets create gs://{bucket} --location=us-central1"
        )


def describe_missing(client, url: str) -> str:
    """Explain a gs:// path that matched nothing: the deepest folder that exists and near names."""
    bucket, name = parse_gcs_url(url)
    check_bucket_exists(client, bucket)
    parts = [p for p in name.split("/") if p]
    for depth in range(len(parts) - 1, -1, -1):
        parent = join_object_name(*parts[:depth])
        children = list_children(client, bucket, parent)
        if children:
            wanted = parts[depth]
            close = difflib.get_close_matches(wanted, children, n=3, cutoff=0.6)
            where = f"gs://{bucket}/{parent + '/' if parent else ''}"
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            shown = ", ".join(children[:10]) + (" ..." if len(children) > 10 else "")
            return f"{url} not found: {where} has {shown}{hint}"
    return f"{url} not found: gs://{bucket}/ is empty"


def explain_no_match(pattern: str, client=None) -> str:
    """For a gs:// glob that matched nothing: what is there instead (near names included).

    Meant for error messages, so it never raises: "" for local patterns or when the bucket
    cannot be asked.
    """
    if not pattern.startswith("gs://"):
        return ""
    try:
        static = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        folder = static[: static.rfind("/") + 1]
        client = client or make_client()
        bucket, name = parse_gcs_url(folder)
        check_bucket_exists(client, bucket)
        children = list_children(client, bucket, name.rstrip("/"))
        if children:
            shown = ", ".join(children[:10]) + (" ..." if len(children) > 10 else "")
            return f"{folder} has {shown}"
        return describe_missing(client, folder.rstrip("/"))
    except StorageError as e:
        return str(e)
    except Exception:  # a hint must never hide the error it explains
        return ""


def list_children(client, bucket: str, prefix: str) -> list[str]:
    """Names directly below a prefix ('folders' end with '/')."""
    full_prefix = f"{prefix}/" if prefix else ""
    blobs = client.list_blobs(
        bucket, prefix=full_prefix, delimiter="/", timeout=request_timeout(), retry=request_retry()
    )
    names = [b.name[len(full_prefix) :] for b in blobs]
    folders = [p[len(full_prefix) :] for p in blobs.prefixes]
    return sorted(n for n in names + folders if n)


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
        return f"gs://{self.bucket}/{self.object_name}"


# --- uploading -------------------------------------------------------------------------------


@dataclass
class UploadResult:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_sent: int = 0


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


def describe_error(error: BaseException) -> str:
    from google.api_core import exceptions

    if isinstance(error, StorageError | OSError):
        return str(error)
    if isinstance(error, exceptions.Forbidden):
        return f"permission denied ({error.message}); the account needs roles/storage.objectAdmin"
    if isinstance(error, exceptions.GoogleAPICallError):
        return f"{type(error).__name__}: {error.message}"
    return f"{type(error).__name__}: {error}"


# --- failing fast when the endpoint is gone ------------------------------------------------------


class EndpointUnreachableError(StorageError):
    """No connection opens to the storage endpoint; every further request would fail too."""


def request_timeout() -> tuple[float, float]:
    """(connect, read) timeout for each request."""
    return (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)


def request_retry():
    """The client's retry policy, ended after RETRY_DEADLINE_S instead of 120 s."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_DEADLINE_S)


def endpoint_of(client) -> str:
    """The URL the client talks to (the emulator's, or Cloud Storage's)."""
    return getattr(client, "api_endpoint", None) or client._connection.API_BASE_URL


def check_after_failure(client, error: BaseException) -> None:
    """After a failed request that got no answer: EndpointUnreachableError if nobody listens.

    One such check stops a whole upload, instead of each file timing out in turn.
    """
    from google.api_core import exceptions

    if isinstance(error, StorageError | exceptions.GoogleAPICallError):
        return  # the endpoint answered
    check_endpoint_reachable(endpoint_of(client))


def check_endpoint_reachable(endpoint: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """StorageError naming the endpoint when no connection to it opens within `timeout_s`."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            return
    except OSError as error:
        raise EndpointUnreachableError(
            f"cannot reach the storage endpoint {endpoint} ({error}); check the network "
            f"(or {EMULATOR_ENV_VAR} when using an emulator) and run the same command again"
        ) from error
