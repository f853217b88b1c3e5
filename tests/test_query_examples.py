"""The views over the finished sample lake, and the README's example queries (docs/queries/*.sql) run on them.

Every answer is checked against the Parquet files read independently with pyarrow.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lake import open_lake
from query import QUARANTINE_VIEW, ReleaseViews, open_release
from spark.catalog import DUMPS
from spark.tables import CURATED, MARTS, QUARANTINE
from tests.conftest import SampleLake

PROJECT = Path(__file__).resolve().parent.parent
QUERIES = PROJECT / "docs" / "queries"
EXAMPLES = ("isbn_lookup", "author_works", "top_subjects_by_year", "data_quality")


@pytest.fixture(scope="module")
def sample_views(sample_lake: SampleLake) -> Iterator[tuple[duckdb.DuckDBPyConnection, ReleaseViews]]:
    con, views = open_release(open_lake(str(sample_lake.root)))
    yield con, views
    con.close()


def run_example(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run every statement of docs/queries/{name}.sql; the columns and rows of the last one."""
    statements = con.extract_statements((QUERIES / f"{name}.sql").read_text())
    for statement in statements[:-1]:
        con.execute(statement)
    result = con.sql(statements[-1])
    return result.columns, result.fetchall()


def variable(con: duckdb.DuckDBPyConnection, name: str) -> Any:
    """The value an example set with SET VARIABLE (its input: the test computes the answer for it)."""
    return con.execute("SELECT getvariable(?)", [name]).fetchall()[0][0]


def ask(
    views: tuple[duckdb.DuckDBPyConnection, ReleaseViews], name: str, given: str
) -> tuple[list[str], list[tuple[Any, ...]], Any]:
    """run_example() on the sample views, with the value the example gave its variable `given`."""
    con, _ = views
    columns, rows = run_example(con, name)
    return columns, rows, variable(con, given)


def test_latest_release_of_the_sample_lake_has_every_view(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    _, views = sample_views
    assert views.release == sample_lake.release
    assert views.missing == ()
    assert list(views.views) == [*CURATED, *MARTS, QUARANTINE_VIEW]


def test_every_view_has_the_contract_columns_and_the_rows_of_its_parquet(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    con, _ = sample_views
    for name, schema in [*CURATED.items(), *MARTS.items()]:
        rows = sample_lake.rows("curated" if name in CURATED else "marts", name)
        columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
        assert columns == schema.fieldNames(), name
        assert con.execute(f"SELECT count(*) FROM {name}").fetchall() == [(len(rows),)], name
    keys = con.execute("SELECT work_key FROM works ORDER BY work_key").fetchall()
    assert [key for (key,) in keys] == sorted(row["work_key"] for row in sample_lake.rows("curated", "works"))


def test_the_quarantine_view_holds_each_dumps_quarantined_lines(sample_lake: SampleLake) -> None:
    release = sample_lake.previous_release  # the release with bad lines (tests/earlier_release.py)
    quarantined = Counter()
    for dump in DUMPS:
        quarantined[dump] = len(sample_lake.rows("quarantine", dump, release))
    assert sum(quarantined.values()) > 0
    con, _ = open_release(open_lake(str(sample_lake.root)), release)
    with con:
        columns = [row[0] for row in con.execute(f"DESCRIBE {QUARANTINE_VIEW}").fetchall()]
        assert columns == ["dump", *QUARANTINE.fieldNames()]
        counted = dict(con.execute(f"SELECT dump, count(*) FROM {QUARANTINE_VIEW} GROUP BY dump").fetchall())
    assert counted == {dump: count for dump, count in quarantined.items() if count}


def resolver(redirects: list[dict[str, Any]], hops: int = 8) -> Any:
    """key -> the end of its redirect chain (itself without one, or in a cycle or a longer chain)."""
    to = {row["from_key"]: row["to_key"] for row in redirects}

    def resolve(key: str | None) -> str | None:
        current = key
        for _ in range(hops):
            if current not in to:
                return current
            current = to[current]
        return current if current not in to else key

    return resolve


def ordered(rows: list[dict[str, Any]], group: str, key: str, resolve: Any) -> dict[str, list[str]]:
    """group -> its rows' distinct resolved `key`s in ordinal order."""
    listed: dict[str, list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: (row["ordinal"], resolve(row[key]) or "")):
        value = resolve(row[key])
        if value is not None and value not in listed[resolve(row[group])]:
            listed[resolve(row[group])].append(value)
    return listed


def test_isbn_lookup_finds_the_edition_its_work_and_the_authors(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    columns, rows, isbn = ask(sample_views, "isbn_lookup", "isbn")

    resolve = resolver(sample_lake.rows("curated", "redirects"))
    editions = {row["edition_key"]: row for row in sample_lake.rows("curated", "editions")}
    works = {row["work_key"]: row for row in sample_lake.rows("curated", "works")}
    names = {row["author_key"]: row["name"] for row in sample_lake.rows("curated", "authors")}
    of_work = ordered(sample_lake.rows("curated", "work_authors"), "work_key", "author_key", resolve)
    of_edition = ordered(sample_lake.rows("curated", "edition_authors"), "edition_key", "author_key", resolve)
    expected = []
    for row in sample_lake.rows("curated", "edition_isbns"):
        if row["isbn13"] == isbn:
            edition = editions[row["edition_key"]]
            work_key = resolve(edition["work_key"])
            authors = of_edition.get(edition["edition_key"]) or of_work.get(work_key, [])
            expected.append(
                (isbn, edition["edition_key"], edition["title"], edition["publish_year"], work_key,
                 works[work_key]["title"], [names.get(key) or key for key in authors])
            )  # fmt: skip

    assert columns == [
        "isbn13", "edition_key", "edition_title", "publish_year", "work_key", "work_title", "authors"
    ]  # fmt: skip
    assert expected and all(row[-1] for row in expected), f"the example's ISBN {isbn} should have authors"
    assert sorted(rows) == sorted(expected)


def test_author_works_lists_each_work_with_the_ratings_it_received(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    columns, rows, author = ask(sample_views, "author_works", "author")

    author_keys = {
        row["author_key"] for row in sample_lake.rows("marts", "dim_author") if row["name"] == author
    }
    ratings = defaultdict(list)
    for row in sample_lake.rows("marts", "fct_ratings"):
        ratings[row["work_key"]].append(row["rating"])
    expected = [
        (key, work["work_key"], work["title"], work["first_publish_year"], len(ratings[work["work_key"]]))
        for work in sample_lake.rows("marts", "dim_work")
        for key in author_keys
        if key in (work["author_keys"] or ())
    ]
    expected.sort(key=lambda row: (-row[4], row[1]))

    assert columns == ["author_key", "work_key", "title", "first_publish_year", "rating_count", "rating_avg"]
    assert len(expected) > 1 and any(row[4] for row in expected), f"{author} should have rated works"
    assert [row[:5] for row in rows] == expected
    for row in rows:
        given = ratings[row[1]]
        if given:
            assert row[5] == pytest.approx(sum(given) / len(given), abs=0.005), row
        else:
            assert row[5] is None, row


def test_top_subjects_by_year_ranks_subjects_by_works_first_published_that_year(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    columns, rows, since = ask(sample_views, "top_subjects_by_year", "since")

    subjects = {
        row["work_key"]: {subject.strip() for subject in row["subjects"] or () if subject.strip()}
        for row in sample_lake.rows("curated", "works")
    }
    works_per_subject: Counter[tuple[int, str]] = Counter()
    for work in sample_lake.rows("marts", "dim_work"):
        year = work["first_publish_year"]
        if year is not None and year >= since and work["work_key"] in subjects:
            works_per_subject.update((year, subject) for subject in subjects[work["work_key"]])
    by_year = defaultdict(list)
    for (year, subject), works in works_per_subject.items():
        by_year[year].append((year, subject, works))
    expected = []
    for year in sorted(by_year):
        expected += sorted(by_year[year], key=lambda row: (-row[2], row[1]))[:3]

    assert columns == ["year", "subject", "works"]
    assert len(by_year) > 1 and any(row[2] > 1 for row in expected), "the sample should rank something"
    assert rows == expected


def test_data_quality_lists_the_orphans_refused_isbns_and_least_filled_columns(
    sample_lake: SampleLake, sample_views: tuple[duckdb.DuckDBPyConnection, ReleaseViews]
) -> None:
    columns, rows, below = ask(sample_views, "data_quality", "below")

    fields = ["measure", "table_name", "column_name", "detail", "count", "total", "share"]
    kept = [
        row for row in sample_lake.rows("marts", "data_quality")
        if row["measure"] != "filled" or (row["share"] is not None and row["share"] < below)
    ]  # fmt: skip
    expected = sorted(
        (tuple(row[field] for field in fields) for row in kept),
        key=lambda row: tuple(v or "" for v in row[:4]),
    )
    assert columns == fields
    assert {row[0] for row in expected} >= {"filled", "orphans_before_redirects", "orphans_after_redirects"}
    assert [row[:6] for row in rows] == [row[:6] for row in expected]
    assert [row[6] for row in rows] == [None if row[6] is None else round(row[6], 3) for row in expected]


def test_the_readme_shows_exactly_the_example_queries_the_tests_run() -> None:
    blocks = [
        block.strip() for block in re.findall(r"```sql\n(.*?)```", (PROJECT / "README.md").read_text(), re.S)
    ]
    for name in EXAMPLES:
        assert (QUERIES / f"{name}.sql").read_text().strip() in blocks, f"README.md should quote {name}.sql"
    assert sorted(path.stem for path in QUERIES.glob("*.sql")) == sorted(EXAMPLES)
