"""Paths as text: local paths and URLs, globs, gs:// URLs checked; no client, no file opened.

A path is a local path or a URL (gs://bucket/x, or another scheme Beam knows). Globs work alike
on every kind: `*` and `?` stay within a folder, `**` crosses folders, `[...]` is a character
class; `escape_glob` makes a path match only itself.
"""

from __future__ import annotations

import os
import posixpath
import re

from sciencebeam_gym.storage.errors import StorageError

GCS_SCHEME = "gs://"
GLOB_CHARS = re.compile(r"[*?\[]")
# Bucket names: 3-63 characters of lowercase letters, digits, '-', '_' and '.',
# starting and ending with a letter or digit.
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


def is_remote(path: str) -> bool:
    """True for URLs such as gs://bucket/x (anything with a scheme), False for local paths."""
    return "://" in path


def is_gcs(path: str) -> bool:
    return path.startswith(GCS_SCHEME)


def join(base: str, *parts: str) -> str:
    if is_remote(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def dirname(path: str) -> str:
    return posixpath.dirname(path) if is_remote(path) else os.path.dirname(path)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if is_remote(path) else os.path.basename(path)


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


# --- globs ---------------------------------------------------------------------------------------


def glob_regex(pattern: str) -> re.Pattern:
    """The regex of a glob: `*` and `?` within a folder, `**` across folders, `[...]` classes.

    Written here because the standard library's glob is for local paths only and its `**` must
    be a whole path component (fnmatch lets `*` cross folders).
    """
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            # `\` and `[` literal inside the class (`[[]` is how escape_glob writes a `[`).
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            parts.append(f"[{body}]")
            i = end
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def static_prefix(pattern: str) -> str:
    """The part of a glob before its first glob character (the whole pattern when it has none)."""
    match = GLOB_CHARS.search(pattern)
    return pattern if match is None else pattern[: match.start()]


def escape_glob(path: str) -> str:
    """A path with its glob characters (`*`, `?`, `[`) matching only themselves.

    These globs, like fnmatch and Beam's matcher, have no escape character; a one-character class
    such as `[[]` is the way to match a literal character (like `glob.escape`, on every backend).
    """
    return re.sub(r"([*?[])", r"[\1]", path)


# --- gs:// URLs ----------------------------------------------------------------------------------


def parse_gcs_url(url: str) -> tuple[str, str]:
    """Split gs://bucket/some/path into ("bucket", "some/path"), with clear errors for typos."""
    if not url.startswith(GCS_SCHEME):
        if re.match(r"^gs:/*", url, flags=re.IGNORECASE) or url.lower().startswith("gs//"):
            raise StorageError(
                f"{url!r} looks like a Cloud Storage URL with a typo; write gs://BUCKET/PATH"
            )
        raise StorageError(f"{url!r} is not a Cloud Storage URL (expected gs://BUCKET/PATH)")
    bucket, _, name = url[len(GCS_SCHEME) :].partition("/")
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
    """Object names joined with single slashes ('a/', '/b', 'c' -> 'a/b/c'), empty parts dropped."""
    pieces = [p.strip("/") for p in (prefix, *parts) if p.strip("/")]
    return "/".join(pieces)


def gcs_url(bucket: str, object_name: str) -> str:
    return f"{GCS_SCHEME}{bucket}/{object_name}"
