"""The pipeline run the way cron and users run it: the luigi command line against a real luigid."""

import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from spark.catalog import MARTS
from tests.luigid_server import scheduler_api
from tests.pipeline_helpers import (
    ALREADY_RUNNING,
    DUMPS,
    NOT_RUN,
    RELEASE,
    child_folder,
    luigi_command,
    pipeline_settings,
    sample_release,
    source_lines,
    write_config_file,
)

LOCK_WAIT_S = 120


def pipeline_against(luigid: int) -> list[str]:
    """The arguments of the pipeline as cron runs it, against the luigid on `luigid`, with two workers."""
    return ["OpenLibraryPipeline", "--release", "latest", "--scheduler-host", "127.0.0.1",
            "--scheduler-port", str(luigid), "--workers", "2"]  # fmt: skip


def test_cli_run_against_luigid_ends_with_every_task_done(tmp_path: Path, luigid: int) -> None:
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        config = write_config_file(tmp_path / "luigi.cfg", pipeline_settings(server.url, tmp_path / "lake"))
        command, env = luigi_command(config, *pipeline_against(luigid), local_scheduler=False)
        completed = subprocess.run(
            command, cwd=child_folder(tmp_path), env=env, capture_output=True, text=True, timeout=900
        )
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
    transforms = [task for task in done.values() if task["name"] == "TransformDump"]
    assert all(task["progress_percentage"] == 100 for task in transforms)
    works = next(task for task in transforms if task["params"]["dump"] == "works")
    assert works["status_message"].startswith(f"{len(source_lines(source, 'works')):,} lines: ")
    (marts,) = [task for task in done.values() if task["name"] == "BuildMarts"]
    assert marts["progress_percentage"] == 100 and marts["status_message"].startswith("rows: ")
    assert all(f" {mart} " in marts["status_message"] for mart in MARTS), marts["status_message"]
    for status in ("FAILED", "PENDING", "RUNNING", "DISABLED"):
        assert scheduler_api(luigid, "task_list", status=status) == {}, status


def summary(log: str) -> str:
    """Luigi's execution summary in a run's output (empty when the run stopped before scheduling)."""
    parts = log.split("===== Luigi Execution Summary =====")
    return parts[1] if len(parts) > 2 else ""


def wait_until_scheduling(process: subprocess.Popen, luigid: int, log: Path) -> None:
    """Return once the run has told luigid of its tasks, which it does only after taking luigi's process
    lock; fail with its output when it ends first or has not done so within LOCK_WAIT_S."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while not scheduler_api(luigid, "task_list"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            output = log.read_text()
            pytest.fail(f"the first run never scheduled its tasks (exit {process.returncode}):\n{output}")
        time.sleep(0.05)


def run_log_counts(*outputs: str) -> Counter[str]:
    """How many times each task was started, from the workers' `running   Task(...)` log lines."""
    return Counter(
        match for output in outputs for match in re.findall(r" running +(\w+\(.*?\))$", output, re.M)
    )


@pytest.mark.reliability(5)
def test_overlapping_pipelines_run_each_task_once(tmp_path: Path, luigid: int, fault) -> None:
    """Pipelines overlapping against one luigid. The same command line started again on the same machine
    while the first holds luigi's process lock stops there. One that skips that lock, as a run from another
    machine would, asks luigid for work, and luigid never gives a task to two workers: it runs a share, or is
    told the tasks are taken. A worker that finds nothing it may run (the other holds the `spark` resource)
    stops, leaving any rest to the next run: a later run does only what is left. Every task runs exactly
    once."""
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        config = write_config_file(tmp_path / "luigi.cfg", pipeline_settings(server.url, tmp_path / "lake"))
        command, env = luigi_command(config, *pipeline_against(luigid), local_scheduler=False)
        logs_folder = tmp_path / "logs"
        logs_folder.mkdir()

        def start(name: str, *extra: str) -> subprocess.Popen:
            """The command (plus `extra`), its output in logs/{name}.log: a file, so no run ever blocks on a
            pipe nobody reads while the test waits for another."""
            with (logs_folder / f"{name}.log").open("w") as log:
                return subprocess.Popen(command + list(extra), cwd=child_folder(tmp_path), env=env,
                                        stdout=log, stderr=subprocess.STDOUT, text=True)  # fmt: skip

        first = start("first")
        wait_until_scheduling(first, luigid, logs_folder / "first.log")
        again = start("again")  # the same command line, same machine, while the first holds the lock
        elsewhere = start("elsewhere", "--no-lock")
        processes = [first, again, elsewhere]
        for process in processes:
            process.wait(timeout=900)
        later = start("later")
        later.wait(timeout=900)
    logs = [(logs_folder / f"{name}.log").read_text() for name in ("first", "again", "elsewhere", "later")]
    codes = [process.returncode for process in [*processes, later]]
    first, second, elsewhere, afterwards = logs
    assert codes[1] == ALREADY_RUNNING and "already running" in second, second
    assert run_log_counts(second) == Counter()
    for code, log in zip(codes, logs, strict=True):
        assert code in (0, ALREADY_RUNNING, NOT_RUN), log
        assert "Traceback" not in log and "failed:" not in summary(log), log
    assert codes[3] == 0, afterwards
    starts = run_log_counts(*logs)
    assert len(starts) == 15 and set(starts.values()) == {1}, starts
    # luigid arbitrated: the run without the process lock ran a share, or was told the tasks were taken
    refused = ("being run by another worker", "not granted run permission by the scheduler")
    assert run_log_counts(elsewhere) or any(words in summary(elsewhere) for words in refused), elsewhere
    assert len(scheduler_api(luigid, "task_list", status="DONE")) == 15
    assert (tmp_path / "lake" / "reports" / RELEASE / "report.json").exists()
    shares = [sum(run_log_counts(log).values()) for log in (first, elsewhere, afterwards)]
    fault(
        "Pipelines started together",
        injected="`luigi --module tasks OpenLibraryPipeline --release latest` against one real luigid, then "
        "as soon as it held luigi's process lock the same command again and one with --no-lock (like a run "
        "from another machine); then a fourth after them all",
        result=f"the second exited {codes[1]} ([retcode] already_running) at luigi's process lock, running "
        f"nothing; the first ran {shares[0]} tasks (exit {codes[0]}); the --no-lock run "
        + (f"ran {shares[1]}" if shares[1] else "was told by luigid the tasks were taken and ran none")
        + f" (exit {codes[2]}); the later run ran the {shares[2]} left; each of the 15 tasks ran exactly "
        "once, none failed",
    )
