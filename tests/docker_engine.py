"""A real Docker engine for the image test: the one that answers, or a dockerd of the test's own.

    with docker_engine() as docker:
        docker.run("version")            # the docker CLI against that engine (CompletedProcess, text)

Debian's `docker.io` (installed by `make test-deps`) brings dockerd and its matching client,
/usr/bin/docker, whose built-in BuildKit builds without the buildx plugin. When no engine answers at
$DOCKER_HOST (or the default socket), dockerd is started here on a socket, exec root and pid file of its
own, with its data root in DATA_ROOT (kept between runs: the base image and the build cache make the next
build quick), and stopped, by its process id, when the block ends. No engine and no dockerd to start: the
test fails saying what to install; it never skips.
"""

import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

DATA_ROOT = Path("/var/cache/openlibrary-image-test/docker")
DEBIAN_CLIENT = Path("/usr/bin/docker")  # docker.io's own client, the engine's version
INSTALL_HINT = "run `make test-deps` as root (Debian package docker.io), or start a Docker engine"
START_TIMEOUT_S = 60


@dataclass
class Docker:
    """The docker CLI bound to one engine."""

    cli: str
    host: str  # DOCKER_HOST, unix:///…
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess:
        """`docker ARGS` against this engine; raises with its output when it fails and `check` is set."""
        completed = subprocess.run(
            [self.cli, *args], env=self.env, capture_output=True, text=True, timeout=timeout, input=input
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}"
            )
        return completed

    def answers(self) -> bool:
        try:
            return (
                self.run("version", "--format", "{{.Server.Version}}", check=False, timeout=15).returncode
                == 0
            )
        except subprocess.TimeoutExpired:
            return False


def docker_cli() -> str:
    """Debian's client (same version as its dockerd, BuildKit built in), else the docker on PATH."""
    if DEBIAN_CLIENT.exists():
        return str(DEBIAN_CLIENT)
    found = shutil.which("docker")
    if not found:
        pytest.fail(f"no docker command: {INSTALL_HINT}")
    return found


def client(host: str) -> Docker:
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "1"}
    return Docker(cli=docker_cli(), host=host, env=env)


@contextmanager
def docker_engine(say: Callable[[str], None] = print) -> Iterator[Docker]:
    """An engine that answers: the existing one, or a dockerd started (and stopped) here."""
    existing = client(os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    if existing.answers():
        say(f"image test: using the Docker engine at {existing.host}")
        yield existing
        return
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if not dockerd:
        pytest.fail(f"no Docker engine answers and dockerd is not installed: {INSTALL_HINT}")
    if os.geteuid() != 0:
        pytest.fail("no Docker engine answers, and starting dockerd needs root: start one, or run as root")
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="dockerd-", dir="/tmp"))  # short: socket paths have a limit
    docker = client(f"unix://{run_dir}/docker.sock")
    log = run_dir / "dockerd.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [dockerd, "--host", docker.host, "--data-root", str(DATA_ROOT),
             "--exec-root", str(run_dir / "exec"), "--pidfile", str(run_dir / "docker.pid")],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not docker.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dockerd did not start (exit {process.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        say(f"image test: started dockerd (pid {process.pid}, data root {DATA_ROOT})")
        yield docker
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


CLONE_NEWNET = 0x40000000


def in_network_namespace(pid: int, make: Callable[[], T]) -> T:
    """make() called in a thread that has joined the network namespace of process `pid` (a container's):
    a server it creates binds that namespace's 127.0.0.1, which only the container reaches. Needs root."""
    result: list[T] = []
    errors: list[BaseException] = []

    def joined() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into the network namespace of pid {pid}")
            result.append(make())
        except BaseException as error:  # handed to the caller's thread
            errors.append(error)
        finally:
            os.close(fd)

    thread = threading.Thread(target=joined)  # ends after make(): nothing else runs in that namespace
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0]
