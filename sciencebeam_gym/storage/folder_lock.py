"""An exclusive lock on an output folder, so that two runs never write into the same one.

    with folder_lock.hold(output_path, "training"):
        ...  # a second run on output_path is refused with this run's host and PID

The lock is `<folder>/.lock`, held with `fcntl.flock` and holding a JSON body
(`{"host", "pid", "purpose", "started"}`) that the refusal quotes. Stale locks: the kernel
releases a flock when its holder dies (kill -9 included), so a lock file left behind by a dead
run never blocks the next one. Where the file system has no flock (some network mounts), the
file's exclusive creation is the lock instead, and a lock whose PID is no longer alive on this
host counts as stale and is taken over; one from another host must be removed by hand.
Object-store folders (gs://) are not locked: they have no atomic create-or-fail without their
client's preconditions, so `hold` logs a note and runs unlocked there.

Written here rather than taken from `filelock` or `fasteners`: neither records who holds a
lock, which the refusal must say.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time

from sciencebeam_gym import cli

LOCK_NAME = ".lock"

try:  # not on Windows: there the exclusive creation is the lock
    import fcntl
except ImportError:  # pragma: no cover - POSIX everywhere we run
    fcntl = None


class LockError(RuntimeError):
    """The folder cannot be locked for this run; the message says why and what to do."""

    exit_code = cli.EXIT_USAGE


class FolderLockedError(LockError):
    """Another live run holds the folder's lock; the message names its host and PID."""


class FolderUnwritableError(LockError):
    """The folder (or its lock file) cannot be made or written: read-only, no permission, a
    file in the way."""


def lock_path(folder: str) -> str:
    return os.path.join(folder, LOCK_NAME)


def holder_text(path: str) -> str:
    """'host H, PID P (purpose, since T)' from a lock file's body, or what could be read."""
    holder = read_holder(path)
    if not holder:
        return "an unknown run (the lock file is empty)"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return (
        f"host {holder.get('host', '?')}, PID {holder.get('pid', '?')} "
        f"({holder.get('purpose', 'a run')}, since {started})"
    )


def read_holder(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            body = json.load(handle)
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def is_stale(holder: dict) -> bool:
    """Left by a run that is gone: same host, PID not alive."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    return not pid_alive(holder["pid"])


class FolderLock:
    """The held lock of one folder; `release()` (or leaving `hold`) gives it up."""

    def __init__(self, folder: str, purpose: str = "a run"):
        self.folder = folder
        self.path = lock_path(folder)
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        try:
            os.makedirs(self.folder, exist_ok=True)
            for _attempt in range(10):
                self._fd = self._try_lock()
                if self._fd is not None:
                    self._write_body()
                    return self
        except OSError as error:
            self.release()
            raise FolderUnwritableError(
                f"{self.folder} cannot be written ({error.strerror or error}); choose another "
                "output folder, or make this one writable"
            ) from error
        raise FolderLockedError(self.refusal())

    def _try_lock(self) -> int | None:
        """A descriptor holding the lock of the file now at self.path; None: try again."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = flock_exclusive(fd)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            return self._create_exclusive()
        if not locked:
            os.close(fd)
            raise FolderLockedError(self.refusal())
        # A holder that released and removed the file in between: lock the new file instead.
        if not same_file(fd, self.path):
            os.close(fd)
            return None
        return fd

    def _create_exclusive(self) -> int | None:
        """The lock on a file system without flock: create the file, or clear a stale one."""
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if not is_stale(read_holder(self.path)):
                raise FolderLockedError(self.refusal()) from None
        print(
            f"note: removing the stale lock {self.path} ({holder_text(self.path)})", file=sys.stderr
        )
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
        return None

    def refusal(self) -> str:
        return (
            f"{self.folder} is in use by another run: {holder_text(self.path)}. Wait for it "
            f"to finish or stop it, or use another output folder (lock file: {self.path})"
        )

    def _write_body(self) -> None:
        body = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "purpose": self.purpose,
            "started": round(time.time(), 3),
        }
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, (json.dumps(body) + "\n").encode("utf-8"), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        # Removed before unlocking: a waiting run then finds a new file, never this one.
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
        os.close(self._fd)
        self._fd = None


def flock_exclusive(fd: int) -> bool:
    """Try to take fd's exclusive flock without waiting; False when another holds it."""
    if fcntl is None:
        raise OSError(errno.ENOSYS, "no flock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def same_file(fd: int, path: str) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def is_remote(folder: str) -> bool:
    return "://" in folder


def acquire(folder: str, purpose: str = "a run") -> FolderLock | None:
    """The held lock of a local folder (None for gs://); give it up with `.release()`."""
    if is_remote(folder):
        print(f"note: {folder} is not locked (object stores have no lock files)", file=sys.stderr)
        return None
    return FolderLock(folder, purpose).acquire()


@contextlib.contextmanager
def hold(folder: str, purpose: str = "a run"):
    """Hold `folder`'s lock for the block; FolderLockedError when a live run holds it,
    FolderUnwritableError when the folder cannot be written (both LockError)."""
    lock = acquire(folder, purpose)
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()
