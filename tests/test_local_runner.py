"""The local runner: what spark-submit receives, and the job's own error when it fails."""

import zipfile

import pytest

from lake import open_lake
from runners import LocalSettings, LocalSparkRunner, SparkJobError, make_runner
from runners.base import SPARK_PACKAGE
from runners.local import GCS_CONNECTOR_CONF


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


def test_the_driver_compiles_huge_generated_methods_beside_the_java_options_given() -> None:
    def java_options(conf: dict[str, str]) -> str:
        command = LocalSparkRunner("local[1]", "512m", conf).submit_options()
        (setting,) = [value for value in command if value.startswith("spark.driver.extraJavaOptions=")]
        return setting.split("=", 1)[1]

    assert java_options({}) == "-XX:-DontCompileHugeMethods"
    given = {"spark.driver.extraJavaOptions": "-Dlog4j.configuration=x -XX:+UseParallelGC"}
    assert java_options(given) == "-XX:-DontCompileHugeMethods -Dlog4j.configuration=x -XX:+UseParallelGC"


def test_an_unknown_job_is_refused() -> None:
    with pytest.raises(ValueError, match="no Spark job 'nope'"):
        runner().command("nope", [])


def test_an_unknown_runner_is_refused() -> None:
    with pytest.raises(ValueError, match="runner 'yarn'"):
        make_runner("yarn", lake=open_lake("/tmp/unused"), local=LocalSettings("local", "1g", {}, False))


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
