"""The local driver's class-data-sharing archive: named after the Java and jars it belongs to, written by
the first job's JVM and published only when that job succeeds, then really mapped by the next JVM."""

import logging
import os
import subprocess
from pathlib import Path

import pytest

from runners import LocalSparkRunner, SparkJobError
from runners.class_archive import (
    JAVA_OPTION_VARIABLES,
    QUIET,
    ClassArchive,
    cache_folder,
    conflicting_option,
    fingerprint,
)
from runners.local import java_executable, pyspark_jars
from tests.conftest import SampleLake


def fake_install(folder: Path) -> tuple[Path, Path]:
    """A java file and a jars folder to fingerprint (never run)."""
    java, jars = folder / "bin" / "java", folder / "jars"
    java.parent.mkdir(parents=True)
    jars.mkdir()
    java.write_bytes(b"java")
    (jars / "spark-core.jar").write_bytes(b"core")
    return java, jars


def test_the_archive_is_named_after_the_java_and_the_jars(tmp_path: Path) -> None:
    java, jars = fake_install(tmp_path)
    first = fingerprint(str(java), jars)
    assert fingerprint(str(java), jars) == first
    (jars / "spark-core.jar").write_bytes(b"core, a new version")
    assert fingerprint(str(java), jars) != first
    second = fingerprint(str(java), jars)
    (jars / "extra.jar").write_bytes(b"x")
    assert fingerprint(str(java), jars) != second
    third = fingerprint(str(java), jars)
    java.write_bytes(b"another java")
    assert fingerprint(str(java), jars) != third
    archive = ClassArchive.for_spark(str(java), jars, tmp_path / "cache")
    assert archive.path == tmp_path / "cache" / f"spark-classes-{fingerprint(str(java), jars)}.jsa"


def test_the_cache_folder_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "openlibrary-pipeline"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "openlibrary-pipeline"


def test_the_unfinished_archives_of_stopped_jobs_are_removed_and_running_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    ended = subprocess.Popen(["true"])  # a process that has ended (and was reaped): its pid is free
    ended.wait()
    abandoned = folder / f"spark-classes-old.jsa.{ended.pid}.tmp"
    running = folder / f"spark-classes-old.jsa.{os.getppid()}.tmp"
    other = folder / "notes.txt.1.tmp"
    for path in (abandoned, running, other):
        path.write_bytes(b"x")
    archive = ClassArchive(folder / "spark-classes-new.jsa")
    assert archive.java_options() == [f"-XX:ArchiveClassesAtExit={archive.pending}", QUIET]
    assert not abandoned.exists()
    assert running.exists() and other.exists()


def test_without_an_archive_the_jvm_writes_one_that_is_published_only_after_success(tmp_path: Path) -> None:
    archive = ClassArchive(tmp_path / "cache" / "spark-classes-x.jsa")
    assert archive.java_options() == [f"-XX:ArchiveClassesAtExit={archive.pending}", QUIET]
    assert archive.pending.parent.is_dir() and archive.pending.name.endswith(f".{os.getpid()}.tmp")
    archive.pending.write_bytes(b"what the JVM wrote")
    archive.discard()  # the job failed
    assert not archive.pending.exists() and not archive.path.exists()
    archive.pending.write_bytes(b"what the JVM wrote")
    archive.publish()  # the job succeeded
    assert archive.path.read_bytes() == b"what the JVM wrote" and not archive.pending.exists()
    assert archive.java_options() == [f"-XX:SharedArchiveFile={archive.path}", QUIET]


def test_a_folder_that_cannot_be_made_means_no_archive(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    archive = ClassArchive(tmp_path / "a-file" / "cache" / "spark-classes-x.jsa")
    assert archive.java_options() == []
    archive.publish()  # nothing was written: nothing to publish
    assert not archive.path.exists()


def archive_options(runner: LocalSparkRunner) -> list[str]:
    """The driver's Java options that name a class archive."""
    command = runner.submit_options()
    (setting,) = [value for value in command if value.startswith("spark.driver.extraJavaOptions=")]
    return [option for option in setting.split("=", 1)[1].split() if "Archive" in option]


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("-javaagent:/opt/otel/agent.jar=token=secret", "-javaagent"),
        ("-Dx=1 -agentlib:jdwp=transport=dt_socket,server=y", "-agentlib"),
        ("-agentpath:/opt/profiler/libasyncProfiler.so=start", "-agentpath"),
        ("-XX:StartFlightRecording=filename=/tmp/driver.jfr", "-XX:StartFlightRecording"),
        ("-XX:+FlightRecorder", "-XX:+FlightRecorder"),
        ("-Xshare:off", "-Xshare:off"),
        ("-XX:SharedArchiveFile=/opt/mine.jsa", "-XX:SharedArchiveFile"),
        ("-XX:ArchiveClassesAtExit=/opt/mine.jsa", "-XX:ArchiveClassesAtExit"),
    ],
)
def test_an_agent_a_recording_or_the_users_own_sharing_keeps_the_archive_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, given: str, name: str
) -> None:
    """Given in [spark] conf (either driver option) or in a Java environment variable; the option's name is
    what the runner says, never its value."""
    for variable in JAVA_OPTION_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    archive = ClassArchive(tmp_path / "spark-classes-x.jsa")
    archive.path.write_bytes(b"an archive")

    def runner(conf: dict[str, str]) -> LocalSparkRunner:
        return LocalSparkRunner("local[1]", "512m", conf, class_archive=archive)

    said = f"the driver runs without the class archive: its Java options include {name}"
    assert conflicting_option("-Xmx1g", given) == name
    assert archive_options(runner({})) == [f"-XX:SharedArchiveFile={archive.path}"]
    user_options = [option for option in given.split() if "Archive" in option]  # the user's own, kept
    for key in ("spark.driver.extraJavaOptions", "spark.driver.defaultJavaOptions"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="luigi-interface"):
            options = archive_options(runner({key: given}))
        assert options == (user_options if key.endswith("extraJavaOptions") else [])
        assert [record.getMessage() for record in caplog.records] == [said]
    for variable in JAVA_OPTION_VARIABLES:
        monkeypatch.setenv(variable, given)
        assert archive_options(runner({})) == []
        monkeypatch.delenv(variable)


def test_other_java_options_keep_the_archive(tmp_path: Path) -> None:
    archive = ClassArchive(tmp_path / "spark-classes-x.jsa")
    archive.path.write_bytes(b"an archive")
    given = {"spark.driver.extraJavaOptions": "-Xshare:on -Dagent=none -XX:+UseParallelGC -Djavaagent=x"}
    runner = LocalSparkRunner("local[1]", "512m", given, class_archive=archive)
    assert conflicting_option(given["spark.driver.extraJavaOptions"]) is None
    assert archive_options(runner) == [f"-XX:SharedArchiveFile={archive.path}"]


def test_a_real_job_writes_the_archive_and_the_next_jvm_maps_it(
    sample_lake: SampleLake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The first job's JVM writes the archive; with -Xshare:on (the JVM refuses to start when it cannot map
    its archive) the second job runs from it, and a damaged archive stops the JVM instead. A driver that
    records with the Flight Recorder runs without it: Java 17 crashes mapping the archive then."""
    archive = ClassArchive.for_spark(java_executable(), pyspark_jars(), tmp_path / "cache")
    raw = sample_lake.root / "raw" / sample_lake.release / "redirects"

    def run(conf: dict[str, str], out: str) -> None:
        runner = LocalSparkRunner(
            "local[1]", "512m", {"spark.ui.enabled": "false", **conf}, class_archive=archive
        )
        runner.run(
            "transform_dump",
            ["--dump", "redirects", "--manifest", str(raw / "_MANIFEST.json"),
             "--curated", str(tmp_path / out / "curated"), "--quarantine", str(tmp_path / out / "quarantine"),
             "--metrics", str(tmp_path / out / "metrics.json")],
        )  # fmt: skip

    run({}, "first")
    assert archive.path.stat().st_size > 10_000_000  # Spark's classes, not an empty file
    assert list(archive.path.parent.iterdir()) == [archive.path]  # nothing pending left
    strict = {"spark.driver.extraJavaOptions": "-Xshare:on"}
    run(strict, "second")
    assert (tmp_path / "second" / "metrics.json").is_file()
    recording = tmp_path / "driver.jfr"
    with caplog.at_level(logging.INFO, logger="luigi-interface"):
        run({"spark.driver.extraJavaOptions": f"-XX:StartFlightRecording=filename={recording}"}, "recorded")
    assert "runs without the class archive: its Java options include -XX:StartFlightRecording" in caplog.text
    assert (tmp_path / "recorded" / "metrics.json").is_file()
    assert recording.stat().st_size > 0  # the recording was really made
    assert list(archive.path.parent.iterdir()) == [archive.path]
    archive.path.write_bytes(b"not an archive")
    with pytest.raises(SparkJobError, match="failed"):
        run(strict, "third")
