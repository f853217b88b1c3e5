"""A Spark standalone cluster on 127.0.0.1 for tests: a master and workers as separate JVMs, started from the
pinned pyspark's own jars (its bin/spark-class), on ports they pick themselves, stopped with their executors.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
START_S = 120.0  # JVM start-up on a busy two-core machine


@dataclass(frozen=True)
class StandaloneCluster:
    """A running cluster: `url` to submit to (spark://127.0.0.1:PORT), `webui` of its master, and each
    worker's work folder (one app-*/ folder per application that ran an executor there)."""

    url: str
    webui: str
    work_dirs: tuple[Path, ...]

    def state(self) -> dict[str, Any]:
        """The master's own account of the cluster (its JSON API): workers, active and completed apps."""
        with urllib.request.urlopen(f"{self.webui}/json/", timeout=10) as answer:
            return json.load(answer)


def daemon_environment() -> dict[str, str]:
    """The environment of the master and the workers: the pinned pyspark, loopback only, small JVMs."""
    return {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        "PYSPARK_PYTHON": sys.executable,
    }


@contextmanager
def _daemon(command: list[str], log: Path) -> Iterator[subprocess.Popen]:
    """A JVM in a process group of its own (its executors and their Python workers join it), killed with the
    whole group on the way out, also when the test failed."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=daemon_environment(), start_new_session=True
        )
    try:
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """TERM the JVM's group, give it 15 s to stop its executors, then KILL whatever of the group is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def _await_log(process: subprocess.Popen, log: Path, *patterns: str) -> list[str]:
    """The first group of each regex once the log holds all of them; fails with the log if the JVM ends."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = [re.search(pattern, text) for pattern in patterns]
        if all(found):
            return [match.group(1) for match in found if match]
        if process.poll() is not None:
            raise RuntimeError(f"{log.name}: the JVM exited ({process.returncode}):\n{text}")
        time.sleep(0.2)
    raise TimeoutError(f"{log.name}: no {patterns} after {START_S} s:\n{log.read_text(errors='replace')}")


def _await_workers(cluster: StandaloneCluster, count: int, logs: list[Path]) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        alive = [worker for worker in cluster.state()["workers"] if worker["state"] == "ALIVE"]
        if len(alive) == count:
            return
        time.sleep(0.3)
    tails = "\n".join(f"{log.name}:\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise TimeoutError(f"fewer than {count} workers ALIVE after {START_S} s: {cluster.state()}\n{tails}")


@contextmanager
def standalone_cluster(
    folder: Path, workers: int = 2, cores: int = 1, memory: str = "1g"
) -> Iterator[StandaloneCluster]:
    """A master and `workers` workers (each `cores` cores, `memory` for executors) bound to 127.0.0.1 on
    ports of their choosing (read from the master's log), logs and work folders in `folder`; the block runs
    once every worker is ALIVE, and the JVMs are stopped after it."""
    folder.mkdir(parents=True, exist_ok=True)
    loopback = ["--host", "127.0.0.1", "--port", "0", "--webui-port", "0"]
    with ExitStack() as stack:
        master_log = folder / "master.log"
        master = stack.enter_context(_daemon([str(SPARK_CLASS), MASTER_CLASS, *loopback], master_log))
        url, ui_port, _ = _await_log(
            master,
            master_log,
            r"Starting Spark master at (spark://127\.0\.0\.1:\d+)",
            r"Successfully started service 'MasterUI' on port (\d+)",
            r"New state: (ALIVE)",
        )
        work_dirs = tuple(folder / f"worker-{number}" for number in range(1, workers + 1))
        logs = [master_log]
        for work_dir in work_dirs:
            work_dir.mkdir()
            logs.append(folder / f"{work_dir.name}.log")
            options = ["--cores", str(cores), "--memory", memory, "--work-dir", str(work_dir)]
            stack.enter_context(_daemon([str(SPARK_CLASS), WORKER_CLASS, *loopback, *options, url], logs[-1]))
        cluster = StandaloneCluster(url=url, webui=f"http://127.0.0.1:{ui_port}", work_dirs=work_dirs)
        _await_workers(cluster, workers, logs)
        yield cluster
