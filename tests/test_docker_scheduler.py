"""The container's scheduler pieces, run for real without Docker: luigid with the image's configuration,
the crontab's job line run the way cron runs it (empty environment + job.env, output to the log FIFO),
the lock against overlapping runs, the failure summary, the HEALTHCHECK script, and luigid's state
surviving a SIGTERM and a restart."""

import fcntl
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from bench.ports import refused_port
from tests.docker_helpers import DOCKER, VENV_BIN, ContainerLuigid, LogFifo, start_cron_job
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    SCHEDULING_ERROR,
    TASK_FAILED,
    pipeline_settings,
    sample_release,
    write_config_file,
)

RUN_IN_PROGRESS = "a pipeline run is already in progress"
SUMMARY_TITLE = " PIPELINE RUN FAILED "


@dataclass
class Container:
    """What the entrypoint sets up, on this machine: luigid, the log FIFO, the folders, the job's settings."""

    root: Path
    luigid: ContainerLuigid
    log: LogFifo
    lake: Path  # LAKE_ROOT, as the VM passes it to the container

    @property
    def run_dir(self) -> Path:
        return self.log.path.parent

    @property
    def lock_file(self) -> Path:
        return self.root / "pipeline.lock"

    def environment(self, base_url: str, dumps: list[str]) -> dict[str, str]:
        """The container's environment for a run against `base_url`: the job reads it from job.env.

        The test's luigi.cfg (LUIGI_CONFIG_PATH, test-only) points the client at this luigid and names a
        different lake, so a lake written at LAKE_ROOT shows the job got its settings from job.env.
        """
        settings = pipeline_settings(base_url, self.root / "lake-from-luigi-cfg")
        settings["openlibrary"]["dumps"] = json.dumps(dumps)
        settings["core"] = {"scheduler_url": self.luigid.url}
        config = write_config_file(self.root / "luigi.cfg", settings)
        environment = {
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",  # the image's PATH starts with its virtualenv too
            "LAKE_ROOT": str(self.lake),
            "LUIGI_CONFIG_PATH": str(config),
            "PIPELINE_LOCK_FILE": str(self.lock_file),
        }
        if "JAVA_HOME" in os.environ:
            environment["JAVA_HOME"] = os.environ["JAVA_HOME"]
        return environment

    def run_job(self, environment: dict[str, str]) -> subprocess.CompletedProcess:
        job = start_cron_job(self.run_dir, environment)
        output, _ = job.communicate(timeout=600)
        return subprocess.CompletedProcess(job.args, job.returncode, output, None)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    log = LogFifo(run_dir / "log.fifo")
    try:
        with ContainerLuigid(tmp_path / "luigid") as luigid:
            yield Container(root=tmp_path, luigid=luigid, log=log, lake=tmp_path / "lake")
    finally:
        log.close()


def summary_of(log: str) -> list[str]:
    """The failure summary's lines, from its title to its closing rule."""
    lines = log.splitlines()
    start = next(index for index, line in enumerate(lines) if SUMMARY_TITLE in line)
    end = next(index for index in range(start + 1, len(lines)) if set(lines[index]) == {"="})
    return lines[start : end + 1]


def healthcheck(url: str) -> int:
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py"), url], capture_output=True, timeout=30
    ).returncode


@pytest.mark.reliability(5)
def test_two_cron_runs_started_together_run_each_task_once_and_luigid_keeps_its_state(
    container: Container, fault
) -> None:
    dumps = ["redirects"]  # one dump keeps the run short; the graph is the same
    source = sample_release(container.root / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        environment = container.environment(server.url, dumps)
        jobs = [start_cron_job(container.run_dir, environment) for _ in range(2)]
        outputs = [job.communicate(timeout=600)[0] for job in jobs]
    log = container.log.text

    assert [job.returncode for job in jobs] == [0, 0], log[-3000:]
    assert outputs == ["", ""]  # everything went to the log FIFO (cron would have mailed the rest)
    assert log.count(RUN_IN_PROGRESS) == 1, log[-3000:]
    assert log.count("pipeline run finished: every task done") == 1
    assert (container.lake / "reports" / RELEASE / "report.json").exists()  # LAKE_ROOT from job.env
    assert not (container.root / "lake-from-luigi-cfg").exists()

    starts = container.luigid.task_starts()  # from the SQLite task history (record_task_history)
    families = sorted(task_id.split("_")[0] for task_id in starts)
    assert families == sorted(
        ["OpenLibraryPipeline", "RunReport", "BuildMarts", "TransformDump", "IngestDump"]
    )
    assert set(starts.values()) == {1}, starts
    with urllib.request.urlopen(f"{container.luigid.url}/history", timeout=10) as page:
        assert "IngestDump" in page.read().decode()
    assert healthcheck(container.luigid.url) == 0

    done = set(container.luigid.api("task_list", status="DONE"))
    assert done == set(starts)
    assert container.luigid.stop() == 0  # SIGTERM: luigid saves its state on the way out
    assert container.luigid.state_file.stat().st_size > 0
    assert healthcheck(container.luigid.url) == 1

    with ContainerLuigid(container.luigid.state_dir) as restarted:  # a new container on the same volume
        assert set(restarted.api("task_list", status="DONE")) == done
    fault(
        "Cron runs started together",
        injected="the crontab's job line run twice at the same moment, as cron runs it (empty environment, "
        "job.env, output to the log FIFO), against the container's luigid",
        result=f"one took the flock and ran; the other logged '{RUN_IN_PROGRESS}' and exited 0; each of the "
        f"{len(starts)} tasks started once (luigid's SQLite task history)",
    )


def test_a_run_while_the_lock_is_held_exits_0_and_schedules_nothing(container: Container) -> None:
    source = sample_release(container.root / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server, container.lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds it
        completed = container.run_job(container.environment(server.url, ["redirects"]))
        assert server.requests == []
    log = container.log.text
    assert completed.returncode == 0
    assert RUN_IN_PROGRESS in log
    assert container.luigid.api("task_list", status="PENDING") == {}
    assert container.luigid.api("task_list", status="DONE") == {}


def test_a_refused_release_leaves_a_one_screen_summary_naming_the_missing_dump(container: Container) -> None:
    source = sample_release(container.root / "source")
    missing = f"ol_dump_ratings_{RELEASE}.txt.gz"
    (source / missing).unlink()
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = container.run_job(container.environment(server.url, list(DUMPS)))
    summary = summary_of(container.log.text)

    assert completed.returncode == SCHEDULING_ERROR
    assert len(summary) <= 40 and max(len(line) for line in summary) <= 110, "\n".join(summary)
    text = "\n".join(summary)
    assert f"release:    latest (resolved to {RELEASE})" in text
    assert f"exit code:  {SCHEDULING_ERROR}: scheduling_error" in text
    assert f"  - OpenLibraryPipeline(release={RELEASE})" in summary
    flowing = " ".join(text.split())  # the error as one text: the summary wraps it at the screen's width
    assert f"release {RELEASE} refused: " in flowing and f"{missing} is missing (HTTP 404)" in flowing
    assert "Traceback" not in container.log.text
    assert "1 failed scheduling" in text  # the tail of luigi's execution summary
    assert f"visualiser: {container.luigid.url}" in text
    assert not container.lake.exists()


def test_a_failed_task_leaves_a_summary_with_its_error(container: Container) -> None:
    source = sample_release(container.root / "source")
    works = source / f"ol_dump_works_{RELEASE}.txt.gz"
    works.write_bytes(works.read_bytes()[: works.stat().st_size // 2])
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = container.run_job(container.environment(server.url, ["works"]))
    summary = summary_of(container.log.text)
    text = "\n".join(summary)

    assert completed.returncode == TASK_FAILED
    assert f"exit code:  {TASK_FAILED}: task_failed" in text
    failed_at = summary.index(f"  - IngestDump(release={RELEASE}, dump=works)")
    assert "truncated gzip stream" in summary[failed_at + 1]
    assert "failed tasks (1):" in text
    assert not (container.lake / "raw" / RELEASE / "works" / "_MANIFEST.json").exists()
    assert [task["name"] for task in container.luigid.api("task_list", status="FAILED").values()] == [
        "IngestDump"
    ]


def test_a_run_that_fails_before_any_task_leaves_a_summary_with_the_final_error(container: Container) -> None:
    with refused_port() as port:
        unreachable = f"http://127.0.0.1:{port}/data"
        completed = container.run_job(container.environment(unreachable, ["redirects"]))
    text = "\n".join(summary_of(container.log.text))

    assert completed.returncode == SCHEDULING_ERROR
    assert f"exit code:  {SCHEDULING_ERROR}: scheduling_error" in text
    assert "no task failed; luigi stopped with:" in text
    refusal = f"release latest refused: {unreachable}/ol_dump_redirects_latest.txt.gz: can't connect"
    assert refusal in text.replace("\n    ", " ")
    assert container.luigid.api("task_list", status="PENDING") == {}
