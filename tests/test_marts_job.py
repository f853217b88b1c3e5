"""The marts job (spark/build_marts.py run()) on a small release written to a lake folder: the data_quality
mart and the summary's "quality" by value, the refused ISBNs read from the editions transform's metrics,
and the ISBN look-up example (docs/queries/isbn_lookup.sql) through redirects in DuckDB."""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lake import open_lake
from query import open_release
from spark import catalog
from spark.build_marts import read_isbns_refused, run, transform_metrics_url
from spark.contracts import MartsArgs
from tests.test_spark_marts import frame, redirect

RELEASE = "2026-10-31"
DUMPS = ("authors", "works", "editions", "ratings", "reading-log", "redirects")
QUERIES = Path(__file__).resolve().parent.parent / "docs" / "queries"
DAY = dt.date(2026, 10, 1)
REFUSED = {"isbn_10": {"bad_length": 2, "bad_checksum": 1}, "isbn_13": {"bad_checksum": 4}}

CURATED: dict[str, list[dict[str, Any]]] = {
    "authors": [
        {"author_key": "/authors/1", "name": "Ann", "bio": " "},
        {"author_key": "/authors/2", "name": "Bob", "bio": "wrote"},
        {"author_key": "/authors/3"},
    ],
    "works": [
        {"work_key": "/works/A", "title": "Merged Work", "subjects": ["Cats"]},
        {"work_key": "/works/B", "title": "Other Work"},
    ],
    "work_authors": [  # /works/old-A was merged into /works/A; /authors/old into /authors/2
        {"work_key": "/works/old-A", "author_key": "/authors/old", "ordinal": 0},
        {"work_key": "/works/old-A", "author_key": "/authors/1", "ordinal": 1},
        {"work_key": "/works/old-A", "author_key": "/authors/nobody", "ordinal": 2},
        {"work_key": "/works/B", "author_key": "/authors/3", "ordinal": 0},
    ],
    "editions": [
        {"edition_key": "/books/1", "work_key": "/works/old-A", "title": "First", "publish_year": 1999},
        {"edition_key": "/books/2", "work_key": "/works/B", "title": "Second"},
        {"edition_key": "/books/3", "work_key": "/works/lost", "title": "Third"},
    ],
    "edition_authors": [{"edition_key": "/books/2", "author_key": "/authors/2", "ordinal": 0}],
    "edition_isbns": [
        {"edition_key": "/books/1", "isbn13": "9780000000017"},
        {"edition_key": "/books/2", "isbn13": "9780000000024"},
    ],
    "ratings": [
        {"work_key": "/works/old-A", "rating": 4, "rated_on": DAY},
        {"work_key": "/works/lost", "rating": 2, "rated_on": DAY},
    ],
    "reading_log": [
        {"work_key": "/works/A", "shelf": "Stopped Reading", "logged_on": DAY},
        {"work_key": "/works/old-A", "shelf": "Stopped Reading", "logged_on": DAY},
    ],
    "redirects": [redirect("/works/old-A", "/works/A"), redirect("/authors/old", "/authors/2")],
}


def write_curated(spark: SparkSession, root: Path, metrics: dict[str, Any]) -> str:
    """The release's curated tables (Parquet + _SUCCESS) and the editions transform's metrics document."""
    lake = open_lake(str(root))
    for table in catalog.tables_of(DUMPS):
        url = lake.url(*catalog.CURATED.path(release=RELEASE, table=table))
        frame(spark, table, CURATED.get(table, [])).coalesce(1).write.parquet(url)
    path = root.joinpath(*catalog.TRANSFORM_METRICS.path(release=RELEASE, dump="editions"))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(metrics))
    return lake.url(*catalog.CURATED.parent(release=RELEASE))


@pytest.fixture(scope="module")
def built(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The lake after the marts job, and the metrics it returned."""
    root = tmp_path_factory.mktemp("lake")
    lake = open_lake(str(root))
    args = MartsArgs(
        curated=write_curated(spark, root, {"lines": 3, "isbns_refused": REFUSED}),
        marts=lake.url(*catalog.MART.parent(release=RELEASE)),
        summary=lake.url(*catalog.MARTS_SUMMARY.path(release=RELEASE)),
        metrics=lake.url(*catalog.MARTS_METRICS.path(release=RELEASE)),
        dumps=DUMPS,
    )
    return root, run(spark, args)


def quality_rows(spark: SparkSession, root: Path) -> list[dict[str, Any]]:
    mart = root.joinpath(*catalog.MART.path(release=RELEASE, mart="data_quality"))
    return [row.asDict() for row in spark.read.parquet(str(mart)).collect()]


def test_the_data_quality_mart_counts_the_releases_known_gaps(
    spark: SparkSession, built: tuple[Path, dict[str, Any]]
) -> None:
    root, metrics = built
    rows = {
        (r["measure"], r["table_name"], r["column_name"], r["detail"]): r for r in quality_rows(spark, root)
    }

    def counts(measure: str, table: str, column: str, detail: str | None) -> tuple[Any, ...]:
        row = rows[(measure, table, column, detail)]
        return row["count"], row["total"], row["share"]

    assert counts("filled", "authors", "name", None) == (2, 3, 2 / 3)
    assert counts("filled", "authors", "bio", None) == (1, 3, 1 / 3)  # " " is blank
    assert counts("filled", "works", "subjects", None) == (1, 2, 0.5)
    assert counts("filled", "edition_isbns", "isbn13", None) == (2, 2, 1.0)
    before, after = "orphans_before_redirects", "orphans_after_redirects"
    # /works/old-A is fixed by its redirect, /works/lost is not
    assert counts(before, "editions", "work_key", "works") == (2, 3, 2 / 3)
    assert counts(after, "editions", "work_key", "works") == (1, 3, 1 / 3)
    assert counts(before, "work_authors", "author_key", "authors") == (2, 4, 0.5)
    assert counts(after, "work_authors", "author_key", "authors") == (1, 4, 0.25)
    assert counts(before, "ratings", "work_key", "works") == (2, 2, 1.0)
    assert counts(after, "ratings", "work_key", "works") == (1, 2, 0.5)
    assert counts(after, "reading_log", "work_key", "works") == (0, 2, 0.0)
    refused = {key[2:]: row["count"] for key, row in rows.items() if key[0] == "isbns_refused"}
    assert refused == {
        (column, reason): count for column, reasons in REFUSED.items() for reason, count in reasons.items()
    }
    columns = sum(len(frame(spark, table, []).columns) for table in catalog.tables_of(DUMPS))
    assert metrics["marts"]["data_quality"] == len(rows) == columns + 2 * 5 + 3


def test_the_summary_holds_the_quality_rows_in_order(
    spark: SparkSession, built: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = built
    summary = json.loads(root.joinpath(*catalog.MARTS_SUMMARY.path(release=RELEASE)).read_text())

    def order(row: dict[str, Any]) -> tuple[str, ...]:
        return tuple(row[key] or "" for key in ("measure", "table_name", "column_name", "detail"))

    assert summary["quality"] == sorted(quality_rows(spark, root), key=order)
    assert [order(row) for row in summary["quality"]] == sorted(order(row) for row in summary["quality"])
    assert {row["measure"] for row in summary["quality"]} == {
        "filled", "orphans_before_redirects", "orphans_after_redirects", "isbns_refused"
    }  # fmt: skip


def test_the_stopped_reading_shelf_is_counted_on_the_resolved_work(
    spark: SparkSession, built: tuple[Path, dict[str, Any]]
) -> None:
    root, metrics = built
    mart = root.joinpath(*catalog.MART.path(release=RELEASE, mart="dim_work"))
    works = {row["work_key"]: row for row in spark.read.parquet(str(mart)).collect()}
    assert (works["/works/A"]["stopped_reading"], works["/works/B"]["stopped_reading"]) == (2, 0)
    assert metrics["fan_out_check"]["isbn_lookup"] == metrics["fan_out_check"]["dim_edition_isbns"] == 2


def isbn_lookup(root: Path, isbn: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """docs/queries/isbn_lookup.sql on the release's views, for `isbn`."""
    con, _ = open_release(open_lake(str(root)), RELEASE)
    with con:
        statements = con.extract_statements((QUERIES / "isbn_lookup.sql").read_text())
        for statement in statements[:-1]:
            con.execute(statement)
        con.execute(f"SET VARIABLE isbn = '{isbn}'")  # the test's own digits
        result = con.sql(statements[-1])
        return result.columns, result.fetchall()


def test_an_isbn_whose_edition_points_at_a_merged_work_finds_that_work_and_its_authors(
    built: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = built
    columns, rows = isbn_lookup(root, "9780000000017")
    assert columns == [
        "isbn13", "edition_key", "edition_title", "publish_year", "work_key", "work_title", "authors"
    ]  # fmt: skip
    # the work's authors in order: /authors/old resolved to Bob, Ann, and an absent author by its key
    assert rows == [
        (
            "9780000000017",
            "/books/1",
            "First",
            1999,
            "/works/A",
            "Merged Work",
            ["Bob", "Ann", "/authors/nobody"],
        )
    ]
    # an edition naming its own authors keeps them
    assert isbn_lookup(root, "9780000000024")[1] == [
        ("9780000000024", "/books/2", "Second", None, "/works/B", "Other Work", ["Bob"])
    ]


def test_the_refused_isbns_come_from_the_editions_metrics_document(
    spark: SparkSession, tmp_path: Path
) -> None:
    lake = open_lake(str(tmp_path))
    curated = lake.url(*catalog.CURATED.parent(release=RELEASE))
    document = tmp_path.joinpath(*catalog.TRANSFORM_METRICS.path(release=RELEASE, dump="editions"))
    assert transform_metrics_url(curated, "editions") == lake.url(
        *catalog.TRANSFORM_METRICS.path(release=RELEASE, dump="editions")
    )
    with pytest.raises(FileNotFoundError, match="editions transform's metrics document is missing"):
        read_isbns_refused(spark, curated, DUMPS)
    assert read_isbns_refused(spark, curated, ("authors", "works")) == {}  # no editions: nothing to read
    document.parent.mkdir(parents=True)
    document.write_text(json.dumps({"lines": 5}))
    assert read_isbns_refused(spark, curated, DUMPS) == {}
    document.write_text(json.dumps({"lines": 5, "isbns_refused": REFUSED}))
    assert read_isbns_refused(spark, curated, DUMPS) == REFUSED
