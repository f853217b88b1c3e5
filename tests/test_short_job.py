"""A transform of a small dump is a short job: its driver JVM is tuned for a short run (runners/local.py)."""

import gzip
import logging
from pathlib import Path

import luigi
import pytest

from bench.dumpserver import DumpServer
from runners import LocalSparkRunner
from runners.local import SHORT_JOB_JAVA_OPTIONS
from tasks import TransformDump
from tasks.context import current_runner
from tests.pipeline_helpers import RELEASE, luigi_config, pipeline_settings, read_table

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    ("short_job_mb", "input_bytes", "short"),
    [("64", 64_000_000, True), ("64", 64_000_001, False), ("0.5", 1_000_000, False), ("0", 1, False)],
)
def test_spark_short_job_mb_sets_the_threshold(
    tmp_path: Path, short_job_mb: str, input_bytes: int, short: bool
) -> None:
    settings = pipeline_settings("http://127.0.0.1:9/data", tmp_path / "lake")
    settings["spark"]["short_job_mb"] = short_job_mb
    with luigi_config(settings):
        runner = current_runner(input_bytes=input_bytes)
    assert isinstance(runner, LocalSparkRunner)
    assert runner.short is short


def test_the_transform_of_a_small_dump_runs_as_a_short_job(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = (SAMPLES / "ol_dump_authors.txt").read_text().splitlines(keepends=True)
    source = tmp_path / "source"
    source.mkdir()
    (source / f"ol_dump_authors_{RELEASE}.txt.gz").write_bytes(gzip.compress("".join(lines).encode()))
    lake = tmp_path / "lake"
    with (
        DumpServer(source) as server,
        luigi_config(pipeline_settings(server.url, lake)),
        caplog.at_level(logging.INFO, logger="luigi-interface"),
    ):
        result = luigi.build([TransformDump(release=RELEASE, dump="authors")], local_scheduler=True)
    assert result, "the transform failed"
    assert f"short job (small input): the driver runs with {SHORT_JOB_JAVA_OPTIONS}" in caplog.messages
    assert len(read_table(lake / "curated" / RELEASE / "authors")) == len(lines)
