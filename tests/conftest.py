"""Shared fixtures: one local SparkSession, one GCS emulator, one finished sample lake per run."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import luigi
import pytest
from google.cloud import storage
from luigi.execution_summary import LuigiStatusCode
from pyspark.sql import SparkSession

from bench.dumpserver import DumpServer
from bench.gcs_emulator import gcs_emulator
from lake.gcs import storage_client
from tasks import OpenLibraryPipeline
from tests.earlier_release import EARLIER_RELEASE, earlier_sample_release
from tests.luigid_server import running_luigid
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    child_folder,
    luigi_config,
    pipeline_settings,
    read_table,
    sample_release,
)

pytest_plugins = ["tests.reliability"]


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests' own cache folder ($XDG_CACHE_HOME): local jobs write their class archive there, not in
    the user's ~/.cache; the first local job writes it, the later ones start from it."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture
def luigid(tmp_path: Path) -> Iterator[int]:
    """A real luigid on a free 127.0.0.1 port for this test, stopped after it."""
    with running_luigid(tmp_path / "luigid") as port:
        yield port


@pytest.fixture(scope="session")
def child_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working folder for the commands tests start: the project's own .env is not read there."""
    return child_folder(tmp_path_factory.mktemp("child"))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = (
        SparkSession.builder.master("local[2]")
        .appName("tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def gcs() -> Iterator[storage.Client]:
    """One emulator for the session; STORAGE_EMULATOR_HOST points the real client at it."""
    with gcs_emulator() as url:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            yield storage_client()
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST")
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


@dataclass(frozen=True)
class SampleLake:
    """A lake holding the whole pipeline's output for the bundled sample release (read-only for tests), and
    before it for `previous_release`, made from part of the sample (tests/earlier_release.py)."""

    root: Path
    release: str
    source: Path
    previous_release: str = EARLIER_RELEASE

    def rows(self, area: str, name: str, release: str | None = None) -> list[dict[str, Any]]:
        """The rows of {area}/{release}/{name} (a table, mart or quarantined dump) of `release` (default:
        the sample release), read with pyarrow."""
        return read_table(self.root / area / (release or self.release) / name)


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> SampleLake:
    """The pipeline run once, over HTTP from 127.0.0.1, on the unmodified sample release (as `latest`), after
    a run on an earlier release made from part of it, so the report has a previous release to compare with.

    Tests that only read outputs (report, query) share it; tests that change a lake make their own.
    """
    root = tmp_path_factory.mktemp("sample-lake")
    earlier = earlier_sample_release(root / "earlier-source")
    source = sample_release(root / "source")
    runs = ((earlier, EARLIER_RELEASE, EARLIER_RELEASE), (source, RELEASE, "latest"))
    for folder, release, requested in runs:
        with (
            DumpServer(folder, release=release, dumps=DUMPS) as server,
            luigi_config(pipeline_settings(server.url, root / "lake")),
        ):
            pipeline = OpenLibraryPipeline(release=requested)
            result = luigi.build([pipeline], local_scheduler=True, detailed_summary=True, workers=1)
        assert result.status == LuigiStatusCode.SUCCESS, result.summary_text
    return SampleLake(root=root / "lake", release=RELEASE, source=source)
