"""The data-quality view (spark/quality.py) on small curated frames: filled shares, orphans before and after
redirects, refused ISBNs, and only what the release's dumps hold."""

import pytest
from pyspark.sql import DataFrame, SparkSession

from spark.quality import data_quality, isbns_refused
from spark.redirects import resolve_redirects
from spark.tables import MARTS
from tests.test_spark_marts import curated, redirect

Key = tuple[str, str, str, str | None]


def quality(table: DataFrame) -> dict[Key, tuple[int, int | None, float | None]]:
    """(measure, table_name, column_name, detail) -> (count, total, share), checking the mart's schema and
    that no row is repeated."""
    assert table.schema.simpleString() == MARTS["data_quality"].simpleString()
    rows = [tuple(row) for row in table.collect()]
    found = {row[:4]: row[4:] for row in rows}
    assert len(found) == len(rows)
    return found


@pytest.fixture
def tables(spark: SparkSession) -> dict[str, DataFrame]:
    return curated(
        spark,
        authors=[
            {"author_key": "/authors/1", "name": "One", "bio": "  ", "alternate_names": [], "revision": 3},
            {"author_key": "/authors/2", "name": "Two", "remote_ids": {"viaf": "1"}},
            {"author_key": "/authors/3", "alternate_names": ["Three"], "remote_ids": {}},
        ],
        works=[{"work_key": "/works/A", "title": "A"}, {"work_key": "/works/B", "title": ""}],
        work_authors=[
            {"work_key": "/works/A", "author_key": "/authors/1"},
            {"work_key": "/works/A", "author_key": "/authors/old"},  # redirected to /authors/2
            {"work_key": "/works/B", "author_key": "/authors/gone"},  # absent, no redirect
            {"work_key": "/works/B"},  # no reference: not counted
        ],
        editions=[
            {"edition_key": "/books/1", "work_key": "/works/old-A"},
            {"edition_key": "/books/2", "work_key": "/works/B"},
            {"edition_key": "/books/3", "work_key": "/works/missing"},
            {"edition_key": "/books/4"},
        ],
        ratings=[{"work_key": key, "rating": 3} for key in ("/works/A", "/works/old-A", "/works/zzz")],
        reading_log=[
            {"work_key": "/works/old-B", "shelf": "Stopped Reading"},  # a chain: old-B -> old-A -> A
            {"work_key": "/works/B", "shelf": "Want to Read"},
        ],
        redirects=[
            redirect("/works/old-A", "/works/A"),
            redirect("/authors/old", "/authors/2"),
            redirect("/works/old-B", "/works/old-A"),
        ],
    )


def test_filled_counts_values_blank_strings_and_empty_lists_and_maps_as_missing(
    tables: dict[str, DataFrame],
) -> None:
    found = quality(data_quality(tables, ["authors", "works"], resolve_redirects(tables["redirects"]), {}))
    authors = {column: found[("filled", "authors", column, None)] for column in ("author_key", "name", "bio")}
    assert authors == {"author_key": (3, 3, 1.0), "name": (2, 3, 2 / 3), "bio": (0, 3, 0.0)}
    assert found[("filled", "authors", "alternate_names", None)] == (1, 3, 1 / 3)
    assert found[("filled", "authors", "remote_ids", None)] == (1, 3, 1 / 3)
    assert found[("filled", "authors", "revision", None)] == (1, 3, 1 / 3)
    assert found[("filled", "works", "title", None)] == (1, 2, 0.5)
    assert found[("filled", "works", "subjects", None)] == (0, 2, 0.0)
    # the tables of the authors and works dumps: every column of each, and the one reference among them
    tables_of_dumps = ("authors", "works", "work_authors")
    filled = sorted(key[1:3] for key in found if key[0] == "filled")
    assert filled == sorted((table, column) for table in tables_of_dumps for column in tables[table].columns)
    assert {key[:3] for key in found if key[0] != "filled"} == {
        ("orphans_before_redirects", "work_authors", "author_key"),
        ("orphans_after_redirects", "work_authors", "author_key"),
    }


def test_orphans_are_counted_before_and_after_redirects(tables: dict[str, DataFrame]) -> None:
    dumps = ["authors", "works", "editions", "ratings", "reading-log", "redirects"]
    found = quality(data_quality(tables, dumps, resolve_redirects(tables["redirects"]), {}))
    orphans = {key: value for key, value in found.items() if key[0].startswith("orphans")}
    before, after = "orphans_before_redirects", "orphans_after_redirects"
    assert orphans == {
        (before, "editions", "work_key", "works"): (2, 3, 2 / 3),
        (after, "editions", "work_key", "works"): (1, 3, 1 / 3),
        (before, "work_authors", "author_key", "authors"): (2, 3, 2 / 3),
        (after, "work_authors", "author_key", "authors"): (1, 3, 1 / 3),
        (before, "edition_authors", "author_key", "authors"): (0, 0, None),
        (after, "edition_authors", "author_key", "authors"): (0, 0, None),
        (before, "ratings", "work_key", "works"): (2, 3, 2 / 3),
        (after, "ratings", "work_key", "works"): (1, 3, 1 / 3),
        (before, "reading_log", "work_key", "works"): (1, 2, 0.5),
        (after, "reading_log", "work_key", "works"): (0, 2, 0.0),
    }
    assert found[("filled", "edition_authors", "author_key", None)] == (0, 0, None)


def test_a_reference_is_checked_only_when_both_its_tables_are_in_the_release(
    tables: dict[str, DataFrame],
) -> None:
    found = quality(
        data_quality(tables, ["editions", "ratings", "authors"], resolve_redirects(tables["redirects"]), {})
    )
    references = {key[1:] for key in found if key[0].startswith("orphans")}
    assert references == {("edition_authors", "author_key", "authors")}


def test_refused_isbns_become_rows_per_column_and_reason(
    spark: SparkSession, tables: dict[str, DataFrame]
) -> None:
    refused = {"isbn_13": {"bad_checksum": 3}, "isbn_10": {"bad_length": 2, "bad_checksum": 1}}
    found = quality(data_quality(tables, ["editions"], resolve_redirects(tables["redirects"]), refused))
    assert {key: value for key, value in found.items() if key[0] == "isbns_refused"} == {
        ("isbns_refused", "editions", "isbn_10", "bad_length"): (2, None, None),
        ("isbns_refused", "editions", "isbn_10", "bad_checksum"): (1, None, None),
        ("isbns_refused", "editions", "isbn_13", "bad_checksum"): (3, None, None),
    }


@pytest.mark.parametrize(
    "refused",
    [{"isbn_9": {"bad_length": 1}}, {"isbn_10": 4}, {"isbn_10": {"bad_length": -1}}, {"isbn_13": {"x": "2"}}],
)
def test_a_malformed_refused_isbns_document_is_a_clear_error(spark: SparkSession, refused: dict) -> None:
    with pytest.raises(ValueError, match="isbns_refused"):
        isbns_refused(spark, refused)


def test_an_empty_release_has_filled_rows_with_no_share(spark: SparkSession) -> None:
    empty = curated(spark)
    found = quality(data_quality(empty, ["redirects"], resolve_redirects(empty["redirects"]), {}))
    assert found == {
        ("filled", "redirects", "from_key", None): (0, 0, None),
        ("filled", "redirects", "to_key", None): (0, 0, None),
    }
