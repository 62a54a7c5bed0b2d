"""A local Cloud Storage emulator on 127.0.0.1, for tests and offline trials of the --cloud path.

    with gcs_emulator(buckets=["my-bucket"]) as emulator:
        fs.write_text("gs://my-bucket/x.txt", "hello")   # goes to the emulator

It runs `gcp-storage-emulator` (a dev extra) in a child process on a free loopback port and sets
STORAGE_EMULATOR_HOST for this process and its children, which both the storage client and Beam's
GCS filesystem honour. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sciencebeam_gym.storage.gcs_client import EMULATOR_ENV_VAR

LOOPBACK = "127.0.0.1"
DEFAULT_BUCKET = "gym-test-bucket"


class EmulatorError(RuntimeError):
    pass


@dataclass
class GcsEmulator:
    """A running emulator: its URL (the value of STORAGE_EMULATOR_HOST) and its buckets."""

    url: str
    buckets: list[str]
    process: subprocess.Popen

    @property
    def bucket(self) -> str:
        return self.buckets[0]

    def wipe(self) -> None:
        """Delete every object, keeping the buckets (a clean slate between tests)."""
        with urllib.request.urlopen(f"{self.url}/wipe?keep-buckets=true", timeout=10) as r:
            r.read()


def find_free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# Runs in the emulator's own interpreter: ask Linux to end it when the process that started it
# dies (even killed), then start the emulator. Done there rather than in a preexec_fn, which is
# unsafe in a parent with threads (TensorFlow, gRPC) and was seen to abort the child.
_LAUNCHER = """
import contextlib, ctypes, runpy, signal, sys
with contextlib.suppress(OSError, AttributeError):
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
sys.argv = ["gcp_storage_emulator"] + sys.argv[1:]
runpy.run_module("gcp_storage_emulator", run_name="__main__", alter_sys=True)
"""


def _is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def _wait_until_up(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"the storage emulator exited with code {process.returncode} before it was ready"
            )
        if _is_up(url):
            return
        time.sleep(0.1)
    raise EmulatorError(f"the storage emulator did not answer on {url} within {timeout_s:.0f} s")


def _create_bucket(url: str, name: str) -> None:
    request = urllib.request.Request(
        f"{url}/storage/v1/b?project=gym-test",
        data=f'{{"name": "{name}"}}'.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def start_emulator(
    buckets: Iterable[str] = (DEFAULT_BUCKET,), timeout_s: float = 30
) -> GcsEmulator:
    """Start the emulator in memory on a free loopback port and create the buckets."""
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError as e:
        raise EmulatorError(
            "the storage emulator is not installed; install the dev extras: "
            "pip install -e '.[dev]' (it provides gcp-storage-emulator)"
        ) from e
    port = find_free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-c", _LAUNCHER, "start"]
    command += ["--host", LOOPBACK, "--port", str(port), "--in-memory", "--quiet"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(url, process, timeout_s)
        bucket_list = list(buckets)
        for name in bucket_list:
            _create_bucket(url, name)
    except BaseException:
        stop_emulator_process(process)
        raise
    return GcsEmulator(url=url, buckets=bucket_list, process=process)


def stop_emulator_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def emulator_environment(url: str) -> Iterator[None]:
    """Point STORAGE_EMULATOR_HOST at `url` for the duration, restoring the old values after."""
    # NO_GCE_CHECK stops Google's auth library from probing the cloud metadata server.
    settings = {EMULATOR_ENV_VAR: url, "NO_GCE_CHECK": "True"}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def anonymous_beam_credentials() -> Iterator[None]:
    """Let Beam's GCS filesystem talk to the emulator without looking for Google credentials.

    Without credentials on the machine, Beam retries the search for about 25 s (once per
    process) before going anonymous; an emulator needs none, so this sets the answer up front.
    """
    from apache_beam.internal.gcp import auth

    cache = auth._Credentials
    with cache._credentials_lock:
        previous = (cache._credentials_init, cache._credentials)
        cache._credentials_init, cache._credentials = True, None
    try:
        yield
    finally:
        with cache._credentials_lock:
            cache._credentials_init, cache._credentials = previous


@contextlib.contextmanager
def gcs_emulator(buckets: Iterable[str] = (DEFAULT_BUCKET,)) -> Iterator[GcsEmulator]:
    """Run the emulator for the duration of the block, with STORAGE_EMULATOR_HOST set."""
    emulator = start_emulator(buckets)
    try:
        with emulator_environment(emulator.url), anonymous_beam_credentials():
            yield emulator
    finally:
        stop_emulator_process(emulator.process)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground and print the export line for a shell."""
    from sciencebeam_gym import cli

    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.cloud.emulator",
        description="Run a local Cloud Storage emulator on 127.0.0.1 (Ctrl-C to stop).",
    )
    parser.add_argument("--bucket", action="append", help="bucket to create (repeatable)")
    args = parser.parse_args(argv)
    try:
        with gcs_emulator(args.bucket or [DEFAULT_BUCKET]) as emulator:
            print(f"export {EMULATOR_ENV_VAR}={emulator.url}", flush=True)
            print(f"buckets: {', '.join('gs://' + b for b in emulator.buckets)}", flush=True)
            emulator.process.wait()
    except EmulatorError as e:
        return cli.report_error(e, cli.EXIT_USAGE)
    except KeyboardInterrupt:
        return cli.EXIT_OK
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
