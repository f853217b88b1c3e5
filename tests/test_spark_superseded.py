"""Duplicate keys: only the records of repeated keys are ranked (no shuffle of the others), with the same
choice as a window over every record would make; a dump without them is read once."""

import json

from pyspark.sql import DataFrame, SparkSession

from spark import tables
from spark.transform_dump import transform
from tests.test_spark_transforms import lines as frame
from tests.test_spark_transforms import record_line


def work(key: str, revision: int, modified: str, title: str) -> str:
    """A work line whose record was last modified at `modified` (what ranks equal revisions)."""
    return record_line(
        "/type/work", key, revision, title=title, last_modified={"type": "/type/datetime", "value": modified}
    )


def test_the_highest_revision_then_latest_modification_then_line_wins_among_repeated_keys(
    spark: SparkSession,
) -> None:
    older = work("/works/OL1W", 3, "2020-01-01T00:00:00", "old")
    newer = work("/works/OL1W", 4, "2019-01-01T00:00:00", "new")  # higher revision wins over a later date
    same_rev_early = work("/works/OL2W", 2, "2020-01-01T00:00:00", "early")
    same_rev_late = work("/works/OL2W", 2, "2021-01-01T00:00:00", "late")
    twin_a = work("/works/OL3W", 1, "2020-01-01T00:00:00", "a")
    twin_b = work("/works/OL3W", 1, "2020-01-01T00:00:00", "b")  # everything equal: the greater line wins
    broken_copy = "/type/work\t/works/OL4W\t9\t2020-01-01T00:00:00\t{not json"
    good_copy = work("/works/OL4W", 1, "2020-01-01T00:00:00", "kept")
    singles = [work(f"/works/OL{n}W", 1, "2020-01-01T00:00:00", "single") for n in range(10, 40)]
    lines = [older, newer, same_rev_early, same_rev_late, twin_a, twin_b, broken_copy, good_copy, *singles]

    outputs, quarantine, *_ = transform(frame(spark, *lines), "works")
    quarantined = {row["line"]: row["reason"] for row in quarantine.collect()}
    kept = sorted((row["work_key"], row["title"]) for row in outputs["works"].collect())
    reasons = {line: quarantined.get(line) for line in lines}

    assert len(quarantined) + len(kept) == len(lines) and set(quarantined) <= set(lines)  # each line once
    assert kept == sorted((_key(line), _title(line)) for line in lines if line not in quarantined)
    assert reasons[older] == tables.SUPERSEDED_REVISION and reasons[newer] is None
    assert reasons[same_rev_early] == tables.SUPERSEDED_REVISION and reasons[same_rev_late] is None
    assert reasons[max(twin_a, twin_b)] is None and reasons[min(twin_a, twin_b)] == tables.SUPERSEDED_REVISION
    assert reasons[broken_copy] == tables.INVALID_JSON  # a bad copy neither wins nor is superseded
    assert reasons[good_copy] is None
    assert all(reasons[line] is None for line in singles)


def _key(line: str) -> str:
    return line.split("\t")[1]


def _title(line: str) -> str:
    return json.loads(line.split("\t")[4])["title"]


def _plan(frame: DataFrame) -> str:
    """The physical plan above the staged (cached) frame: what the output itself reads and does."""
    return frame._jdf.queryExecution().executedPlan().toString().split("InMemoryRelation")[0]


def test_without_repeated_keys_the_tables_read_the_staged_lines_only(spark: SparkSession) -> None:
    lines = [work(f"/works/OL{n}W", 1, "2020-01-01T00:00:00", "t") for n in range(50)]
    outputs, quarantine, good, _ = transform(frame(spark, *lines), "works")
    assert outputs["works"].count() == 50 and quarantine.count() == 0
    plan = _plan(outputs["works"])
    assert "InMemoryTableScan" in plan and "Window" not in plan and "Scan ExistingRDD" not in plan
    assert [row["reason"] for row in good.collect()] == [None] * 50


def test_only_the_parts_holding_repeated_keys_are_classified_again(spark: SparkSession) -> None:
    asked: list[list[str]] = []
    lines = [work("/works/OL1W", n, "2020-01-01T00:00:00", f"rev {n}") for n in (1, 2)]
    lines += [work(f"/works/OL{n}W", 1, "2020-01-01T00:00:00", "t") for n in range(10, 20)]
    source = frame(spark, *lines)

    def lines_of(files: list[str]) -> DataFrame:
        asked.append(files)
        return source

    outputs, quarantine, *_ = transform(source, "works", lines_of)
    assert asked == [[""]]  # the lines' (one, nameless) source, asked for once
    superseded = {row["reason"]: row["line"] for row in quarantine.collect()}
    assert superseded == {tables.SUPERSEDED_REVISION: lines[0]}
    assert outputs["works"].count() == 11
    assert "Window" in outputs["works"]._jdf.queryExecution().executedPlan().toString()
