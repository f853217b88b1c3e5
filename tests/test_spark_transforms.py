"""Each dump's transform on a handful of lines (real record shapes, plus the defects real dumps have)."""

import datetime as dt
import gzip
import json

import pytest
from pyspark.sql import DataFrame, SparkSession

from spark import tables
from spark.contracts import TransformArgs
from spark.transform_dump import read_lines, transform
from spark.transform_dump import run as run_job

STAMP = {"type": "/type/datetime", "value": "2021-12-26T21:20:53.259647"}


def record_line(kind: str, key: str, revision: int, **fields: object) -> str:
    record = {"key": key, "type": {"key": kind}, "revision": revision, "last_modified": STAMP, **fields}
    return "\t".join([kind, key, str(revision), STAMP["value"], json.dumps(record)])


def lines(spark: SparkSession, *values: str) -> DataFrame:
    return spark.createDataFrame([(value,) for value in values], "value string")


def run(spark: SparkSession, dump: str, *values: str) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Rows of each table by name, and the quarantine as {line: reason}."""
    outputs, quarantine, *_ = transform(lines(spark, *values), dump)
    for name, frame in outputs.items():
        assert frame.schema.simpleString() == tables.CURATED[name].simpleString(), name
    rows = {name: [row.asDict(recursive=True) for row in frame.collect()] for name, frame in outputs.items()}
    return rows, {row["line"]: row["reason"] for row in quarantine.collect()}


def test_authors_normalise_text_and_timestamps(spark: SparkSession) -> None:
    author = record_line(
        "/type/author", "/authors/OL1A", 3, name="Mark Twain", personal_name="Twain, Mark",
        alternate_names=["Samuel Clemens"], birth_date="1835", bio={"type": "/type/text", "value": "Writer."},
        remote_ids={"viaf": "50566653", "wikidata": "Q7245"}, created=STAMP,
    )  # fmt: skip
    imported_before_2009 = record_line("/type/author", "/authors/OL2A", 1, name="N&ouml;")
    rows, quarantine = run(spark, "authors", author, imported_before_2009)
    assert quarantine == {}
    by_key = {row["author_key"]: row for row in rows["authors"]}
    twain = by_key["/authors/OL1A"]
    assert (twain["name"], twain["bio"], twain["birth_date"], twain["revision"]) == (
        "Mark Twain",
        "Writer.",
        "1835",
        3,
    )
    assert twain["alternate_names"] == ["Samuel Clemens"]
    assert twain["remote_ids"] == {"viaf": "50566653", "wikidata": "Q7245"}
    assert twain["created"] == twain["last_modified"] == dt.datetime(2021, 12, 26, 21, 20, 53, 259647)
    assert by_key["/authors/OL2A"]["created"] is None
    assert by_key["/authors/OL2A"]["name"] == "N&ouml;"


def test_bad_lines_are_quarantined_with_their_reason(spark: SparkSession) -> None:
    good = record_line("/type/author", "/authors/OL1A", 2, name="Kept")
    older = record_line("/type/author", "/authors/OL1A", 1, name="Superseded")
    language = record_line("/type/language", "/languages/eng", 1, name="English")
    nul = "/type/author\t/authors/OL3A\t1\t2020-01-01\t" + '{"key": "/authors/OL3A", "name": "a\x00b"}'
    bad = {
        "/type/author\t/authors/OL4A\t1": tables.WRONG_COLUMN_COUNT,
        '/type/author\t/authors/OL5A\t1\t2020-01-01\t{"name": ': tables.INVALID_JSON,
        "/type/author\t/authors/OL6A\t1\t2020-01-01\t[1, 2]": tables.INVALID_JSON,
        nul: tables.INVALID_JSON,
        language: tables.UNEXPECTED_TYPE,
        '/type/author\t\t1\t2020-01-01\t{"name": "nobody"}': tables.MISSING_KEY,
        older: tables.SUPERSEDED_REVISION,
    }
    rows, quarantine = run(spark, "authors", good, *bad)
    assert quarantine == bad
    assert [(row["author_key"], row["name"]) for row in rows["authors"]] == [("/authors/OL1A", "Kept")]


def test_a_field_of_an_unexpected_json_type_does_not_lose_the_record(spark: SparkSession) -> None:
    odd = record_line(
        "/type/author", "/authors/OL7A", 1, name="Odd", birth_date=1900, remote_ids={"isni": 123}
    )
    rows, quarantine = run(spark, "authors", odd)
    assert quarantine == {}
    assert (rows["authors"][0]["birth_date"], rows["authors"][0]["remote_ids"]) == ("1900", {"isni": "123"})


def test_works_and_their_authors(spark: SparkSession) -> None:
    work = record_line(
        "/type/work", "/works/OL1W", 5, title="Sleep of the unjust", first_publish_date="1990",
        description={"type": "/type/text", "value": "A mystery."}, subjects=["Thieves", "Fiction"],
        covers=[7072212, -1], created=STAMP,
        authors=[
            {"type": {"key": "/type/author_role"}, "author": {"key": "/authors/OL23377A"}},
            {"type": "/type/author_role", "author": {"key": "/authors/OL2A"}, "role": "Illustrator"},
            {"type": {"key": "/type/author_role"}},
        ],
    )  # fmt: skip
    rows, quarantine = run(spark, "works", work)
    assert quarantine == {}
    (row,) = rows["works"]
    assert (row["title"], row["description"], row["covers"]) == (
        "Sleep of the unjust",
        "A mystery.",
        [7072212, -1],
    )
    assert row["subjects"] == ["Thieves", "Fiction"]
    assert sorted((r["author_key"], r["ordinal"], r["role"]) for r in rows["work_authors"]) == [
        ("/authors/OL23377A", 0, None),
        ("/authors/OL2A", 1, "Illustrator"),
    ]


def test_editions_isbns_and_authors(spark: SparkSession) -> None:
    edition = record_line(
        "/type/edition", "/books/OL14065582M", 1, title="Green Eggs and Ham", publish_date="1960",
        number_of_pages=72, languages=[{"key": "/languages/eng"}], isbn_10=["0394800168"],
        isbn_13=["978-0583324205"], lccn=["60013493"], publishers=["Beginner Books"],
        works=[{"key": "/works/OL1898308W"}, {"key": "/works/OL2W"}], authors=[{"key": "/authors/OL1A"}],
    )  # fmt: skip
    rows, _ = run(spark, "editions", edition)
    (row,) = rows["editions"]
    assert (row["work_key"], row["publish_year"], row["number_of_pages"]) == ("/works/OL1898308W", 1960, 72)
    assert (row["languages"], row["isbn_13"], row["lccn"]) == (["eng"], ["978-0583324205"], ["60013493"])
    assert sorted(r["isbn13"] for r in rows["edition_isbns"]) == ["9780394800165", "9780583324205"]
    assert rows["edition_authors"] == [
        {"edition_key": "/books/OL14065582M", "author_key": "/authors/OL1A", "ordinal": 0}
    ]


def test_redirects(spark: SparkSession) -> None:
    redirect = record_line("/type/redirect", "/works/OL2W", 2, location="/works/OL1W")
    nowhere = record_line("/type/redirect", "/works/OL3W", 1)
    rows, quarantine = run(spark, "redirects", redirect, nowhere)
    assert rows["redirects"] == [{"from_key": "/works/OL2W", "to_key": "/works/OL1W"}]
    assert quarantine == {nowhere: tables.MISSING_KEY}


def test_ratings_rows_and_their_defects(spark: SparkSession) -> None:
    good = ["/works/OL1W\t\\N\t5\t2024-02-29", "/works/OL2W\t/books/OL1M\t1\t2019-01-05"]
    bad = {
        "/works/OL1W\t\\N\t7\t2024-01-01": tables.INVALID_VALUE,
        "/works/OL1W\t\\N\t5\t2023-02-30": tables.INVALID_VALUE,
        "/works/OL1W\t\\N\t5\t5 Jan 2019": tables.INVALID_VALUE,
        "\\N\t\\N\t5\t2024-01-01": tables.MISSING_KEY,
        "/works/OL1W\t\\N\t5": tables.WRONG_COLUMN_COUNT,
    }
    rows, quarantine = run(spark, "ratings", *good, *bad)
    assert quarantine == bad
    assert sorted(rows["ratings"], key=lambda r: r["work_key"]) == [
        {"work_key": "/works/OL1W", "edition_key": None, "rating": 5, "rated_on": dt.date(2024, 2, 29)},
        {
            "work_key": "/works/OL2W",
            "edition_key": "/books/OL1M",
            "rating": 1,
            "rated_on": dt.date(2019, 1, 5),
        },
    ]


def test_reading_log_shelves(spark: SparkSession) -> None:
    good = "/works/OL1W\t\\N\tCurrently Reading\t2025-06-01"
    rows, quarantine = run(spark, "reading-log", good, "/works/OL1W\t\\N\tFavourites\t2025-06-01")
    assert quarantine == {"/works/OL1W\t\\N\tFavourites\t2025-06-01": tables.INVALID_VALUE}
    assert rows["reading_log"][0]["shelf"] == "Currently Reading"


def test_the_job_refuses_to_publish_metrics_when_lines_do_not_reconcile(
    spark: SparkSession, tmp_path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    content = "\n".join(["/works/OL1W\t\\N\t5\t2024-01-01", "/works/OL2W\t\\N\t9\t2024-01-01"]) + "\n"
    (raw / "part-00000.txt.gz").write_bytes(gzip.compress(content.encode()))
    args = TransformArgs(
        dump="ratings", manifest=str(raw / "_MANIFEST.json"), curated=str(tmp_path / "curated"),
        quarantine=str(tmp_path / "quarantine"), metrics=str(tmp_path / "metrics.json"),
    )  # fmt: skip
    (raw / "_MANIFEST.json").write_text(json.dumps({"lines": 2, "parts": [{"path": "part-00000.txt.gz"}]}))
    metrics = run_job(spark, args)
    assert (metrics["written"], metrics["quarantined"], metrics["tables"]) == (
        1,
        {"invalid_value": 1},
        {"ratings": 1},
    )
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    (tmp_path / "metrics.json").unlink()
    (raw / "_MANIFEST.json").write_text(json.dumps({"lines": 3, "parts": [{"path": "part-00000.txt.gz"}]}))
    with pytest.raises(RuntimeError, match=r"1 rows \+ 1 quarantined != 3 lines"):
        run_job(spark, args)
    assert not (tmp_path / "metrics.json").exists()


def read_file_lines(spark: SparkSession, path, content: bytes) -> DataFrame:
    """The lines of `content` as the job reads them from a file (bytes that Python strings can't carry)."""
    path.write_bytes(content)
    return read_lines(spark, [str(path)])


def test_invalid_utf8_is_quarantined_as_readable_text(spark: SparkSession, tmp_path) -> None:
    good = record_line("/type/author", "/authors/OL1A", 1, name="Kept \ufffd as given").encode()
    broken = (
        record_line("/type/author", "/authors/OL2A", 1, name="BROKEN")
        .encode()
        .replace(b"BROKEN", b"\xff\xfe")
    )
    frame = read_file_lines(spark, tmp_path / "part.txt", good + b"\n" + broken + b"\n")
    outputs, quarantine, *_ = transform(frame, "authors")
    assert [row["name"] for row in outputs["authors"].collect()] == ["Kept \ufffd as given"]
    (row,) = quarantine.collect()
    assert row["reason"] == tables.INVALID_UTF8
    assert row["line"] == broken.decode("utf-8", errors="replace")


def test_a_stray_carriage_return_neither_splits_a_line_nor_breaks_crlf(spark: SparkSession, tmp_path) -> None:
    crlf = record_line("/type/author", "/authors/OL1A", 1, name="Windows line end")
    inner = "/type/author\t/authors/OL2A\t1\t2020-01-01\t" + '{"key": "/authors/OL2A", "name": "a\rb"}'
    rating_crlf = "/works/OL1W\t\\N\t4\t2024-01-01"
    frame = read_file_lines(spark, tmp_path / "part.txt", f"{crlf}\r\n{inner}\n".encode())
    assert frame.count() == 2
    outputs, quarantine, *_ = transform(frame, "authors")
    assert [row["author_key"] for row in outputs["authors"].collect()] == ["/authors/OL1A"]
    assert [(row["line"], row["reason"]) for row in quarantine.collect()] == [(inner, tables.INVALID_JSON)]
    ratings = read_file_lines(spark, tmp_path / "ratings.txt", f"{rating_crlf}\r\n".encode())
    outputs, quarantine, *_ = transform(ratings, "ratings")
    assert [row["rating"] for row in outputs["ratings"].collect()] == [4]


def test_escaped_nul_characters_are_removed_and_counted(spark: SparkSession) -> None:
    with_nul = record_line("/type/author", "/authors/OL1A", 1, name="Ja\u0000ne", bio="x\u0000\u0000y")
    # A backslash followed by the letters u0000 is text, not a NUL: it stays.
    backslash_text = record_line("/type/author", "/authors/OL2A", 1, name="C:\\u0000")
    assert "\\\\u0000" in backslash_text
    outputs, quarantine, classified, _ = transform(lines(spark, with_nul, backslash_text), "authors")
    assert quarantine.count() == 0
    names = {row["author_key"]: (row["name"], row["bio"]) for row in outputs["authors"].collect()}
    assert names == {"/authors/OL1A": ("Jane", "xy"), "/authors/OL2A": ("C:\\u0000", None)}
    cleaned = {row["key"]: row["nul_removed"] for row in classified.collect()}
    assert cleaned == {"/authors/OL1A": True, "/authors/OL2A": False}


def test_control_characters_in_keys_are_invalid_values(spark: SparkSession) -> None:
    bad_key = record_line("/type/author", "/authors/OL1A\x01", 1, name="Odd key")
    bad_rating = "/works/OL1W\x00\t\\N\t5\t2024-01-01"
    _, quarantine, *_ = transform(lines(spark, bad_key), "authors")
    assert [(row["line"], row["reason"]) for row in quarantine.collect()] == [(bad_key, tables.INVALID_VALUE)]
    _, quarantine, *_ = transform(lines(spark, bad_rating), "ratings")
    assert [row["reason"] for row in quarantine.collect()] == [tables.INVALID_VALUE]
