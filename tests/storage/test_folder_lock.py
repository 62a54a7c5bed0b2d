"""The output-folder lock: a second holder is refused by name; dead holders never block."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from sciencebeam_gym.storage import folder_lock
from sciencebeam_gym.storage.folder_lock import FolderLock, FolderLockedError

HOLD_SCRIPT = """
import sys, time
from sciencebeam_gym.storage import folder_lock
lock = folder_lock.acquire(sys.argv[1], "training")
print("held", flush=True)
time.sleep(600)
"""


def start_holder(folder):
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_second_holder_is_refused_with_host_and_pid(tmp_path):
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(FolderLockedError) as refused:
            folder_lock.acquire(str(tmp_path), "training")
        message = str(refused.value)
        assert f"PID {holder.pid}" in message and socket.gethostname() in message
        assert "training" in message and str(tmp_path) in message
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_holder_is_taken_over(tmp_path):
    holder = start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / folder_lock.LOCK_NAME).exists()  # left behind, but not held
    with folder_lock.hold(str(tmp_path), "training") as lock:
        body = json.loads((tmp_path / folder_lock.LOCK_NAME).read_text())
        assert body["pid"] == os.getpid() and lock is not None
    assert not (tmp_path / folder_lock.LOCK_NAME).exists()


def test_same_process_second_open_is_refused_and_release_frees(tmp_path):
    first = folder_lock.acquire(str(tmp_path))
    with pytest.raises(FolderLockedError):
        folder_lock.acquire(str(tmp_path))
    first.release()
    folder_lock.acquire(str(tmp_path)).release()


def write_body(folder, host, pid):
    body = {"host": host, "pid": pid, "purpose": "training", "started": time.time()}
    (folder / folder_lock.LOCK_NAME).write_text(json.dumps(body))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_without_flock_a_dead_pid_on_this_host_is_stale(tmp_path, capsys):
    # the rule used where the file system has no flock: exclusive creation
    write_body(tmp_path, socket.gethostname(), dead_pid())
    lock = FolderLock(str(tmp_path))
    assert lock._create_exclusive() is None  # stale: removed, to be created afresh
    assert "stale lock" in capsys.readouterr().err
    fd = lock._create_exclusive()
    assert fd is not None
    os.close(fd)


@pytest.mark.parametrize("host", [None, "another-host"])
def test_without_flock_a_live_or_foreign_holder_is_refused(tmp_path, host):
    write_body(tmp_path, host or socket.gethostname(), os.getpid() if host is None else 1)
    with pytest.raises(FolderLockedError, match="PID"):
        FolderLock(str(tmp_path))._create_exclusive()
    assert (tmp_path / folder_lock.LOCK_NAME).exists()


def test_object_store_folders_are_not_locked(capsys):
    with folder_lock.hold("gs://bucket/model") as lock:
        assert lock is None
    assert "not locked" in capsys.readouterr().err


@pytest.mark.parametrize("inside", [False, True])
def test_a_folder_that_cannot_be_written_is_one_clear_error(tmp_path, inside):
    from tests.read_only import read_only

    with read_only(tmp_path / "locked") as folder:
        target = folder / "model" if inside else folder
        with pytest.raises(folder_lock.LockError) as error:
            folder_lock.acquire(str(target), "training")
    message = str(error.value)
    assert str(target) in message and "cannot be written" in message
    assert "another output folder" in message


def test_an_output_path_under_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(folder_lock.LockError, match="cannot be written"):
        folder_lock.acquire(str(tmp_path / "a-file" / "model"), "preprocessing")
