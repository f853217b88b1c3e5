"""The summary the run report charts (spark/summary.py), on small frames with a local SparkSession."""

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from spark.build_marts import read_primary_tables
from spark.catalog import DUMPS
from spark.contracts import MartsArgs
from spark.summary import (
    editions_by_publish_year,
    ratings_distribution,
    record_changes,
    release_changes,
    release_summary,
    shelf_counts,
    top_subjects,
)
from spark.tables import CURATED
from tests.test_spark_marts import curated, frame

DAY = dt.date(2026, 1, 2)
QUALITY = [  # data_quality rows in the summary's order: measure, table_name, column_name, detail
    {"measure": "filled", "table_name": "authors", "column_name": "name", "detail": None, "count": 1,
     "total": 2, "share": 0.5},
    {"measure": "isbns_refused", "table_name": "editions", "column_name": "isbn_10", "detail": "bad_checksum",
     "count": 4, "total": None, "share": None},
    {"measure": "isbns_refused", "table_name": "editions", "column_name": "isbn_10", "detail": "bad_length",
     "count": 3, "total": None, "share": None},
    {"measure": "orphans_after_redirects", "table_name": "ratings", "column_name": "work_key",
     "detail": "works", "count": 0, "total": 1, "share": 0.0},
]  # fmt: skip


def test_every_primary_table_has_a_record_key_made_of_its_columns() -> None:
    for spec in DUMPS.values():
        assert set(spec.key) <= set(CURATED[spec.primary].fieldNames()), spec.name


def test_editions_are_counted_per_year_with_the_undated_last(spark: SparkSession) -> None:
    editions = frame(
        spark,
        "editions",
        [
            {"edition_key": f"/books/{n}", "publish_year": year}
            for n, year in enumerate([1999, None, 1850, 1999])
        ],
    )
    rows = [row.asDict() for row in editions_by_publish_year(editions).collect()]
    assert rows == [
        {"publish_year": 1850, "editions": 1},
        {"publish_year": 1999, "editions": 2},
        {"publish_year": None, "editions": 1},
    ]


def test_top_subjects_keep_the_most_works_and_break_ties_alphabetically(spark: SparkSession) -> None:
    subjects = frame(
        spark,
        "dim_subject",
        [{"subject": s, "work_count": n} for s, n in [("b", 2), ("a", 2), ("<script>", 5), ("c", 1)]],
    )
    rows = [(row["subject"], row["work_count"]) for row in top_subjects(subjects, limit=3).collect()]
    assert rows == [("<script>", 5), ("a", 2), ("b", 2)]


def test_ratings_and_shelves_are_counted_per_value(spark: SparkSession) -> None:
    ratings = frame(
        spark,
        "fct_ratings",
        [{"work_key": "/works/A", "rating": r, "rated_on": DAY} for r in [5, 1, 5]],
    )
    shelves = frame(
        spark,
        "fct_shelves",
        [{"work_key": "/works/A", "shelf": s} for s in ["Already Read", "Want to Read", "Want to Read"]],
    )
    assert [tuple(row) for row in ratings_distribution(ratings).collect()] == [(1, 1), (5, 2)]
    assert [tuple(row) for row in shelf_counts(shelves).collect()] == [
        ("Want to Read", 2),
        ("Already Read", 1),
    ]


def test_changes_count_new_and_removed_keys(spark: SparkSession) -> None:
    now = frame(spark, "works", [{"work_key": k, "title": "now"} for k in ["/works/A", "/works/B"]])
    before = frame(spark, "works", [{"work_key": k, "title": "old"} for k in ["/works/B", "/works/C"]])
    assert record_changes(now, before, ("work_key",)) == {"new": 1, "removed": 1}
    assert record_changes(now, now, ("work_key",)) == {"new": 0, "removed": 0}


def test_keyless_rows_are_compared_whole_as_multisets(spark: SparkSession) -> None:
    def ratings(*values: int) -> DataFrame:
        rows = [{"work_key": "/works/A", "rating": v, "rated_on": DAY} for v in values]
        return frame(spark, "ratings", rows)

    keys = DUMPS["ratings"].key
    assert record_changes(ratings(5, 5, 3), ratings(5, 4), keys) == {"new": 2, "removed": 1}


def test_release_changes_compare_each_dumps_primary_table(spark: SparkSession) -> None:
    now = curated(
        spark,
        authors=[{"author_key": "/authors/1"}, {"author_key": "/authors/2"}],
        redirects=[{"from_key": "/works/X", "to_key": "/works/Y"}],
    )
    before = curated(spark, authors=[{"author_key": "/authors/1"}, {"author_key": "/authors/9"}])
    changes = release_changes(now, before, ["authors", "redirects"])
    assert changes == {
        "authors": {"table": "authors", "keys": ["author_key"], "new": 1, "removed": 1},
        "redirects": {"table": "redirects", "keys": ["from_key"], "new": 1, "removed": 0},
    }


@pytest.fixture
def small_release(spark: SparkSession) -> tuple[dict[str, DataFrame], dict[str, DataFrame]]:
    tables = curated(
        spark,
        editions=[{"edition_key": "/books/1", "publish_year": 2001}],
        authors=[{"author_key": "/authors/1"}],
    )
    marts = {
        "dim_subject": frame(spark, "dim_subject", [{"subject": "Cats", "work_count": 3}]),
        "fct_ratings": frame(spark, "fct_ratings", [{"work_key": "/works/A", "rating": 4}]),
        "fct_shelves": frame(spark, "fct_shelves", [{"work_key": "/works/A", "shelf": "Want to Read"}]),
        "data_quality": frame(spark, "data_quality", QUALITY[::-1]),
    }
    return marts, tables


def test_summary_without_an_earlier_release_says_so(
    small_release: tuple[dict[str, DataFrame], dict[str, DataFrame]],
) -> None:
    marts, tables = small_release
    summary = release_summary(marts, tables, ["authors"], None)
    assert summary == {
        "editions_by_publish_year": [{"publish_year": 2001, "editions": 1}],
        "top_subjects": [{"subject": "Cats", "work_count": 3}],
        "ratings": [{"rating": 4, "ratings": 1}],
        "shelves": [{"shelf": "Want to Read", "entries": 1}],
        "quality": QUALITY,
        "changes": {"previous_release": None, "dumps": {}},
    }


def test_summary_names_the_release_it_compared_with(
    spark: SparkSession, small_release: tuple[dict[str, DataFrame], dict[str, DataFrame]]
) -> None:
    marts, tables = small_release
    earlier = curated(spark, authors=[{"author_key": "/authors/0"}])
    summary = release_summary(marts, tables, ["authors"], ("2026-09-30", earlier))
    assert summary["changes"] == {
        "previous_release": "2026-09-30",
        "dumps": {"authors": {"table": "authors", "keys": ["author_key"], "new": 1, "removed": 1}},
    }


def test_the_job_takes_the_previous_release_with_its_curated_url_or_neither(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = [
        "--curated",
        "c",
        "--marts",
        "m",
        "--summary",
        "s.json",
        "--metrics",
        "x.json",
        "--dumps",
        "works",
    ]
    both = MartsArgs.parse(
        [*base, "--previous-release", "2026-09-30", "--previous-curated", "gs://b/curated/2026-09-30"]
    )
    assert (both.previous_release, both.previous_curated) == ("2026-09-30", "gs://b/curated/2026-09-30")
    assert MartsArgs.parse(base).previous_curated is None
    with pytest.raises(SystemExit):
        MartsArgs.parse([*base, "--previous-release", "2026-09-30"])
    assert "--previous-release and --previous-curated go together" in capsys.readouterr().err


def test_an_earlier_release_is_read_by_its_primary_tables_alone(spark: SparkSession, tmp_path: Path) -> None:
    earlier = tmp_path / "curated"
    works = [{"work_key": "/works/OL1W", "title": "One"}, {"work_key": "/works/OL2W", "title": "Two"}]
    frame(spark, "works", works).write.parquet(str(earlier / "works"))
    assert DUMPS["works"].tables[1:], "works feeds more tables than its primary one"
    # work_authors, the works dump's other table, is not in this earlier release: it is not read
    read = read_primary_tables(spark, str(earlier), ["works"])
    assert list(read) == ["works"]
    assert sorted(row["work_key"] for row in read["works"].collect()) == ["/works/OL1W", "/works/OL2W"]
