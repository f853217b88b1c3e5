"""Both Spark jobs on a real multi-process cluster: a standalone master and two workers on 127.0.0.1 (separate
JVMs), reached with `[spark] master = spark://HOST:PORT` through the local runner, write the same tables as
the local-mode run of the same input (the sample lake)."""

import json
import shutil
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import luigi
import pytest
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from lake import open_lake
from runners import LocalSparkRunner
from runners.staging import stage
from tasks import BuildMarts
from tests.conftest import SampleLake
from tests.pipeline_helpers import DUMPS, luigi_config, pipeline_settings, read_table, without_timing
from tests.spark_cluster import StandaloneCluster, standalone_cluster

# Run alone, the test also builds the shared sample lake (two local pipeline runs) inside its time limit.
pytestmark = pytest.mark.timeout(1500)

AREAS = ("curated", "quarantine", "marts")  # what the two jobs write for a release


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    with standalone_cluster(tmp_path_factory.mktemp("spark-cluster")) as running:
        yield running


def cluster_settings(base_url: str, lake: Path, master: str) -> dict[str, dict[str, str]]:
    """The tests' pipeline settings with the jobs sent to `master`; executors small enough for 1g workers."""
    settings = pipeline_settings(base_url, lake)
    conf = {**json.loads(settings["spark"]["conf"]), "spark.executor.memory": "512m"}
    settings["spark"] = {**settings["spark"], "master": master, "conf": json.dumps(conf)}
    return settings


def copy_inputs(sample: SampleLake, lake: Path) -> None:
    """The sample release's ingested parts, and the earlier release as BuildMarts compares with it (its
    curated tables, and its marts, which make it a complete release), copied into `lake`: what the jobs
    read, nothing they write."""
    for parts in (
        ("raw", sample.release),
        ("curated", sample.previous_release),
        ("marts", sample.previous_release),
    ):
        shutil.copytree(sample.root.joinpath(*parts), lake.joinpath(*parts))


def parquet_folders(lake: Path, release: str) -> list[Path]:
    """Every Parquet folder (one with a _SUCCESS flag) the jobs wrote for `release`, relative to `lake`."""
    return sorted(
        flag.parent.relative_to(lake) for area in AREAS for flag in (lake / area / release).rglob("_SUCCESS")
    )


def documents(lake: Path, release: str) -> dict[str, Any]:
    """The jobs' JSON documents (metrics of each dump, the marts' metrics and summary) without timing."""
    found = [
        *(lake / "curated" / release / "_metrics").glob("*.json"),
        *(lake / "marts" / release).glob("*.json"),
    ]
    return {str(path.relative_to(lake)): without_timing(json.loads(path.read_text())) for path in found}


def row_multiset(rows: list[dict[str, Any]]) -> Counter[str]:
    """Rows as a multiset, order-insensitive (Spark's output order depends on its partitions)."""
    return Counter(json.dumps(row, sort_keys=True, default=str) for row in rows)


def test_spark_submit_sends_the_cluster_the_package_staged_for_dataproc(
    cluster: StandaloneCluster, tmp_path: Path
) -> None:
    runner = LocalSparkRunner(master=cluster.url, driver_memory="1g", conf={})
    command = runner.command("build_marts", ["--dumps", "works"])
    main, package = stage(open_lake(str(tmp_path / "staging")), "build_marts")
    assert command[command.index("--master") + 1] == cluster.url
    assert Path(command[command.index("--py-files") + 1]).read_bytes() == Path(package).read_bytes()
    assert Path(command[-3]).read_bytes() == Path(main).read_bytes()
    with zipfile.ZipFile(Path(package)) as archive:
        assert "spark/build_marts.py" in archive.namelist()


def test_both_jobs_on_the_cluster_write_the_tables_of_the_local_run(
    cluster: StandaloneCluster, sample_lake: SampleLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # the drivers spark-submit starts bind loopback too
    lake = tmp_path / "lake"
    copy_inputs(sample_lake, lake)
    release = sample_lake.release
    with (
        DumpServer(sample_lake.source, release=release, dumps=DUMPS) as server,
        luigi_config(cluster_settings(server.url, lake, cluster.url)),
    ):
        result = luigi.build([BuildMarts(release=release)], local_scheduler=True, detailed_summary=True)
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text

    apps = cluster.state()["completedapps"]
    assert sorted(app["name"] for app in apps) == sorted(
        [*(f"transform_dump {dump}" for dump in DUMPS), "build_marts"]
    ), "every job ran as an application of the cluster"
    assert {app["state"] for app in apps} == {"FINISHED"}
    for work_dir in cluster.work_dirs:  # each application had an executor JVM on each worker
        assert {path.name for path in work_dir.iterdir()} == {app["id"] for app in apps}, work_dir

    folders = parquet_folders(lake, release)
    assert folders == parquet_folders(sample_lake.root, release)
    assert {folder.parts[0] for folder in folders} == set(AREAS)
    for folder in folders:
        on_cluster, local = read_table(lake / folder), read_table(sample_lake.root / folder)
        assert row_multiset(on_cluster) == row_multiset(local), folder
    assert documents(lake, release) == documents(sample_lake.root, release)
    assert len(documents(lake, release)) == len(DUMPS) + 2
