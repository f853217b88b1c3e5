"""ISBN check digits, shapes and refusals (spark/isbn.py), on a few rows of a real local SparkSession."""

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark.isbn import BAD_CHECKSUM, BAD_LENGTH, isbn10_valid, isbn13_valid, isbn13s, isbn_shaped, refused


def one_column(spark: SparkSession, rows: list, schema: str, expression) -> list:
    frame = spark.createDataFrame([(row,) for row in rows], f"v {schema}")
    return [row[0] for row in frame.select(expression(F.col("v"))).collect()]


def test_check_digits(spark: SparkSession) -> None:
    tens = ["0394800168", "089471984X", "0803733925", "0140449136", "0394800169", "X394800168"]
    assert one_column(spark, tens, "string", isbn10_valid) == [True, True, True, False, False, False]
    thirteens = ["9780670034826", "9780583324205", "9780670034827", "978067003482X"]
    assert one_column(spark, thirteens, "string", isbn13_valid) == [True, True, False, False]


def test_isbn_shaped_runs_are_read_out_of_extra_text(spark: SparkSession) -> None:
    rows = ["0110880358 (pbk.)", "0-89471-984-x, 0803733925", "978-0-670-03482-6;9780583324205", "pbk. 12.95"]
    assert one_column(spark, rows, "string", isbn_shaped) == [
        ["0110880358"], ["089471984X", "0803733925"], ["9780670034826", "9780583324205"], [],
    ]  # fmt: skip


def test_isbn13s_keep_valid_isbns_only_converted_and_distinct(spark: SparkSession) -> None:
    frame = spark.createDataFrame(
        [
            (
                ["0394800168", "0-89471-984-X", "0140449136", "12-34"],
                ["978-0583324205", "9780394800165", "97805833242"],
            )
        ],
        "i10 array<string>, i13 array<string>",
    )
    result = frame.select(isbn13s(F.col("i10"), F.col("i13"))).first()[0]
    assert result == ["9780394800165", "9780894719844", "9780583324205"]
    empty = spark.createDataFrame([(None, None)], "i10 array<string>, i13 array<string>")
    assert empty.select(isbn13s(F.col("i10"), F.col("i13"))).first()[0] == []


def test_refusals_by_reason(spark: SparkSession) -> None:
    rows = [["0140449136", "03948", "", "0394800168 (pbk.)", "0394800169; 0140449136"], None]
    assert one_column(spark, rows, "array<string>", lambda c: refused(c, BAD_LENGTH)) == [2, 0]
    assert one_column(spark, rows, "array<string>", lambda c: refused(c, BAD_CHECKSUM)) == [3, 0]
