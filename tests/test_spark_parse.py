"""The normalising column functions, each on a few rows of a real local SparkSession."""

import datetime as dt

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark.parse import (
    integer,
    integers,
    isbn13s,
    key_of,
    keys_of,
    language_codes,
    publish_year,
    text_value,
    timestamp_of,
)


def values(spark: SparkSession, rows: list, schema: str, expression) -> list:
    frame = spark.createDataFrame([(row,) for row in rows], f"v {schema}")
    return [row[0] for row in frame.select(expression(F.col("v"))).collect()]


def test_text_value_takes_the_plain_string_from_either_shape(spark: SparkSession) -> None:
    rows = ['{"type":"/type/text","value":"A bio."}', "Plain bio.", "{not json but text", None]
    assert values(spark, rows, "string", text_value) == ["A bio.", "Plain bio.", "{not json but text", None]


def test_key_of_reads_references_and_plain_keys(spark: SparkSession) -> None:
    rows = ['{"key":"/authors/OL1A"}', "/authors/OL2A", '{"type":"/type/author_role"}', "", None]
    assert values(spark, rows, "string", key_of) == ["/authors/OL1A", "/authors/OL2A", None, None, None]


def test_keys_of_keeps_order_and_drops_entries_without_a_key(spark: SparkSession) -> None:
    rows = [['{"key":"/works/OL2W"}', "{}", '{"key":"/works/OL1W"}'], None]
    assert values(spark, rows, "array<string>", keys_of) == [["/works/OL2W", "/works/OL1W"], []]


def test_language_codes(spark: SparkSession) -> None:
    rows = [['{"key":"/languages/eng"}', '{"key":"/languages/fre"}']]
    assert values(spark, rows, "array<string>", language_codes) == [["eng", "fre"]]


def test_timestamps_come_from_the_datetime_value(spark: SparkSession) -> None:
    rows = ['{"type":"/type/datetime","value":"2008-04-01T03:28:50.625462"}', "2013-03-28T07:50:50", None]
    assert values(spark, rows, "string", timestamp_of) == [
        dt.datetime(2008, 4, 1, 3, 28, 50, 625462),
        dt.datetime(2013, 3, 28, 7, 50, 50),
        None,
    ]


@pytest.mark.parametrize(
    ("given", "year"),
    [("1923", 1923), ("December 23, 1998", 1998), ("c1985", 1985), ("2009-03-30", 2009), ("[19--?]", None),
     ("12345", None), (None, None)],
)  # fmt: skip
def test_publish_year(spark: SparkSession, given: str | None, year: int | None) -> None:
    assert values(spark, [given], "string", publish_year) == [year]


def test_integers_keep_only_integers(spark: SparkSession) -> None:
    assert values(spark, [["12", "-1", "x", "1.5", None]], "array<string>", integers) == [[12, -1]]
    assert values(spark, ["121", "121 p.", None], "string", integer) == [121, None, None]


def test_isbn13s_clean_convert_and_deduplicate(spark: SparkSession) -> None:
    frame = spark.createDataFrame(
        [(["0394800168", "0-89471-984-X", "12-34"], ["978-0583324205", "9780394800165", "97805833242"])],
        "i10 array<string>, i13 array<string>",
    )
    result = frame.select(isbn13s(F.col("i10"), F.col("i13"))).first()[0]
    assert result == ["9780394800165", "9780894719844", "9780583324205"]


def test_isbn13s_of_an_edition_without_isbns_is_empty(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(None, None)], "i10 array<string>, i13 array<string>")
    assert frame.select(isbn13s(F.col("i10"), F.col("i13"))).first()[0] == []
