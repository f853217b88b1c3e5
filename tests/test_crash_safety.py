"""A worker killed (SIGKILL, no chance to clean up) in the middle of an ingest or a transform: nothing partial
is ever marked complete, and the rerun gives exactly what a clean run gives."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import luigi
import pyarrow.parquet as pq
import pytest
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from spark.catalog import DUMPS
from tasks import IngestDump, TransformDump
from tests.earlier_release import BAD_LINES
from tests.pipeline_helpers import (
    RELEASE,
    child_folder,
    comparable_ingest,
    luigi_command,
    luigi_config,
    pipeline_settings,
    raw_files,
    sample_release,
    without_timing,
    write_config_file,
)

WORKS = f"ol_dump_works_{RELEASE}.txt.gz"


def start_luigi(settings: dict, config_path: Path, *task: str) -> subprocess.Popen:
    """The luigi command line in a process group of its own (so spark-submit dies with it)."""
    command, env = luigi_command(write_config_file(config_path, settings), *task, "--release", RELEASE)
    return subprocess.Popen(
        command, cwd=child_folder(config_path.parent), env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120) -> None:
    """SIGKILL the process group as soon as `ready()` holds; fail if the run ended first."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "the run never reached the point to interrupt"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def build(settings: dict, task: Callable[[], luigi.Task]) -> None:
    """Run the task made by `task()` under `settings` (made there: its lake is the one configured)."""
    with luigi_config(settings):
        result = luigi.build([task()], local_scheduler=True, detailed_summary=True)
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text


def table_rows(folder: Path, leave_out: str | None = None) -> list[str]:
    """A table's rows, order-free, as comparable text (pyarrow reads Spark's files independently), without
    the column `leave_out`."""
    rows = pq.read_table(folder).to_pylist()
    return sorted(
        json.dumps({k: v for k, v in row.items() if k != leave_out}, sort_keys=True, default=str)
        for row in rows
    )


@pytest.mark.reliability(4)
def test_a_killed_ingest_publishes_no_manifest_and_its_rerun_equals_a_clean_run(
    tmp_path: Path, fault: Callable[..., None]
) -> None:
    noise = [  # incompressible lines: a dump of about 2 MB, read 1 MB at a time
        f'/type/work\t/works/OL{n}X\t1\t2020-01-01T00:00:00\t{{"title": "{os.urandom(100).hex()}"}}\n'
        for n in range(15_000)
    ]
    source = sample_release(tmp_path / "source", {"works": noise})
    with DumpServer(source) as server:
        clean_settings = pipeline_settings(server.url, tmp_path / "clean")
        build(clean_settings, lambda: IngestDump(release=RELEASE, dump="works"))
        settings = pipeline_settings(server.url, tmp_path / "lake")
        raw = tmp_path / "lake" / "raw" / RELEASE / "works"
        server.rate[WORKS] = 600_000  # bytes/s: a download of a few seconds
        process = start_luigi(settings, tmp_path / "luigi.cfg", "IngestDump", "--dump", "works")
        kill_when(process, lambda: (raw / "part-00000.txt.gz").exists())
        left = sorted(path.name for path in raw.iterdir())
        assert "_MANIFEST.json" not in left
        with luigi_config(settings):
            assert not IngestDump(release=RELEASE, dump="works").complete()
        del server.rate[WORKS]
        build(settings, lambda: IngestDump(release=RELEASE, dump="works"))

    clean, rerun = raw_files(tmp_path / "clean"), raw_files(tmp_path / "lake")
    assert comparable_ingest(rerun) == comparable_ingest(clean)  # and no leftover of the killed attempt
    fault(
        "Worker killed during an ingest",
        injected="SIGKILL of the luigi process group once the first raw part of a slowly served dump existed",
        result=f"left {sum(name.startswith('part-') for name in left)} finished parts, "
        f"{sum(name.startswith('.') for name in left)} hidden temporary file(s) and no _MANIFEST.json "
        f"(task incomplete); the rerun cleared them and its {len(clean) - 1} parts and manifest equal a "
        "clean run's",
    )


@pytest.mark.reliability(4)
def test_a_killed_transform_leaves_nothing_complete_and_its_rerun_equals_a_clean_run(
    tmp_path: Path, fault: Callable[..., None]
) -> None:
    source = sample_release(tmp_path / "source", {"works": BAD_LINES["works"]})  # so it has a quarantine
    with DumpServer(source) as server:
        clean_settings = pipeline_settings(server.url, tmp_path / "clean")
        build(clean_settings, lambda: TransformDump(release=RELEASE, dump="works"))
        settings = pipeline_settings(server.url, tmp_path / "lake")
        build(settings, lambda: IngestDump(release=RELEASE, dump="works"))
        curated = tmp_path / "lake" / "curated" / RELEASE
        metrics = curated / "_metrics" / "works.json"
        process = start_luigi(settings, tmp_path / "luigi.cfg", "TransformDump", "--dump", "works")
        kill_when(process, lambda: (curated / "works").exists())  # Spark has started writing
        assert not metrics.exists()
        with luigi_config(settings):
            assert not TransformDump(release=RELEASE, dump="works").complete()
        flagged = [table for table in DUMPS["works"].tables if (curated / table / "_SUCCESS").exists()]
        clean_curated = tmp_path / "clean" / "curated" / RELEASE
        for table in flagged:  # a flag only ever marks a whole table
            assert table_rows(curated / table) == table_rows(clean_curated / table), table
        build(settings, lambda: TransformDump(release=RELEASE, dump="works"))

    for table in DUMPS["works"].tables:
        assert table_rows(curated / table) == table_rows(clean_curated / table), table
    quarantine = [tmp_path / name / "quarantine" / RELEASE / "works" for name in ("lake", "clean")]
    quarantined = [table_rows(folder, leave_out="source_file") for folder in quarantine]  # names its lake
    assert len(quarantined[0]) == len(BAD_LINES["works"])
    assert quarantined[0] == quarantined[1]
    documents = [
        json.loads(path.read_text()) for path in (metrics, clean_curated / "_metrics" / "works.json")
    ]
    assert without_timing(documents[0]) == without_timing(documents[1])
    fault(
        "Worker killed during a transform",
        injected="SIGKILL of the luigi process group (spark-submit included) once Spark began writing "
        "curated/{release}/works",
        result=f"no metrics file (task incomplete); flags present at the kill: {flagged or 'none'}, each on "
        "a whole table; the rerun's tables, quarantine and metrics equal a clean run's",
    )
