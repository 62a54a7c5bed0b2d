"""The Cloud Storage client every part of the toolkit shares, and what it says when things fail.

The client is made against the emulator when STORAGE_EMULATOR_HOST is set (anonymously, no
credentials needed), and gives up within seconds when its endpoint cannot be reached: the
client's own default retries a lost connection for 120 s, silently. A path that matched nothing
is explained with what is there instead (the deepest folder that exists, the near names).
"""

from __future__ import annotations

import difflib
import os
import socket
import threading
from urllib.parse import urlsplit

from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.paths import (
    GLOB_CHARS,
    is_gcs,
    join_object_name,
    parse_gcs_url,
)

EMULATOR_ENV_VAR = "STORAGE_EMULATOR_HOST"
# Seconds to open a connection, and to wait for a response once connected.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0
# Seconds a request is retried in all (transient errors, lost connections).
RETRY_DEADLINE_S = 10.0

_clients = threading.local()


class EndpointUnreachableError(StorageError):
    """No connection opens to the storage endpoint; every further request would fail too."""


# --- the client and credentials -------------------------------------------------------------------


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


def thread_client():
    """This thread's client: requests sessions are not shared across threads. Made again when
    the endpoint setting changes (an emulator started later in the same process)."""
    key = (os.environ.get(EMULATOR_ENV_VAR), os.environ.get("PROJECT"))
    if getattr(_clients, "key", None) != key:
        _clients.client, _clients.key = make_client(), key
    return _clients.client


def blob_of(url: str):
    """The object of a gs:// URL, through this thread's client."""
    bucket, name = parse_gcs_url(url)
    return thread_client().bucket(bucket).blob(name)


# --- requests: short timeouts, failures as OSError ---------------------------------------------


def request_timeout() -> tuple[float, float]:
    """(connect, read) timeout for each request."""
    return (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)


def request_retry():
    """The client's retry policy, ended after RETRY_DEADLINE_S instead of 120 s."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_DEADLINE_S)


def call(method, *args, **kwargs):
    """A client call with the short timeouts above; its failures as OSError, like local ones.

    A missing object is FileNotFoundError.
    """
    from google.api_core import exceptions
    from requests import RequestException

    try:
        return method(*args, timeout=request_timeout(), retry=request_retry(), **kwargs)
    except exceptions.NotFound as error:
        raise FileNotFoundError(str(error.message)) from error
    except (exceptions.GoogleAPIError, RequestException) as error:
        raise OSError(f"{type(error).__name__}: {error}") from error


# --- failing fast when the endpoint is gone ------------------------------------------------------


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


# --- buckets, and what is there when a path is not ------------------------------------------------


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


def list_children(client, bucket: str, prefix: str) -> list[str]:
    """Names directly below a prefix ('folders' end with '/')."""
    full_prefix = f"{prefix}/" if prefix else ""
    blobs = client.list_blobs(
        bucket, prefix=full_prefix, delimiter="/", timeout=request_timeout(), retry=request_retry()
    )
    names = [b.name[len(full_prefix) :] for b in blobs]
    folders = [p[len(full_prefix) :] for p in blobs.prefixes]
    return sorted(n for n in names + folders if n)


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
    if not is_gcs(pattern):
        return ""
    try:
        static = GLOB_CHARS.split(pattern, maxsplit=1)[0]
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
