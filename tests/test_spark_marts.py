"""The marts on small curated frames: redirects resolved, counts right, never a fan-out."""

import datetime as dt

import pytest
from pyspark.sql import DataFrame, SparkSession

from spark.build_marts import build_marts
from spark.redirects import resolve_redirects
from spark.tables import CURATED, MARTS

DAY = dt.date(2025, 1, 1)


def frame(spark: SparkSession, table: str, rows: list[dict]) -> DataFrame:
    """`rows` (dicts, missing columns null) as a frame of the curated table's or mart's schema."""
    schema = {**CURATED, **MARTS}[table]
    return spark.createDataFrame([tuple(row.get(f.name) for f in schema.fields) for row in rows], schema)


def curated(spark: SparkSession, **tables: list[dict]) -> dict[str, DataFrame]:
    return {name: frame(spark, name, tables.get(name, [])) for name in CURATED}


def collect(marts: dict[str, DataFrame], name: str, key: str) -> dict:
    assert marts[name].schema.simpleString() == MARTS[name].simpleString()
    return {row[key]: row.asDict() for row in marts[name].collect()}


def redirect(source: str, target: str) -> dict:
    return {"from_key": source, "to_key": target}


def test_redirect_chains_are_followed_and_cycles_left_alone(spark: SparkSession) -> None:
    redirects = frame(
        spark,
        "redirects",
        [redirect("/works/C", "/works/B"), redirect("/works/B", "/works/A"), redirect("/works/B", "/works/A"),
         redirect("/works/X", "/works/Y"), redirect("/works/Y", "/works/X")],
    )  # fmt: skip
    resolved = {row["from_key"]: row["to_key"] for row in resolve_redirects(redirects).collect()}
    assert resolved == {
        "/works/C": "/works/A",
        "/works/B": "/works/A",
        "/works/X": "/works/X",
        "/works/Y": "/works/Y",
    }


@pytest.fixture
def marts(spark: SparkSession) -> dict[str, DataFrame]:
    works = [
        {
            "work_key": "/works/A",
            "title": "A",
            "first_publish_date": "c1900",
            "subjects": [" Cats", "Dogs", "Cats"],
        },
        {"work_key": "/works/B", "title": "B", "subjects": ["Cats", "  "]},
    ]
    return build_marts(
        curated(
            spark,
            authors=[
                {"author_key": "/authors/1", "name": "One"},
                {"author_key": "/authors/2", "name": "Two"},
            ],
            works=works,
            work_authors=[
                {"work_key": "/works/A", "author_key": "/authors/old1", "ordinal": 1},
                {"work_key": "/works/A", "author_key": "/authors/2", "ordinal": 0},
                {"work_key": "/works/old-A", "author_key": "/authors/1", "ordinal": 2},
            ],
            editions=[
                {"edition_key": "/books/1", "work_key": "/works/old-A", "publish_year": 1905, "title": "E1"},
                {
                    "edition_key": "/books/2",
                    "work_key": "/works/B",
                    "publish_year": 1950,
                    "title": "E2",
                    "publishers": ["P"],
                    "languages": ["/languages/eng"],
                },
                {"edition_key": "/books/3", "work_key": "/works/B", "publish_year": 1931},
            ],
            edition_authors=[
                {"edition_key": "/books/2", "author_key": "/authors/9", "ordinal": 1},
                {"edition_key": "/books/2", "author_key": "/authors/old1", "ordinal": 0},
            ],
            edition_isbns=[
                {"edition_key": "/books/1", "isbn13": "9780000000002"},
                {"edition_key": "/books/1", "isbn13": "9780000000001"},
                {"edition_key": "/books/2", "isbn13": "9781111111111"},
            ],
            ratings=[
                {"work_key": "/works/A", "rating": 5, "rated_on": DAY},
                {"work_key": "/works/old-A", "edition_key": "/books/old-1", "rating": 2, "rated_on": DAY},
                {"work_key": "/works/unknown", "rating": 3, "rated_on": DAY},
            ],
            reading_log=[
                {"work_key": "/works/old-A", "shelf": "Want to Read", "logged_on": DAY},
                {"work_key": "/works/A", "shelf": "Already Read", "logged_on": DAY},
                {"work_key": "/works/B", "shelf": "Currently Reading", "logged_on": DAY},
                {"work_key": "/works/old-A", "shelf": "Stopped Reading", "logged_on": DAY},
                {"work_key": "/works/B", "shelf": "Stopped Reading", "logged_on": DAY},
                {"work_key": "/works/B", "shelf": "Stopped Reading", "logged_on": DAY},
            ],
            redirects=[
                redirect("/works/old-A", "/works/A"),
                redirect("/authors/old1", "/authors/1"),
                redirect("/books/old-1", "/books/1"),
            ],
        )
    )


def test_dim_work_counts_through_redirects(marts: dict[str, DataFrame]) -> None:
    works = collect(marts, "dim_work", "work_key")
    a, b = works["/works/A"], works["/works/B"]
    assert a["author_keys"] == ["/authors/2", "/authors/1"]
    assert (a["first_publish_year"], a["edition_count"], a["rating_count"], a["rating_avg"]) == (
        1900,
        1,
        2,
        3.5,
    )
    assert (a["want_to_read"], a["already_read"], a["currently_reading"], a["stopped_reading"]) == (
        1,
        1,
        0,
        1,
    )
    assert (b["want_to_read"], b["already_read"], b["currently_reading"], b["stopped_reading"]) == (
        0,
        0,
        1,
        2,
    )
    assert (a["subjects"], b["subjects"]) == (["Cats", "Dogs"], ["Cats"])
    assert (b["first_publish_year"], b["edition_count"], b["rating_count"], b["rating_avg"]) == (
        1931,
        2,
        0,
        None,
    )
    assert b["author_keys"] == []
    assert set(works) == {"/works/A", "/works/B"}


def test_dim_author_counts_distinct_works(marts: dict[str, DataFrame]) -> None:
    authors = collect(marts, "dim_author", "author_key")
    assert {key: row["work_count"] for key, row in authors.items()} == {"/authors/1": 1, "/authors/2": 1}


def test_dim_subject_counts_distinct_works_per_trimmed_subject(marts: dict[str, DataFrame]) -> None:
    subjects = collect(marts, "dim_subject", "subject")
    assert {key: row["work_count"] for key, row in subjects.items()} == {"Cats": 2, "Dogs": 1}


def test_facts_keep_one_row_per_source_row_with_resolved_keys(marts: dict[str, DataFrame]) -> None:
    ratings = sorted(
        (r["work_key"], r["edition_key"] or "", r["rating"]) for r in marts["fct_ratings"].collect()
    )
    assert ratings == [("/works/A", "", 5), ("/works/A", "/books/1", 2), ("/works/unknown", "", 3)]
    assert marts["fct_shelves"].count() == 6
    assert MARTS["fct_shelves"].simpleString() == marts["fct_shelves"].schema.simpleString()


def test_dim_edition_resolves_the_work_and_takes_its_authors_when_it_names_none(
    marts: dict[str, DataFrame],
) -> None:
    editions = collect(marts, "dim_edition", "edition_key")
    assert editions == {
        "/books/1": {
            "edition_key": "/books/1", "work_key": "/works/A", "author_keys": ["/authors/2", "/authors/1"],
            "title": "E1", "publish_year": 1905, "publishers": None, "languages": None,
            "isbn13s": ["9780000000001", "9780000000002"],
        },
        "/books/2": {
            "edition_key": "/books/2", "work_key": "/works/B", "author_keys": ["/authors/1", "/authors/9"],
            "title": "E2", "publish_year": 1950, "publishers": ["P"], "languages": ["/languages/eng"],
            "isbn13s": ["9781111111111"],
        },
        "/books/3": {
            "edition_key": "/books/3", "work_key": "/works/B", "author_keys": [], "title": None,
            "publish_year": 1931, "publishers": None, "languages": None, "isbn13s": [],
        },
    }  # fmt: skip


def test_isbn_lookup_has_a_row_per_isbn_with_the_resolved_work_and_author_names(
    marts: dict[str, DataFrame],
) -> None:
    assert marts["isbn_lookup"].schema.simpleString() == MARTS["isbn_lookup"].simpleString()
    rows = sorted(tuple(row) for row in marts["isbn_lookup"].collect())
    two_and_one = (["/authors/2", "/authors/1"], ["Two", "One"])
    assert rows == [
        ("9780000000001", "/books/1", "E1", 1905, "/works/A", "A", *two_and_one),
        ("9780000000002", "/books/1", "E1", 1905, "/works/A", "A", *two_and_one),
        ("9781111111111", "/books/2", "E2", 1950, "/works/B", "B", ["/authors/1", "/authors/9"],
         ["One", "/authors/9"]),
    ]  # fmt: skip
