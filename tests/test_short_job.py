"""A transform of a small dump is a short job: its driver JVM is tuned for a short run (runners/local.py).
Its session also gets the transform's own settings (spark/transform_dump.py), except those the user set."""

import gzip
import json
import logging
from pathlib import Path

import luigi
import pytest

from bench.dumpserver import DumpServer
from runners import LocalSparkRunner
from runners.local import SHORT_JOB_JAVA_OPTIONS
from spark.transform_dump import SESSION_SETTINGS
from tasks import TransformDump
from tasks.context import current_runner
from tests.pipeline_helpers import RELEASE, SPARK_CONF, luigi_config, pipeline_settings, read_table

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
    lake, events = tmp_path / "lake", tmp_path / "events"
    events.mkdir()
    user_set = "spark.rdd.compress"  # one of the transform's settings, set to Spark's default by the user
    event_log = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(events)}
    conf = {**SPARK_CONF, user_set: "false", **event_log}
    with DumpServer(source) as server:
        settings = pipeline_settings(server.url, lake)
        settings["spark"]["conf"] = json.dumps(conf)
        with luigi_config(settings), caplog.at_level(logging.INFO, logger="luigi-interface"):
            result = luigi.build([TransformDump(release=RELEASE, dump="authors")], local_scheduler=True)
    assert result, "the transform failed"
    assert f"short job (small input): the driver runs with {SHORT_JOB_JAVA_OPTIONS}" in caplog.messages
    assert len(read_table(lake / "curated" / RELEASE / "authors")) == len(lines)
    session = session_properties(events)
    assert {key: session.get(key) for key in SESSION_SETTINGS} == {**SESSION_SETTINGS, user_set: "false"}


def session_properties(events: Path) -> dict[str, str]:
    """The Spark properties of the one session that wrote an event log in `events` (its environment event)."""
    (log,) = events.iterdir()
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["Event"] == "SparkListenerEnvironmentUpdate":
            return event["Spark Properties"]
    raise AssertionError(f"no environment event in {log}")
