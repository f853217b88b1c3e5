"""The pipeline run the way cron and users run it: the luigi command line against a real luigid."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dumpserver import DumpServer
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    pipeline_settings,
    sample_release,
    source_lines,
    write_config_file,
)

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scheduler_api(port: int, method: str, **data: object) -> dict:
    query = urllib.parse.urlencode({"data": json.dumps(data)})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/{method}?{query}", timeout=5) as response:
        return json.load(response)["response"]


@pytest.fixture
def luigid(tmp_path: Path) -> Iterator[int]:
    """A real luigid on a free 127.0.0.1 port, stopped (SIGTERM, so it saves its state) after the test."""
    port = free_port()
    state = tmp_path / "luigid"
    state.mkdir()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "luigid"), "--address", "127.0.0.1", "--port", str(port),
         "--state-path", str(state / "state.pickle"), "--logdir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                scheduler_api(port, "task_list", status="DONE")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("luigid did not come up") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_run_against_luigid_ends_with_every_task_done(tmp_path: Path, luigid: int) -> None:
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        config = write_config_file(tmp_path / "luigi.cfg", pipeline_settings(server.url, tmp_path / "lake"))
        completed = subprocess.run(
            [sys.executable, "-m", "luigi", "--module", "tasks", "OpenLibraryPipeline", "--release", "latest",
             "--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid), "--workers", "2"],
            cwd=PROJECT, env={**os.environ, "LUIGI_CONFIG_PATH": str(config)},
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    done = scheduler_api(luigid, "task_list", status="DONE")
    families = sorted(task["name"] for task in done.values())
    assert families == sorted(
        ["OpenLibraryPipeline", "RunReport", "BuildMarts"] + ["TransformDump"] * 6 + ["IngestDump"] * 6
    )
    assert all(task["params"]["release"] == RELEASE for task in done.values())
    ingests = [task for task in done.values() if task["name"] == "IngestDump"]
    assert all(task["progress_percentage"] == 100 for task in ingests)
    works = next(task for task in ingests if task["params"]["dump"] == "works")
    assert f"{len(source_lines(source, 'works')):,} lines" in works["status_message"]
    for status in ("FAILED", "PENDING", "RUNNING", "DISABLED"):
        assert scheduler_api(luigid, "task_list", status=status) == {}, status
