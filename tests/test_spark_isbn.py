"""ISBN check digits, shapes and refusals (spark/isbn.py), on a few rows of a real local SparkSession."""

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark.isbn import (
    BAD_CHECKSUM,
    BAD_LENGTH,
    isbn10_valid,
    isbn13_valid,
    isbn13s,
    isbn_checks,
    isbn_shaped,
    refused,
    with_isbn_checks,
)


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


def test_the_common_path_agrees_with_the_general_one_on_every_shape(spark: SparkSession) -> None:
    cases = [
        (["0394800168"], ["9780670034826"]),  # one of each, both valid: the same book twice is one ISBN
        (["0394800169"], ["9780670034827"]),  # wrong check digits
        (["089471984x", "9780583324205"], None),  # lower-case X; an ISBN-13 in isbn_10
        (None, []),
        (["0394800168", "0803733925", "0140449136"], None),  # more values than the common path takes
        (["0-89471-984-X"], ["978-0670034826 (pbk.)"]),  # hyphens and extra text: the general path
        (["12345"], ["abc"]),  # no ISBN at all
    ]
    frame = spark.createDataFrame(cases, "i10 array<string>, i13 array<string>")
    both = with_isbn_checks(frame, F.col("i10"), F.col("i13"), "common").select(
        "common", isbn_checks(F.col("i10"), F.col("i13")).alias("general")
    )
    rows = both.collect()
    assert [row["common"] for row in rows] == [row["general"] for row in rows]
    assert [row["common"]["isbn13s"] for row in rows] == [
        ["9780394800165", "9780670034826"],
        [],
        ["9780894719844", "9780583324205"],
        [],
        ["9780394800165", "9780803733923"],  # 0140449136 has a wrong check digit
        ["9780894719844", "9780670034826"],
        [],
    ]
    refused = [row["common"]["refused"].asDict(recursive=True) for row in rows]
    assert refused[1] == {f"isbn_{n}": {BAD_LENGTH: 0, BAD_CHECKSUM: 1} for n in (10, 13)}
    assert refused[6] == {f"isbn_{n}": {BAD_LENGTH: 1, BAD_CHECKSUM: 0} for n in (10, 13)}
