"""A folder nobody may write into, for the tests of what a run says then (issue 22 row 22)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import pytest


def _writable(folder) -> bool:
    probe = os.path.join(folder, ".write-probe")
    try:
        with open(probe, "wb"):
            pass
    except OSError:
        return False
    os.remove(probe)
    return True


@contextlib.contextmanager
def read_only(folder):
    """`folder` made unwritable for the block: mode 555, and for root (whom modes do not stop)
    the immutable attribute; the test is skipped where neither holds."""
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o555)
    immutable = False
    if _writable(folder) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
    try:
        if _writable(folder):
            pytest.skip("no way to make a folder read-only here")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        os.chmod(folder, 0o755)
