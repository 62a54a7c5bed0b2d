"""Local and gs:// files through one interface, tree copies included.

    from sciencebeam_gym.storage import fs
    fs.write_text(fs.join(output, "report.json"), text)   # output: a folder or gs://bucket/x

Everything in the toolkit that reads or writes data goes through here, so a path may be a local
path or a URL. Each kind has its backend, chosen when first used so that no stage installs
another's stack: local paths use the standard library, gs:// the Cloud Storage client (which
honours STORAGE_EMULATOR_HOST, and which the trainer and the pipelines both have), and any
other scheme Apache Beam's FileSystems (only pipelines use those).

Failures are OSError on every kind (FileNotFoundError for a missing file); a malformed gs://
URL or missing credentials are `StorageError`. Globs work alike on every kind (see `paths`).
Small files are replaced atomically: a reader sees the old or the new file, never a part, and a
kill never leaves neither.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterable

from sciencebeam_gym.storage import gcs_client

# The path helpers are part of this interface (fs.join beside fs.read_bytes); they live in
# `paths`, which needs no client.
from sciencebeam_gym.storage.paths import (  # noqa: F401
    basename,
    dirname,
    escape_glob,
    gcs_url,
    glob_regex,
    is_gcs,
    is_remote,
    is_utf8_name,
    join,
    parse_gcs_url,
    printable_path,
    static_prefix,
)


def _beam():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


# --- globs ---------------------------------------------------------------------------------------


def _local_files_under(folder: str, max_depth: int | None = None) -> Iterable[str]:
    """Files below a folder, at most `max_depth` folders down (None: all)."""
    top = folder or "."
    for root, dirs, files in os.walk(top):
        depth = 0 if root == top else os.path.relpath(root, top).count(os.sep) + 1
        if max_depth is not None and depth >= max_depth:
            dirs[:] = []
        for name in files:
            path = os.path.join(root, name)
            yield path if folder else os.path.relpath(path)


def _glob_local(pattern: str) -> list[str]:
    prefix = static_prefix(pattern)
    if prefix == pattern:
        return [pattern] if os.path.isfile(pattern) else []
    regex = glob_regex(pattern.replace(os.sep, "/"))
    folder = os.path.dirname(prefix)
    return [
        path for path in _local_files_under(folder) if regex.fullmatch(path.replace(os.sep, "/"))
    ]


def _glob_gcs(pattern: str) -> list[str]:
    bucket, name_prefix = parse_gcs_url(static_prefix(pattern))
    regex = glob_regex(pattern)
    blobs = gcs_client.call(gcs_client.thread_client().list_blobs, bucket, prefix=name_prefix)
    urls = (gcs_url(bucket, blob.name) for blob in blobs if not blob.name.endswith("/"))
    return [url for url in urls if regex.fullmatch(url)]


def glob(pattern: str) -> list[str]:
    """Sorted file paths matching a glob (local or remote); an empty list when nothing matches."""
    if is_gcs(pattern):
        return sorted(_glob_gcs(pattern))
    if is_remote(pattern):
        return sorted(m.path for m in _beam().match([pattern])[0].metadata_list)
    return sorted(_glob_local(pattern))


def glob_many(patterns: Iterable[str]) -> list[str]:
    return sorted({path for pattern in patterns for path in glob(pattern)})


def explain_no_match(pattern: str) -> str:
    """What is there instead, for a glob that matched nothing: for gs://, the folder's names
    and the near ones; "" when nothing more can be said (local paths say it in their error)."""
    return gcs_client.explain_no_match(pattern) if is_gcs(pattern) else ""


def list_tree(folder: str) -> list[str]:
    """The relative '/'-separated paths of every file below a folder, sorted."""
    base = folder.rstrip("/") + "/"
    return [path[len(base) :].replace(os.sep, "/") for path in glob(base + "**")]


# --- files ---------------------------------------------------------------------------------------


def exists(path: str) -> bool:
    """Whether a file exists (locally also a folder)."""
    if is_gcs(path):
        return bool(gcs_client.call(gcs_client.blob_of(path).exists))
    if is_remote(path):
        return _beam().exists(path)
    return os.path.exists(path)


def size(path: str) -> int:
    if is_gcs(path):
        blob = gcs_client.blob_of(path)
        gcs_client.call(blob.reload)
        return int(blob.size)
    if is_remote(path):
        return _beam().match([path])[0].metadata_list[0].size_in_bytes
    return os.path.getsize(path)


def read_bytes(path: str) -> bytes:
    """The whole file; FileNotFoundError naming the path when it is not there."""
    if is_gcs(path):
        try:
            return gcs_client.call(gcs_client.blob_of(path).download_as_bytes)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{path} does not exist") from error
    if is_remote(path):
        with _beam().open(path, compression_type="uncompressed") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def makedirs(path: str) -> None:
    if path and not is_remote(path):
        os.makedirs(path, exist_ok=True)


def write_bytes(path: str, data: bytes) -> None:
    """Replace a whole file atomically: readers see the old or the new bytes, never neither.

    Locally a temporary file is renamed over the target (os.replace); one gs:// upload is
    atomic already (the object appears whole when the upload completes).
    """
    if is_gcs(path):
        gcs_client.call(
            gcs_client.blob_of(path).upload_from_string,
            data,
            content_type="application/octet-stream",
        )
        return
    if is_remote(path):
        _write_beam(path, data)
        return
    makedirs(dirname(path))
    temp_path = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(temp_path, "wb") as f:
            f.write(data)
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


def _write_beam(path: str, data: bytes) -> None:
    """Other schemes: a temporary name renamed into place (Beam's rename copies and deletes)."""
    temp_path = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with _beam().create(temp_path, compression_type="uncompressed") as f:
        f.write(data)
    if exists(path):
        _beam().delete([path])
    _beam().rename([temp_path], [path])


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def is_disk_full(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, is a full disk (or quota).

    Beam re-raises a worker's error with its message extended, so the message is checked too.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def delete(paths: Iterable[str]) -> None:
    """Delete files (locally also folders) that exist; missing ones are ignored."""
    for path in paths:
        if not exists(path):
            continue
        if is_gcs(path):
            _delete_gcs(path)
        elif is_remote(path):
            # Beam matches the paths to delete as globs: escaped, so each matches only itself.
            _beam().delete([escape_glob(path)])
        elif os.path.isdir(path) and not os.path.islink(path):
            import shutil

            shutil.rmtree(path)
        else:
            os.remove(path)


def _delete_gcs(url: str) -> None:
    with contextlib.suppress(FileNotFoundError):  # gone meanwhile: what was asked for
        gcs_client.call(gcs_client.blob_of(url).delete)


def delete_matching(pattern: str) -> list[str]:
    paths = glob(pattern)
    delete(paths)
    return paths


def copy_tree(source: str, destination: str, last: Iterable[str] = ()) -> list[str]:
    """Copy every file below `source` to the same relative path below `destination`.

    Either side may be local or remote. Files named in `last` (relative paths) go after all
    the others, so a marker written last (an export's metadata) means the copy is complete.
    Returns the relative paths copied, in order.
    """
    last = list(last)
    relative = list_tree(source)
    ordered = [name for name in relative if name not in last]
    ordered += [name for name in last if name in relative]
    for name in ordered:
        parts = name.split("/")
        write_bytes(join(destination, *parts), read_bytes(join(source, *parts)))
    return ordered
