"""The local runner: what spark-submit receives, and the job's own error when it fails."""

import zipfile

import pytest

from lake import open_lake
from runners import LocalSettings, LocalSparkRunner, SparkJobError, make_runner
from runners.base import SPARK_PACKAGE
from runners.local import GCS_CONNECTOR_CONF, short_job


def runner() -> LocalSparkRunner:
    return LocalSparkRunner(master="local[1]", driver_memory="512m", conf={"spark.ui.enabled": "false"})


def test_spark_submit_gets_the_job_file_and_the_zipped_package() -> None:
    command = runner().command("transform_dump", ["--dump", "works"])
    assert command[-3:] == [str(SPARK_PACKAGE / "transform_dump.py"), "--dump", "works"]
    assert command[command.index("--master") + 1] == "local[1]"
    assert "spark.sql.session.timeZone=UTC" in command
    assert "spark.ui.enabled=false" in command
    with zipfile.ZipFile(command[command.index("--py-files") + 1]) as package:
        assert {"spark/__init__.py", "spark/tables.py", "spark/transform_dump.py"} <= set(package.namelist())


def java_options(conf: dict[str, str], short: bool = False) -> str:
    command = LocalSparkRunner("local[1]", "512m", conf, short=short).submit_options()
    (setting,) = [value for value in command if value.startswith("spark.driver.extraJavaOptions=")]
    return setting.split("=", 1)[1]


def test_the_driver_compiles_huge_generated_methods_beside_the_java_options_given() -> None:
    assert java_options({}) == "-XX:-DontCompileHugeMethods"
    given = {"spark.driver.extraJavaOptions": "-Dlog4j.configuration=x -XX:+UseParallelGC"}
    assert java_options(given) == "-XX:-DontCompileHugeMethods -Dlog4j.configuration=x -XX:+UseParallelGC"


def test_a_short_jobs_driver_compiles_with_c1_only_and_the_parallel_collector() -> None:
    assert java_options({}, short=True) == (
        "-XX:-DontCompileHugeMethods -XX:TieredStopAtLevel=1 -XX:+UseParallelGC"
    )
    given = {"spark.driver.extraJavaOptions": "-Dx=1"}
    assert java_options(given, short=True).endswith("-XX:+UseParallelGC -Dx=1")  # what is given comes last


def test_a_job_is_short_up_to_the_threshold_of_uncompressed_megabytes() -> None:
    assert short_job(64_000_000, 64.0)
    assert not short_job(64_000_001, 64.0)
    assert short_job(0, 0.5)  # an empty dump
    assert not short_job(None, 64.0)  # size unknown
    assert not short_job(0, 0.0)  # 0 turns it off
    assert not short_job(1, 0.0)


def test_the_runner_of_a_small_input_is_short_and_of_a_large_one_is_not() -> None:
    def made(input_bytes: int | None) -> LocalSparkRunner:
        settings = LocalSettings("local[1]", "1g", {}, class_archive=False, short_job_mb=64.0)
        made = make_runner("local", lake=open_lake("/tmp/unused"), local=settings, input_bytes=input_bytes)
        assert isinstance(made, LocalSparkRunner)
        return made

    assert made(1_000_000).short
    assert not made(400_000_000).short
    assert not made(None).short


def test_an_unknown_job_is_refused() -> None:
    with pytest.raises(ValueError, match="no Spark job 'nope'"):
        runner().command("nope", [])


def test_an_unknown_runner_is_refused() -> None:
    with pytest.raises(ValueError, match="runner 'yarn'"):
        settings = LocalSettings("local", "1g", {}, False, 64.0)
        make_runner("yarn", lake=open_lake("/tmp/unused"), local=settings)


def test_missing_java_is_said_clearly(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SparkJobError, match="Java is required"):
        runner().run("transform_dump", [])


def test_a_failing_job_raises_with_its_own_error(tmp_path) -> None:
    missing = tmp_path / "raw" / "_MANIFEST.json"
    args = ["--dump", "works", "--manifest", str(missing), "--curated", str(tmp_path / "curated"),
            "--quarantine", str(tmp_path / "q"), "--metrics", str(tmp_path / "m.json")]  # fmt: skip
    with pytest.raises(SparkJobError, match="transform_dump failed") as failure:
        runner().run("transform_dump", args)
    assert "_MANIFEST.json" in str(failure.value)
    assert not (tmp_path / "m.json").exists()


def test_a_gcs_lake_without_the_connector_fails_before_spark_starts() -> None:
    gcs_runner = LocalSparkRunner(master="local[1]", driver_memory="512m", conf={}, connector="gcs-connector")
    with pytest.raises(SparkJobError, match=r"spark\.jars\.packages"):
        gcs_runner.run("transform_dump", [])
    LocalSparkRunner("local[1]", "512m", conf=GCS_CONNECTOR_CONF, connector="gcs-connector").check_connector()
