"""Local and gs:// files through one interface (Apache Beam's FileSystems).

Everything in the toolkit that reads or writes data goes through here, so a path may be a local
path or a `gs://` URL (the GCS emulator is honoured through STORAGE_EMULATOR_HOST).
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterable

from apache_beam.io.filesystems import FileSystems


def is_remote(path: str) -> bool:
    """True for URLs such as gs://bucket/x (anything with a scheme), False for local paths."""
    return "://" in path


def join(base: str, *parts: str) -> str:
    if is_remote(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def dirname(path: str) -> str:
    return posixpath.dirname(path) if is_remote(path) else os.path.dirname(path)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if is_remote(path) else os.path.basename(path)


def exists(path: str) -> bool:
    return FileSystems.exists(path)


def glob(pattern: str) -> list[str]:
    """Sorted paths matching a glob (local or gs://); an empty list when nothing matches."""
    results = FileSystems.match([pattern])[0].metadata_list
    return sorted(m.path for m in results)


def glob_many(patterns: Iterable[str]) -> list[str]:
    return sorted({path for pattern in patterns for path in glob(pattern)})


def size(path: str) -> int:
    return FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def read_bytes(path: str) -> bytes:
    with FileSystems.open(path, compression_type="uncompressed") as f:
        return f.read()


def makedirs(path: str) -> None:
    if not is_remote(path):
        os.makedirs(path, exist_ok=True)


def write_bytes(path: str, data: bytes) -> None:
    """Write a whole file atomically: a temporary name first, renamed when complete."""
    makedirs(dirname(path))
    temp_path = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with FileSystems.create(temp_path, compression_type="uncompressed") as f:
        f.write(data)
    if exists(path):
        FileSystems.delete([path])
    FileSystems.rename([temp_path], [path])


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def delete(paths: Iterable[str]) -> None:
    """Delete files or folders that exist; missing ones are ignored."""
    existing = [p for p in paths if exists(p)]
    if existing:
        FileSystems.delete(existing)


def delete_matching(pattern: str) -> list[str]:
    paths = glob(pattern)
    delete(paths)
    return paths
