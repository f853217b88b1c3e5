"""The transform job on real sample records given the shapes Open Library's dumps really hold: ISBNs with
extra text or wrong check digits, text objects inside lists, subject keys, fields of an unexpected JSON type,
author entries without an author, editions without a work, the fourth reading-log shelf.

Each test runs the real job (spark/transform_dump.py's run) on a local Spark and reads back what it wrote:
the rows, the metrics document, and that every input line is a row or a quarantine row.
"""

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from spark import quality, tables
from spark.contracts import TransformArgs
from spark.transform_dump import run as run_job

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def sample_record(dump: str, key: str) -> dict[str, Any]:
    """The JSON record of `key` in samples/ol_dump_{dump}.txt."""
    for line in (SAMPLES / f"ol_dump_{dump}.txt").read_text().splitlines():
        columns = line.split("\t")
        if columns[1] == key:
            return json.loads(columns[4])
    raise KeyError(key)


def dump_line(record: dict[str, Any]) -> str:
    """A dump line (type, key, revision, last_modified, JSON) for a record."""
    stamp = record.get("last_modified", {}).get("value", "2020-01-01T00:00:00")
    return "\t".join(
        [record["type"]["key"], record["key"], str(record["revision"]), stamp, json.dumps(record)]
    )


def edited(dump: str, key: str, new_key: str, **fields: Any) -> str:
    """A sample record under another key, some fields replaced (None: the field removed), as a dump line."""
    record = {**sample_record(dump, key), "key": new_key, **fields}
    return dump_line({name: value for name, value in record.items() if value is not None})


class Job:
    """What one run of the transform job on some lines wrote: metrics, table rows and quarantine."""

    def __init__(self, spark: SparkSession, folder: Path, dump: str, lines: list[str]) -> None:
        raw = folder / "raw"
        raw.mkdir(parents=True)
        (raw / "part-00000.txt.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
        manifest = {"lines": len(lines), "parts": [{"path": "part-00000.txt.gz"}]}
        (raw / "_MANIFEST.json").write_text(json.dumps(manifest))
        args = TransformArgs(
            dump=dump, manifest=str(raw / "_MANIFEST.json"), curated=str(folder / "curated"),
            quarantine=str(folder / "quarantine"), metrics=str(folder / "metrics.json"),
        )  # fmt: skip
        self.spark, self.folder = spark, folder
        self.metrics = run_job(spark, args)
        assert json.loads((folder / "metrics.json").read_text()) == self.metrics
        assert self.metrics["written"] + self.metrics["quarantined_total"] == len(lines)

    def rows(self, table: str) -> list[dict[str, Any]]:
        frame = self.spark.read.parquet(str(self.folder / "curated" / table))
        return [row.asDict(recursive=True) for row in frame.collect()]

    def quarantine(self) -> dict[str, str]:
        frame = self.spark.read.parquet(str(self.folder / "quarantine"))
        return {row["line"]: row["reason"] for row in frame.collect()}


def test_stopped_reading_is_a_shelf_and_an_empty_edition_column_is_null(
    spark: SparkSession, tmp_path: Path
) -> None:
    sample = (SAMPLES / "ol_dump_reading-log.txt").read_text().splitlines()[:3]
    stopped = "/works/OL54120W\t/books/OL1890025M\tStopped Reading\t2024-03-01"
    empty_edition = "/works/OL1898308W\t\tStopped Reading\t2024-03-02"
    not_a_shelf = "/works/OL1898308W\t\\N\tFavourites\t2024-03-03"
    job = Job(spark, tmp_path, "reading-log", [*sample, stopped, empty_edition, not_a_shelf])
    rows = {(row["work_key"], str(row["logged_on"])): row for row in job.rows("reading_log")}
    assert len(rows) == 5
    assert rows[("/works/OL54120W", "2024-03-01")]["shelf"] == "Stopped Reading"
    assert rows[("/works/OL1898308W", "2024-03-02")]["edition_key"] is None
    assert rows[("/works/OL17972887W", "2019-03-10")]["edition_key"] is None  # \N
    assert job.quarantine() == {not_a_shelf: tables.INVALID_VALUE}
    assert job.metrics["quarantined"] == {tables.INVALID_VALUE: 1}


def test_an_empty_edition_column_of_a_rating_is_null(spark: SparkSession, tmp_path: Path) -> None:
    job = Job(spark, tmp_path, "ratings", ["/works/OL61982W\t\t4\t2024-02-17"])
    assert job.rows("ratings") == [
        {"work_key": "/works/OL61982W", "edition_key": None, "rating": 4, "rated_on": dt.date(2024, 2, 17)}
    ]


BAD_ISBN_10 = "0140449136"  # check digit wrong; the old conversion made it the valid-looking 9780140449136


def test_isbns_are_checked_read_out_of_extra_text_and_refusals_counted(
    spark: SparkSession, tmp_path: Path
) -> None:
    given_10 = ["0394800168 (pbk.)", BAD_ISBN_10, "03948", "0-89471-984-X; 0803733925"]
    given_13 = ["978-0-670-03482-6", "9780670034827", "978067003482", "978 0583324205"]
    odd = edited("editions", "/books/OL14065582M", "/books/OL1M", isbn_10=given_10, isbn_13=given_13)
    plain = dump_line(sample_record("editions", "/books/OL1890025M"))  # isbn_10 ["089471984X"]
    job = Job(spark, tmp_path, "editions", [odd, plain])
    isbns = sorted((row["edition_key"], row["isbn13"]) for row in job.rows("edition_isbns"))
    assert isbns == [
        ("/books/OL1890025M", "9780894719844"),
        ("/books/OL1M", "9780394800165"),
        ("/books/OL1M", "9780583324205"),
        ("/books/OL1M", "9780670034826"),
        ("/books/OL1M", "9780803733923"),
        ("/books/OL1M", "9780894719844"),
    ]
    assert "9780140449136" not in {isbn for _, isbn in isbns}
    editions = {row["edition_key"]: row for row in job.rows("editions")}
    assert (editions["/books/OL1M"]["isbn_10"], editions["/books/OL1M"]["isbn_13"]) == (given_10, given_13)
    assert job.metrics["isbns_refused"] == {
        "isbn_10": {"bad_length": 1, "bad_checksum": 1},
        "isbn_13": {"bad_length": 1, "bad_checksum": 1},
    }
    # ... in the shape the marts job's data_quality reads them (spark/quality.py)
    rows = quality.isbns_refused(spark, job.metrics["isbns_refused"]).collect()
    assert sorted((row["column_name"], row["detail"], row["count"]) for row in rows) == [
        ("isbn_10", "bad_checksum", 1), ("isbn_10", "bad_length", 1),
        ("isbn_13", "bad_checksum", 1), ("isbn_13", "bad_length", 1),
    ]  # fmt: skip


def test_isbns_refused_has_every_key_when_nothing_is_refused(spark: SparkSession, tmp_path: Path) -> None:
    job = Job(spark, tmp_path, "editions", [dump_line(sample_record("editions", "/books/OL14065582M"))])
    zero = {"bad_length": 0, "bad_checksum": 0}
    assert job.metrics["isbns_refused"] == {"isbn_10": zero, "isbn_13": zero}
    assert sorted(row["isbn13"] for row in job.rows("edition_isbns")) == ["9780394800165", "9780583324205"]


def test_text_objects_in_lists_and_subject_keys_are_flattened(spark: SparkSession, tmp_path: Path) -> None:
    subjects = [
        "Fiction", {"type": "/type/text", "value": "Thieves"}, {"key": "/subjects/science_fiction"},
        {"key": "/subjects/place:london"}, {"type": "/type/text"},
    ]  # fmt: skip
    work = edited(
        "works", "/works/OL1898308W", "/works/OL1W", subjects=subjects,
        subject_people=[{"key": "/subjects/person:sherlock_holmes"}, {"type": "/type/text", "value": "Sam"}],
        subject_times=[{"key": "/subjects/time:20th_century"}], description={"type": "/type/text"},
    )  # fmt: skip
    job = Job(spark, tmp_path / "works", "works", [work])
    (row,) = job.rows("works")
    assert row["subjects"] == ["Fiction", "Thieves", "science fiction", "london"]
    assert (row["subject_people"], row["subject_times"]) == (["sherlock holmes", "Sam"], ["20th century"])
    assert row["description"] is None
    assert row["title"] == "Green Eggs and Ham"
    coerced = job.metrics["coerced"]
    assert (coerced["subjects"], coerced["description"], coerced["subject_people"]) == (1, 1, 0)
    assert sum(coerced.values()) == 2

    author = edited(
        "authors", "/authors/OL2622837A", "/authors/OL1A",
        alternate_names=[{"type": "/type/text", "value": "Theodor Geisel"}, "Theo LeSieg"],
    )  # fmt: skip
    job = Job(spark, tmp_path / "authors", "authors", [author])
    assert job.rows("authors")[0]["alternate_names"] == ["Theodor Geisel", "Theo LeSieg"]
    assert sum(job.metrics["coerced"].values()) == 0


def test_a_field_of_an_unexpected_type_is_coerced_or_null_and_counted(
    spark: SparkSession, tmp_path: Path
) -> None:
    lone = edited(
        "works", "/works/OL1898308W", "/works/OL1W", subjects="Fiction", subject_places={"a": 1},
        covers=12345, title=["Green Eggs", "Ham"],
    )  # fmt: skip
    kept = edited("works", "/works/OL1898308W", "/works/OL2W", first_publish_date="[1960]")
    not_json = '/type/work\t/works/OL3W\t1\t2020-01-01T00:00:00\t{"title": "unterminated'
    not_an_object = '/type/work\t/works/OL4W\t1\t2020-01-01T00:00:00\t["a list"]'
    job = Job(spark, tmp_path / "works", "works", [lone, kept, not_json, not_an_object])
    rows = {row["work_key"]: row for row in job.rows("works")}
    assert sorted(rows) == ["/works/OL1W", "/works/OL2W"]
    one = rows["/works/OL1W"]
    assert (one["subjects"], one["subject_places"], one["covers"], one["title"]) == (
        ["Fiction"], None, [12345], None,
    )  # fmt: skip
    assert one["description"].startswith("Green Eggs and Ham is a best-selling")  # the other fields intact
    assert rows["/works/OL2W"]["first_publish_date"] == "[1960]"  # text that looks like a list is text
    assert job.quarantine() == {not_json: tables.INVALID_JSON, not_an_object: tables.INVALID_JSON}
    coerced = job.metrics["coerced"]
    assert {name: n for name, n in coerced.items() if n} == {
        "subjects": 1, "subject_places": 1, "covers": 1, "title": 1,
    }  # fmt: skip
    assert set(coerced) >= {"subject_times", "description", "authors", "created"}

    edition = edited(
        "editions", "/books/OL14065582M", "/books/OL1M", publishers="Beginner Books", isbn_10="0394800168",
        languages={"key": "/languages/eng"}, publish_date=[1960],
    )  # fmt: skip
    job = Job(spark, tmp_path / "editions", "editions", [edition])
    (row,) = job.rows("editions")
    assert (row["publishers"], row["isbn_10"], row["languages"]) == (
        ["Beginner Books"],
        ["0394800168"],
        ["eng"],
    )
    assert (row["publish_date"], row["publish_year"], row["title"]) == (None, None, "Green Eggs and Ham")
    assert sorted(r["isbn13"] for r in job.rows("edition_isbns")) == ["9780394800165", "9780583324205"]
    counted = {name: n for name, n in job.metrics["coerced"].items() if n}
    assert counted == {"publishers": 1, "isbn_10": 1, "languages": 1, "publish_date": 1}

    author = edited("authors", "/authors/OL2622837A", "/authors/OL1A", remote_ids=["Q1"], birth_date=1904)
    job = Job(spark, tmp_path / "authors", "authors", [author])
    (row,) = job.rows("authors")
    assert (row["remote_ids"], row["birth_date"], row["name"]) == (None, "1904", "Dr. Seuss")
    assert {name: n for name, n in job.metrics["coerced"].items() if n} == {"remote_ids": 1}


def test_author_entries_of_every_shape_and_editions_without_a_work(
    spark: SparkSession, tmp_path: Path
) -> None:
    entries = [
        {"type": {"key": "/type/author_role"}},  # Open Library issue 8834: no author
        "/authors/OL1A",
        {"key": "/authors/OL2A"},
        {"type": {"key": "/type/author_role"}, "author": {"key": "/authors/OL3A"}, "role": "Illustrator"},
        {"author": "/authors/OL4A"},
    ]
    work = edited("works", "/works/OL1898308W", "/works/OL1W", authors=entries)
    job = Job(spark, tmp_path / "works", "works", [work])
    found = sorted((row["ordinal"], row["author_key"], row["role"]) for row in job.rows("work_authors"))
    assert found == [
        (1, "/authors/OL1A", None), (2, "/authors/OL2A", None), (3, "/authors/OL3A", "Illustrator"),
        (4, "/authors/OL4A", None),
    ]  # fmt: skip
    assert job.metrics["skipped"] == {"work_authors_without_author": 1}

    no_work = edited("editions", "/books/OL14065582M", "/books/OL1M", works=None)
    empty_works = edited("editions", "/books/OL14065582M", "/books/OL2M", works=[{"type": "/type/work"}])
    with_work = dump_line(sample_record("editions", "/books/OL1890025M"))
    job = Job(spark, tmp_path / "editions", "editions", [no_work, empty_works, with_work])
    works = {row["edition_key"]: row["work_key"] for row in job.rows("editions")}
    assert works == {"/books/OL1M": None, "/books/OL2M": None, "/books/OL1890025M": "/works/OL54120W"}
    assert job.metrics["skipped"]["editions_without_work"] == 2
    assert job.metrics["quarantined_total"] == 0
