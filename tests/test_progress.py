"""Progress where people look: the Spark job's progress lines, the runners, the scheduler, the terminal."""

import json
import os
import pty
import select
import subprocess
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from runners.base import JobProgress
from runners.local import LocalSparkRunner, ProgressReader, parse_progress
from tasks.progress import eta
from tests.conftest import SampleLake
from tests.fake_dataproc import FakeDataproc
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    child_folder,
    luigi_command,
    pipeline_settings,
    run_luigi,
    sample_release,
    write_config_file,
)
from tests.test_dataproc_runners import ARGS, KEY, cluster_runner


def progress_line(step_no: int, steps: int, done: int, tasks: int, **extra: object) -> str:
    snapshot = {"step": "write works", "step_no": step_no, "steps": steps, "tasks_done": done, "tasks": tasks}
    snapshot.update(extra)
    return "OLPROGRESS " + json.dumps(snapshot) + "\n"


def test_progress_lines_become_the_share_of_the_job_done() -> None:
    assert parse_progress(progress_line(1, 4, 3, 4)) == JobProgress(
        fraction=(0 + 3 / 4) / 4, detail="write works (step 1 of 4), 3/4 tasks"
    )
    assert parse_progress(progress_line(3, 4, 0, 0)) == JobProgress(0.5, "write works (step 3 of 4)")
    for other in ("24/11/25 INFO SparkContext: Running Spark", "OLPROGRESS {not json", 'OLPROGRESS {"a": 1}'):
        assert parse_progress(other) is None


def test_only_the_last_line_of_a_job_says_it_is_done() -> None:
    assert parse_progress(progress_line(4, 4, 8, 8)) == JobProgress(
        fraction=(3 + 0.95) / 4, detail="write works (step 4 of 4), 8/8 tasks"
    )
    assert parse_progress(progress_line(4, 4, 0, 0, finished=True)) == JobProgress(
        1.0, "write works (step 4 of 4), finished"
    )


def test_progress_does_not_go_back_when_a_step_starts_its_next_stage() -> None:
    reader = ProgressReader()
    lines = [progress_line(2, 4, 2, 4), progress_line(2, 4, 0, 8), progress_line(2, 4, 6, 8), "a log line\n"]
    assert [reader.read(line) for line in lines] == [
        JobProgress((1 + 2 / 4) / 4, "write works (step 2 of 4), 2/4 tasks"),
        JobProgress((1 + 2 / 4) / 4, "write works (step 2 of 4), 0/8 tasks"),
        JobProgress((1 + 6 / 8) / 4, "write works (step 2 of 4), 6/8 tasks"),
        None,
    ]


def test_eta_extrapolates_the_time_taken() -> None:
    assert eta(30, 0.25) == ", ETA 90 s"
    assert eta(600, 0.5) == ", ETA 10 min"
    assert eta(5, 0.0) == eta(5, 1.0) == ""


def test_a_local_job_reports_its_steps_as_it_goes(
    sample_lake: SampleLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLIBRARY_PROGRESS_S", "0.2")
    seen: list[JobProgress] = []
    runner = LocalSparkRunner(master="local[2]", driver_memory="1g", conf={"spark.ui.enabled": "false"})
    raw = sample_lake.root / "raw" / sample_lake.release / "works"
    runner.run(
        "transform_dump",
        ["--dump", "works", "--manifest", str(raw / "_MANIFEST.json"), "--curated", str(tmp_path / "curated"),
         "--quarantine", str(tmp_path / "quarantine"), "--metrics", str(tmp_path / "metrics.json")],
        on_progress=seen.append,
    )  # fmt: skip
    assert len(seen) >= 4  # each step announces itself, plus the final report
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    assert seen[-1].fraction == 1.0
    assert all(p.fraction < 1.0 for p in seen[:-1])  # a finished stage is not a finished job
    steps = {p.detail.split(" (step")[0] for p in seen}
    assert {"write works", "write work_authors", "write quarantine", "count and check"} <= steps
    assert json.loads((tmp_path / "metrics.json").read_text())["written"] > 0


def test_a_cluster_job_reports_yarn_progress(tmp_path: Path) -> None:
    seen: list[JobProgress] = []
    with FakeDataproc() as fake:
        fake.running_polls = 4
        cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY, on_progress=seen.append)
    assert [p.fraction for p in seen] == pytest.approx([0.1, 0.2, 0.3, 0.4])  # YARN's float32
    assert all(p.detail == f"YARN spark-job RUNNING {p.fraction:.0%}" for p in seen)


def read_terminal(fd: int, process: subprocess.Popen) -> str:
    """Everything written to the pseudo-terminal until the process ends."""
    output = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed
                break
            output += chunk
        elif process.poll() is not None:
            break
    return output.decode(errors="replace")


def test_the_command_line_prints_progress_lines_in_a_terminal(tmp_path: Path) -> None:
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        config = write_config_file(tmp_path / "luigi.cfg", pipeline_settings(server.url, tmp_path / "lake"))
        controller, terminal = pty.openpty()
        command, env = luigi_command(config, "IngestDump", "--release", RELEASE, "--dump", "works")
        process = subprocess.Popen(
            command,
            cwd=child_folder(tmp_path),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
        )
        os.close(terminal)
        output = read_terminal(controller, process)
        os.close(controller)
        piped = run_luigi(tmp_path, server.url, "IngestDump", "--release", RELEASE, "--dump", "authors")
    assert process.wait(timeout=60) == 0
    assert f"IngestDump(release={RELEASE}, dump=works) 100%  done: " in output, output
    assert piped.returncode == 0, piped.stderr
    assert "100%  done" not in piped.stderr  # not a terminal: the log is left alone
