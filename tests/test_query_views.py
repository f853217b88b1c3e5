"""query.views on small lakes written here: which release is latest, which outputs get a view, clear errors.

Each lake is a real folder of Parquet files (written with pyarrow) and _SUCCESS flags; the views are real
DuckDB views read back with SQL.
"""

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake import open_lake
from query import QUARANTINE_VIEW, ReleaseNotFound, complete_releases, latest_release, open_release
from spark.catalog import DUMPS
from spark.tables import CURATED, MARTS


def write_output(folder: Path, rows: list[dict[str, Any]], complete: bool = True) -> None:
    """A Spark-like output folder: two Parquet parts, then the _SUCCESS flag when complete."""
    folder.mkdir(parents=True)
    half = len(rows) // 2
    for number, part in enumerate((rows[:half], rows[half:])):
        pq.write_table(pa.Table.from_pylist(part), folder / f"part-{number:05d}.parquet")
    if complete:
        (folder / "_SUCCESS").touch()


def write_release(
    root: Path, release: str, skip: tuple[str, ...] = (), unflagged: tuple[str, ...] = ()
) -> None:
    """Every table, mart and quarantine folder of a release, each row tagged with the release and its name.

    `skip`: folders not written at all; `unflagged`: written without _SUCCESS (as a crashed job leaves them).
    Names are "curated/authors", "marts/dim_work", "quarantine/works".
    """
    folders = [f"curated/{table}" for table in CURATED] + [f"marts/{mart}" for mart in MARTS]
    folders += [f"quarantine/{dump}" for dump in DUMPS]
    for name in folders:
        if name in skip:
            continue
        area, output = name.split("/")
        rows = [{"release": release, "output": output, "n": n} for n in range(3)]
        write_output(root / area / release / output, rows, complete=name not in unflagged)


def test_latest_is_the_newest_release_whose_marts_are_all_complete(tmp_path: Path) -> None:
    write_release(tmp_path, "2026-08-31")
    write_release(tmp_path, "2026-09-30")
    write_release(tmp_path, "2026-10-31", unflagged=("marts/dim_work",))  # still being built
    write_output(tmp_path / "marts" / "not-a-release" / "dim_work", [{"n": 1}])
    lake = open_lake(str(tmp_path))

    assert complete_releases(lake) == ["2026-08-31", "2026-09-30"]
    assert latest_release(lake) == "2026-09-30"
    con, views = open_release(lake)
    assert views.release == "2026-09-30"
    assert views.missing == ()
    assert set(views.views) == {*CURATED, *MARTS, QUARANTINE_VIEW}
    for name in [*CURATED, *MARTS]:
        assert con.execute(f"SELECT DISTINCT release, output FROM {name}").fetchall() == [
            ("2026-09-30", name)
        ]
        assert con.execute(f"SELECT count(*) FROM {name}").fetchall() == [(3,)]


def test_a_named_release_gets_views_for_its_complete_outputs_only_and_names_the_rest(tmp_path: Path) -> None:
    write_release(tmp_path, "2026-09-30")
    write_release(
        tmp_path,
        "2026-10-31",
        skip=("curated/ratings", "quarantine/ratings"),
        unflagged=("curated/editions", "marts/dim_work", "quarantine/works"),
    )
    lake = open_lake(str(tmp_path))

    con, views = open_release(lake, "2026-10-31")

    assert views.release == "2026-10-31"
    assert views.missing == (
        "curated/2026-10-31/editions",
        "curated/2026-10-31/ratings",
        "marts/2026-10-31/dim_work",
        "quarantine/2026-10-31/works",
        "quarantine/2026-10-31/ratings",
    )
    assert "missing (no _SUCCESS, no view): curated/2026-10-31/editions, " in views.summary()
    for name in ("editions", "ratings", "dim_work"):
        with pytest.raises(duckdb.CatalogException):
            con.execute(f"SELECT * FROM {name}")
    assert con.execute("SELECT DISTINCT release FROM dim_author").fetchall() == [("2026-10-31",)]
    # The quarantine view covers the complete dumps, each row saying which dump it came from.
    quarantined = con.execute(f"SELECT dump, count(*) FROM {QUARANTINE_VIEW} GROUP BY dump").fetchall()
    assert dict(quarantined) == {dump: 3 for dump in DUMPS if dump not in ("works", "ratings")}


def test_the_quarantine_view_has_a_dump_column_before_the_quarantine_columns(tmp_path: Path) -> None:
    write_release(tmp_path, "2026-10-31")
    con, _ = open_release(open_lake(str(tmp_path)))

    columns = [row[0] for row in con.execute(f"DESCRIBE {QUARANTINE_VIEW}").fetchall()]

    assert columns == ["dump", "release", "output", "n"]


def test_no_release_with_complete_marts_is_a_clear_error(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    with pytest.raises(ReleaseNotFound, match="no marts at all"):
        open_release(lake)

    write_release(tmp_path, "2026-10-31", unflagged=("marts/fct_ratings", "marts/fct_shelves"))
    with pytest.raises(ReleaseNotFound, match="2026-10-31 lacks fct_ratings, fct_shelves"):
        open_release(lake)


def test_a_release_with_nothing_complete_is_a_clear_error(tmp_path: Path) -> None:
    write_release(tmp_path, "2026-10-31")
    with pytest.raises(ReleaseNotFound, match=r"release 2026-09-30 has no complete table .*: 2026-10-31$"):
        open_release(open_lake(str(tmp_path)), "2026-09-30")


@pytest.mark.parametrize("release", ["2026-13-01", "last", "20261031", ""])
def test_a_release_that_is_not_a_date_is_refused(tmp_path: Path, release: str) -> None:
    write_release(tmp_path, "2026-10-31")
    with pytest.raises(ValueError, match="release must be a date YYYY-MM-DD or 'latest'"):
        open_release(open_lake(str(tmp_path)), release)
