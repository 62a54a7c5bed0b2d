"""Local and gs:// files through one interface (Apache Beam's FileSystems).

Everything in the toolkit that reads or writes data goes through here, so a path may be a local
path or a `gs://` URL (the GCS emulator is honoured through STORAGE_EMULATOR_HOST).
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import shutil
import uuid
import warnings
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
    with warnings.catch_warnings():
        # an escaped `[` (see escape_glob) becomes the regex `[[]`, valid but warned about
        warnings.filterwarnings("ignore", "Possible nested set", FutureWarning)
        results = FileSystems.match([pattern])[0].metadata_list
    return sorted(m.path for m in results)


def escape_glob(path: str) -> str:
    """A path with its glob characters (`*`, `?`, `[`) matching only themselves.

    Beam's matcher follows fnmatch, which has no escape character; a one-character class such as
    `[[]` is the way to match a literal character (like `glob.escape`, for gs:// paths too).
    """
    return re.sub(r"([*?[])", r"[\1]", path)


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
    delete([path])
    FileSystems.rename([temp_path], [path])


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def printable_path(path: str) -> str:
    """The path with bytes that are not UTF-8 (kept by Python as surrogates) shown as \\xNN."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_utf8_name(path: str) -> bool:
    """False for a path holding bytes that are not UTF-8 (os.fsdecode keeps them as surrogates)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    """Delete files or folders that exist; missing ones are ignored."""
    existing = [p for p in paths if exists(p)]
    # Beam matches the paths to delete as globs, and a local folder whose name has glob
    # characters matches nothing then: local paths are deleted here, remote ones escaped.
    remote = [escape_glob(p) for p in existing if is_remote(p)]
    if remote:
        FileSystems.delete(remote)
    for path in existing:
        if not is_remote(path):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def delete_matching(pattern: str) -> list[str]:
    paths = glob(pattern)
    delete(paths)
    return paths
