"""Views over a lake on gs://: the sample lake's outputs copied into a real GCS emulator (fake-gcs-server) and
read by DuckDB through gcsfs, answering exactly as the same outputs read from the local folder."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from google.cloud import storage

from bench.gcs_emulator import upload_folder
from lake import open_lake
from query import QUARANTINE_VIEW, ReleaseViews, open_release
from spark.catalog import MARTS as _MARTS
from spark.tables import CURATED, MARTS
from spark.tables import CURATED as _CURATED
from tests.conftest import SampleLake
from tests.pipeline_helpers import child_environment
from tests.test_query_cli import table_rows
from tests.test_query_examples import EXAMPLES, run_example

EVERY_VIEW = len(_CURATED) + len(_MARTS) + 1  # a whole sample release: every table and mart, and quarantine

BUCKET = "query-lake"
NEWER_RELEASE = "2099-12-31"  # only one mart complete: not a complete release


@pytest.fixture(scope="module")
def gcs_lake_root(gcs: storage.Client, sample_lake: SampleLake) -> str:
    bucket = gcs.create_bucket(BUCKET)
    release = sample_lake.release
    for area in ("curated", "marts", "quarantine"):
        upload_folder(bucket, sample_lake.root / area / release, f"lake/{area}/{release}")
    dim_author = sample_lake.root / "marts" / sample_lake.release / "dim_author"
    upload_folder(bucket, dim_author, f"lake/marts/{NEWER_RELEASE}/dim_author")
    return f"gs://{BUCKET}/lake"


@pytest.fixture(scope="module")
def both(
    gcs_lake_root: str, sample_lake: SampleLake
) -> Iterator[tuple[tuple[duckdb.DuckDBPyConnection, ReleaseViews], duckdb.DuckDBPyConnection]]:
    """(connection and views over the gs:// lake, connection over the local lake)."""
    remote, views = open_release(open_lake(gcs_lake_root))
    local, _ = open_release(open_lake(str(sample_lake.root)))
    yield (remote, views), local
    remote.close()
    local.close()


def test_the_gs_lake_opens_its_latest_complete_release_with_every_view(
    both: tuple[tuple[duckdb.DuckDBPyConnection, ReleaseViews], duckdb.DuckDBPyConnection],
    gcs_lake_root: str,
    sample_lake: SampleLake,
) -> None:
    (remote, views), local = both
    assert views.release == sample_lake.release
    assert views.missing == ()
    assert list(views.views) == [*CURATED, *MARTS, QUARANTINE_VIEW]
    assert (
        f"read_parquet('{gcs_lake_root}/curated/{sample_lake.release}/works/*.parquet')"
        in views.views["works"]
    )
    for name in views.views:
        count = f"SELECT count(*) FROM {name}"
        assert remote.execute(count).fetchall() == local.execute(count).fetchall(), name


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_examples_answer_on_gs_as_on_the_local_lake(
    both: tuple[tuple[duckdb.DuckDBPyConnection, ReleaseViews], duckdb.DuckDBPyConnection], example: str
) -> None:
    (remote, _), local = both
    columns, rows = run_example(remote, example)
    local_columns, local_rows = run_example(local, example)
    assert rows
    assert (columns, sorted(rows)) == (local_columns, sorted(local_rows))


def test_python_m_query_reads_a_gs_lake(gcs_lake_root: str, sample_lake: SampleLake, child_cwd: Path) -> None:
    assert os.environ["STORAGE_EMULATOR_HOST"]  # set by the gcs fixture; the subprocess inherits it
    result = subprocess.run(
        [sys.executable, "-m", "query", "--lake-root", gcs_lake_root, "-c", "SELECT count(*) FROM dim_work;"],
        capture_output=True, text=True, cwd=child_cwd, env=child_environment(), timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert f"release {sample_lake.release} of {gcs_lake_root}: {EVERY_VIEW} views" in result.stderr
    assert table_rows(result.stdout) == [[str(len(sample_lake.rows("marts", "dim_work")))]]


def test_a_gs_lake_without_credentials_exits_2_saying_how_to_get_them(
    tmp_path: Path, child_cwd: Path
) -> None:
    env = {name: value for name, value in child_environment().items() if name != "STORAGE_EMULATOR_HOST"}
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "absent-key.json")  # ADC fails here, offline
    result = subprocess.run(
        [sys.executable, "-m", "query", "--lake-root", f"gs://{BUCKET}/lake", "-c", "SELECT 1;"],
        capture_output=True, text=True, cwd=child_cwd, env=env, timeout=120,
    )  # fmt: skip

    assert result.returncode == 2
    assert f"query: no Google Cloud credentials to read gs://{BUCKET}/lake" in result.stderr
    assert "gcloud auth application-default login" in result.stderr
