"""The transform reads the commonest JSON shapes by patterns (spark/fields.py: plain lists joined and read
at once, bare references and text values without the JSON parser) and everything else by the general path.
The two must give the same record, coerced list and json_object for any line: checked here on every sample
record and on shapes chosen to sit on either side of each pattern's edge. Each pattern is also seen taking
the lists it is meant for, and refusing the others, so the comparison is not between two general paths.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark import fields
from spark.parse import PERMISSIVE
from spark.transform_dump import FIELDS, JSON_SCHEMAS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

STAMP = {"type": "/type/datetime", "value": "2008-04-01T03:28:50.625462"}
# Values of each field kind on both sides of the plain patterns' edges.
REFERENCE_LISTS: list[Any] = [
    [{"key": "/works/OL1W"}],
    [{"key": "/works/OL1W"}, {"key": "/works/OL2W"}],
    [],
    ["/works/OL1W"],
    [{"key": ""}],
    [{"key": " "}],
    [{"key": "/works/a b"}],
    [{"key": 'a"b'}],
    [{"key": "a\\b"}],
    [None],
    [{"key": "/works/OL1W"}, None],
    [{"key": "/works/OL1W", "type": "/type/work"}],
    [["/works/OL1W"]],
    [1],
    "/works/OL1W",
    {"key": "/works/OL1W"},
]
AUTHOR_LISTS: list[Any] = [
    [{"key": "/authors/OL1A"}],
    [{"key": "/authors/OL1A"}, {"key": "/authors/OL2A"}],
    [{"author": {"key": "/authors/OL1A"}, "type": {"key": "/type/author_role"}}],
    [{"type": {"key": "/type/author_role"}, "author": {"key": "/authors/OL1A"}}],
    [{"type": "/type/author_role", "author": {"key": "/authors/OL1A"}}],
    [{"author": {"key": "/authors/OL1A"}}],
    [{"author": {"key": "/authors/OL1A"}, "type": {"key": "/type/author_role"}}, {"key": "/authors/OL2A"}],
    [{"author": {"key": "/authors/OL1A"}, "role": "Editor"}],
    [{"author": {"key": "/authors/OL1A"}, "type": {"key": "/type/other"}}],
    [{"role": "Illustrator"}],
    [{"author": "/authors/OL1A"}],
    ["/authors/OL1A"],
    [None],
    [{"key": ""}],
    [{"key": "/authors/OL 1A"}],
    [],
    {"key": "/authors/OL1A"},
]
TEXT_LISTS: list[Any] = [
    ["Penguin", "Random House"],
    [],
    [""],
    [None],
    ["a", None],
    [{"type": "/type/text", "value": "Penguin"}],
    ["Penguin", {"key": "/subjects/place:london"}],
    ["{not json"],
    ["a", "{b"],
    ["a\nb", "c"],
    ["a\n{b"],
    [123, True],
    [["nested"]],
    "Penguin",
]
INT_LISTS: list[Any] = [
    [1, 2],
    [],
    [-1],
    [0],
    [123456789012345678],
    [1234567890123456789],
    [1.5],
    ["12"],
    [" 12"],
    [None],
    [1, None],
    ["x"],
    7,
]
TEXT_VALUES: list[Any] = [
    "plain",
    "",
    STAMP,
    {"type": "/type/text", "value": "A description"},
    {"type": "/type/text", "value": ""},
    {"type": "/type/text", "value": 'with "quotes" and \\ backslash'},
    {"type": "/type/text", "value": "with\nnewline"},
    {"value": "order reversed", "type": "/type/text"},
    {"type": "/type/text"},
    {"type": "/type/other", "value": "other type"},
    {"key": "/languages/eng"},
    {"key": ""},
    "[1985]",
    [1985],
    "{not json",
    12,
]
# The lists and values each kind is given (MAP and RAW fields keep their sample values).
BY_KIND: dict[str, list[Any]] = {
    fields.KEYS: REFERENCE_LISTS,
    fields.AUTHORS: AUTHOR_LISTS + REFERENCE_LISTS,
    fields.TEXTS: TEXT_LISTS,
    fields.SUBJECTS: TEXT_LISTS + REFERENCE_LISTS,
    fields.INTS: INT_LISTS,
    fields.TEXT: TEXT_VALUES,
}


def sample_records(dump: str) -> list[dict[str, Any]]:
    lines = (SAMPLES / f"ol_dump_{dump}.txt").read_text().splitlines()
    return [json.loads(line.split("\t")[4]) for line in lines]


def shaped_records(spec: str) -> list[dict[str, Any]]:
    """One record per field and shape: a sample record of the dump with that field's value replaced."""
    base = sample_records(spec)[0]
    records = []
    for name, kind in FIELDS[spec].items():
        for value in BY_KIND.get(kind, []):
            records.append({**base, name: value})
    return records


def read(spark: SparkSession, spec: str, records: list[dict[str, Any]], plain: bool) -> list[tuple]:
    lines = sorted({json.dumps(record) for record in records})
    texts = spark.createDataFrame([(line,) for line in lines], "json string")
    parsed = texts.select(
        "json",
        F.col("json").alias("line"),
        F.from_json("json", JSON_SCHEMAS[spec], PERMISSIVE).alias("typed"),
    )
    frame = fields.read_fields(parsed, FIELDS[spec], plain=plain)
    return sorted(tuple(row) for row in frame.select("line", "record", "coerced", "json_object").collect())


@pytest.mark.parametrize("spec", sorted(FIELDS))
def test_the_patterns_give_what_the_general_path_gives(spark: SparkSession, spec: str) -> None:
    records = sample_records(spec) + shaped_records(spec)
    general = read(spark, spec, records, plain=False)
    assert len(general) > len(sample_records(spec))
    assert read(spark, spec, records, plain=True) == general


def plain_and_read(spark: SparkSession, kind: str, values: list[Any]) -> list[tuple[bool, Any]]:
    """_plain_list of each JSON list as the record's parse gives it: (plain?, the plain reading or None)."""
    schema = T.StructType([T.StructField("value", T.ArrayType(T.StringType()))])
    texts = spark.createDataFrame([(json.dumps({"value": value}),) for value in values], "json string")
    listed = texts.select(
        F.monotonically_increasing_id().alias("n"), F.from_json("json", schema)["value"].alias("v")
    )
    is_plain, value = fields._plain_list(kind, F.col("v"), F.array_join("v", "\n", fields._NULL))
    rows = listed.select("n", is_plain.alias("plain"), value.alias("read")).orderBy("n").collect()
    return [(row["plain"], row["read"] if row["plain"] else None) for row in rows]


def test_plain_reference_lists_are_read_by_patterns(spark: SparkSession) -> None:
    found = plain_and_read(spark, fields.KEYS, [*REFERENCE_LISTS[:4], [{"key": "/works/a b"}], [None], [1]])
    assert found == [
        (True, ["/works/OL1W"]),
        (True, ["/works/OL1W", "/works/OL2W"]),
        (True, []),
        (False, None),
        (False, None),
        (False, None),
        (False, None),
    ]


def test_plain_author_entries_are_read_by_patterns(spark: SparkSession) -> None:
    found = plain_and_read(spark, fields.AUTHORS, AUTHOR_LISTS[:9])
    keys = [
        (plain, read and [(entry["author_key"], entry["role"]) for entry in read]) for plain, read in found
    ]
    assert keys == [
        (True, [("/authors/OL1A", None)]),
        (True, [("/authors/OL1A", None), ("/authors/OL2A", None)]),
        (True, [("/authors/OL1A", None)]),
        (True, [("/authors/OL1A", None)]),
        (True, [("/authors/OL1A", None)]),
        (True, [("/authors/OL1A", None)]),
        (True, [("/authors/OL1A", None), ("/authors/OL2A", None)]),
        (False, None),  # a role: the general path reads it
        (False, None),  # another type
    ]


def test_plain_texts_and_integers_are_read_by_patterns(spark: SparkSession) -> None:
    texts = plain_and_read(
        spark, fields.TEXTS, [["a", "b"], [""], ["a", None], [{"value": "x"}], ["a", "{b"]]
    )
    assert texts == [(True, ["a", "b"]), (True, [""]), (False, None), (False, None), (False, None)]
    ints = plain_and_read(spark, fields.INTS, [[1, -2], [], [1.5], ["x"], [1234567890123456789], [None]])
    assert ints == [(True, [1, -2]), (True, []), (False, None), (False, None), (False, None), (False, None)]


def frame_of(spark: SparkSession, texts: list[str]) -> DataFrame:
    return spark.createDataFrame([(text,) for text in texts], "text string")


def test_bare_objects_are_read_by_patterns_and_others_by_the_parser(spark: SparkSession) -> None:
    texts = [
        '{"key":"/works/OL1W"}',
        '{"type":"/type/datetime","value":"2008-04-01T03:28:50"}',
        '{"type":"/type/text","value":""}',
        '{"type":"/type/text","value":"a \\"quoted\\" word"}',
        '{"key":"/works/OL1W","type":"/type/work"}',
        "plain",
    ]
    rows = frame_of(spark, texts).select(fields._object(F.col("text")).alias("o")).collect()
    found = [None if row["o"] is None else (row["o"]["key"], row["o"]["value"]) for row in rows]
    assert found == [
        ("/works/OL1W", None),
        (None, "2008-04-01T03:28:50"),
        (None, ""),
        (None, 'a "quoted" word'),
        ("/works/OL1W", None),
        None,
    ]
