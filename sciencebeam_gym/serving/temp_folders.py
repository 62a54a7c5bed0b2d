"""Temporary folders of interrupted runs: named for the process that made them, found and
removed once that process is gone (an export's partial folder, predict's pending outputs).

A run killed mid-way (kill -9, a lost machine) leaves its temporary folder behind. The next run
removes such folders, but never a live run's: a name made by `owned_name` carries the host and
process id, and is stale once that process is gone (on this host), or once it is older than
`STALE_AGE_S` (another host, whose processes cannot be checked). Names from before this scheme
are stale by age alone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable

LOGGER = logging.getLogger(__name__)

# an export or a prediction run takes minutes; a folder this old has no live owner
STALE_AGE_S = 6 * 3600.0
_OWNER_RE = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{8}$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def owned_name(prefix: str) -> str:
    """`<prefix><host>-<pid>-<random>`: a temporary name that says who owns it."""
    return f"{prefix}{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _age_s(path: str) -> float:
    try:
        return time.time() - os.lstat(path).st_mtime
    except OSError:
        return 0.0


def is_stale(path: str, prefix: str) -> bool:
    """Whether a temporary folder named `<prefix>...` has no live owner (see the docstring)."""
    match = _OWNER_RE.match(os.path.basename(path)[len(prefix) :])
    if match and match["host"] == _host():
        pid = int(match["pid"])
        return pid != os.getpid() and not process_alive(pid)
    return _age_s(path) > STALE_AGE_S


def remove_stale(
    folder: str, prefix: str, legacy: Callable[[str], bool] | None = None
) -> list[str]:
    """Remove the stale `<prefix>*` entries of a local folder, and the old-style temporary
    folders (`legacy(path)` true) older than STALE_AGE_S; the paths removed."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        path = os.path.join(folder, name)
        if name.startswith(prefix):
            stale = is_stale(path, prefix)
        else:
            stale = legacy is not None and legacy(path) and _age_s(path) > STALE_AGE_S
        if stale and _remove(path):
            removed.append(path)
            LOGGER.info("removed %s, left behind by an interrupted run", path)
    return removed


def _remove(path: str) -> bool:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except OSError as error:  # another run removing it too, or not ours to remove
        LOGGER.debug("could not remove %s (%s)", path, error)
        return False
    return True
