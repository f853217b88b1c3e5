"""The normalising column functions, each on a few rows of a real local SparkSession."""

import datetime as dt

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark.parse import integer, key_of, language_codes, publish_year, subject_name, text_value, timestamp_of


def values(spark: SparkSession, rows: list, schema: str, expression) -> list:
    frame = spark.createDataFrame([(row,) for row in rows], f"v {schema}")
    return [row[0] for row in frame.select(expression(F.col("v"))).collect()]


def test_text_value_takes_the_plain_string_from_either_shape(spark: SparkSession) -> None:
    rows = ['{"type":"/type/text","value":"A bio."}', "Plain bio.", "{not json but text", None]
    assert values(spark, rows, "string", text_value) == ["A bio.", "Plain bio.", "{not json but text", None]


def test_text_value_of_an_object_without_a_value_is_null_not_its_json(spark: SparkSession) -> None:
    rows = ['{"type":"/type/text"}', '{"key":"/type/text"}', "{}"]
    assert values(spark, rows, "string", text_value) == [None, None, None]


def test_subject_names_from_subject_keys(spark: SparkSession) -> None:
    rows = ["/subjects/science_fiction", "/subjects/place:new_york", "/subjects/person:sherlock_holmes",
            "/subjects/time:19th_century", "/authors/OL1A", "/subjects/", None]  # fmt: skip
    assert values(spark, rows, "string", subject_name) == [
        "science fiction", "new york", "sherlock holmes", "19th century", None, None, None,
    ]  # fmt: skip


def test_key_of_reads_references_and_plain_keys(spark: SparkSession) -> None:
    rows = ['{"key":"/authors/OL1A"}', "/authors/OL2A", '{"type":"/type/author_role"}', "", None]
    assert values(spark, rows, "string", key_of) == ["/authors/OL1A", "/authors/OL2A", None, None, None]


def test_language_codes(spark: SparkSession) -> None:
    rows = [["/languages/eng", "/languages/fre"]]
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


def test_integer_reads_only_integers(spark: SparkSession) -> None:
    assert values(spark, ["121", " 7 ", "121 p.", "1.5", None], "string", integer) == [
        121,
        7,
        None,
        None,
        None,
    ]
