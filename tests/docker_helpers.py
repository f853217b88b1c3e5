"""Run the container's pieces (docker/) on this machine, which has no Docker engine.

- `ContainerLuigid`: luigid started the way the entrypoint starts it, with the shipped docker/luigid.cfg
  (only its /var/lib/luigid paths moved to a test folder) on a free 127.0.0.1 port; stop() sends SIGTERM.
- `LogFifo`: the entrypoint's log FIFO, drained into memory (the container log).
- `start_cron_job(...)`: the job line of the rendered crontab, its container paths moved to test folders,
  run the way cron runs it: bash, an almost empty environment, the job's settings read from job.env.
- `dockerignored(...)`: whether .dockerignore keeps a path out of the build context.
"""

import fnmatch
import importlib.util
import os
import select
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Self

from bench.ports import free_port
from tests.luigid_server import scheduler_api, wait_until_answering

PROJECT = Path(__file__).resolve().parent.parent
DOCKER = PROJECT / "docker"
VENV_BIN = Path(sys.executable).parent
IMAGE_STATE_DIR = "/var/lib/luigid"  # the volume, as docker/luigid.cfg names it
IMAGE_RUN_DIR = "/run/pipeline"  # job.env and log.fifo, as docker/crontab names them
IMAGE_APP_DIR = "/opt/pipeline"  # where the Dockerfile copies docker/'s scripts


def docker_module(name: str) -> ModuleType:
    """docker/{name}.py imported as a module (docker/ holds the image's scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"docker_{name}", DOCKER / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ContainerLuigid:
    """luigid with the image's configuration, its state folder moved to `state_dir`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = state_dir.parent / "luigid.cfg"
        shipped = (DOCKER / "luigid.cfg").read_text()
        assert IMAGE_STATE_DIR in shipped
        self.config.write_text(shipped.replace(IMAGE_STATE_DIR, str(state_dir)))
        self.log = state_dir.parent / "luigid.log"
        self._process: subprocess.Popen | None = None

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.pickle"

    @property
    def history_db(self) -> Path:
        return self.state_dir / "task-history.sqlite"

    def start(self) -> None:
        """Start it as the entrypoint does (luigi.cfg, then luigid.cfg); return once it answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(VENV_BIN / "luigid"), "--address", "127.0.0.1", "--port", str(self.port)],
                cwd=PROJECT, env={**os.environ, "LUIGI_CONFIG_PATH": str(self.config)},
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until_answering(self.port, self._process, self.log)

    def stop(self) -> int:
        """SIGTERM (what docker stop sends through tini and the entrypoint); luigid's exit status."""
        if self._process is None:
            return 0
        self._process.terminate()
        status = self._process.wait(timeout=30)
        self._process = None
        return status

    def api(self, method: str, **data: object) -> dict:
        return scheduler_api(self.port, method, **data)

    def task_starts(self) -> Counter[str]:
        """How many times each task (by luigi task id) started running, from the SQLite task history."""
        with sqlite3.connect(self.history_db) as db:
            rows = db.execute(
                "SELECT t.task_id FROM tasks t JOIN task_events e ON e.task_id = t.id "
                "WHERE e.event_name = 'RUNNING'"
            ).fetchall()
        return Counter(task_id for (task_id,) in rows)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class LogFifo:
    """A FIFO at `path` read into memory by a thread, as the entrypoint copies it to the container log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path, 0o600)
        self._chunks: list[bytes] = []
        self._stop = threading.Event()
        self._fd = os.open(path, os.O_RDWR)  # a writer of its own: no end-of-file between two jobs
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if ready:
                self._chunks.append(os.read(self._fd, 65536))

    @property
    def text(self) -> str:
        """Everything written so far, once the pipe has been quiet for half a second (10 s at most)."""
        deadline, seen = time.monotonic() + 10, -1
        while len(self._chunks) != seen and time.monotonic() < deadline:
            seen = len(self._chunks)
            time.sleep(0.5)
        return b"".join(self._chunks).decode("utf-8", "replace")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._fd)


def rendered_crontab(cron: str | None = None) -> subprocess.CompletedProcess:
    """docker/render_crontab.py run on docker/crontab with CRON set to `cron` (unset when None)."""
    env = {key: value for key, value in os.environ.items() if key != "CRON"}
    if cron is not None:
        env["CRON"] = cron
    return subprocess.run(
        [sys.executable, str(DOCKER / "render_crontab.py"), str(DOCKER / "crontab")],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def job_lines(crontab: str) -> list[str]:
    """The crontab's job lines (not comments, blank lines or VAR=value settings)."""
    lines = [line.strip() for line in crontab.splitlines()]
    return [line for line in lines if line and not line.startswith("#") and "=" not in line.split()[0]]


def start_cron_job(run_dir: Path, environment: dict[str, str]) -> subprocess.Popen:
    """Start the crontab's job once, as cron would, with its container paths moved to test folders.

    `environment` is the container's environment: docker/job-env writes it to run_dir/job.env, as the
    entrypoint does (unless job.env is there already). The job line runs in bash under `env -i` with only
    what cron itself sets (HOME, LOGNAME, SHELL, PATH=/usr/bin:/bin), so the job sees nothing it did not
    read from job.env. Its working directory is the project's, whose luigi.cfg stands for the image's
    /etc/luigi/luigi.cfg. Whatever it prints outside the log FIFO is captured (cron would mail it).
    """
    crontab = rendered_crontab("* * * * *")
    assert crontab.returncode == 0, crontab.stderr
    [line] = job_lines(crontab.stdout)
    command = line.split(None, 5)[5]
    assert IMAGE_RUN_DIR in command and IMAGE_APP_DIR in command, command
    command = command.replace(IMAGE_RUN_DIR, str(run_dir)).replace(IMAGE_APP_DIR, str(DOCKER))
    job_env = run_dir / "job.env"
    if not job_env.exists():
        written = subprocess.run(
            [str(DOCKER / "job-env")], env=environment, capture_output=True, text=True, timeout=30, check=True
        )
        job_env.write_text(written.stdout)
        job_env.chmod(0o600)
    return subprocess.Popen(
        ["env", "-i", f"HOME={PROJECT}", "LOGNAME=pipeline", "SHELL=/bin/bash", "PATH=/usr/bin:/bin",
         "bash", "-c", command],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` (relative, with /) out of the build context under these patterns.

    Docker's rules: the last pattern that matches the path or one of its parent folders decides; a
    pattern starting with ! brings a path back; `**` matches any number of folders.
    """
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        if any(_matches(prefix, pattern) for prefix in prefixes):
            excluded = not negated
    return excluded


def _matches(path: str, pattern: str) -> bool:
    if pattern.startswith("**/"):
        rest = pattern.removeprefix("**/")
        return any(_matches("/".join(path.split("/")[start:]), rest) for start in range(path.count("/") + 1))
    return len(path.split("/")) == len(pattern.split("/")) and all(
        fnmatch.fnmatchcase(part, glob)
        for part, glob in zip(path.split("/"), pattern.split("/"), strict=True)
    )
