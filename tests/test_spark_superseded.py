"""Duplicate keys: only the records of repeated keys are ranked (no shuffle of the others), with the same
choice as a window over every record would make."""

from pyspark.sql import SparkSession

from spark import tables
from spark.transform_dump import classify, transform
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

    rows = classify(frame(spark, *lines), "works").collect()
    reasons = {row["line"]: row["reason"] for row in rows}

    assert sorted(row["line"] for row in rows) == sorted(lines)  # every line exactly once
    assert reasons[older] == tables.SUPERSEDED_REVISION and reasons[newer] is None
    assert reasons[same_rev_early] == tables.SUPERSEDED_REVISION and reasons[same_rev_late] is None
    assert reasons[max(twin_a, twin_b)] is None and reasons[min(twin_a, twin_b)] == tables.SUPERSEDED_REVISION
    assert reasons[broken_copy] == tables.INVALID_JSON  # a bad copy neither wins nor is superseded
    assert reasons[good_copy] is None
    assert all(reasons[line] is None for line in singles)


def test_repeated_keys_are_found_by_a_broadcast_join_and_unique_keys_stay_good(spark: SparkSession) -> None:
    lines = [work(f"/works/OL{n}W", 1, "2020-01-01T00:00:00", "t") for n in range(50)]
    outputs, quarantine, classified = transform(frame(spark, *lines), "works")
    assert outputs["works"].count() == 50 and quarantine.count() == 0
    plan = classified._jdf.queryExecution().executedPlan().toString()
    # the repeated keys are broadcast; the records themselves reach the window only through the join's
    # "repeated" side, which here is empty
    assert "BroadcastHashJoin" in plan or "BroadcastExchange" in plan
    assert [row["reason"] for row in classified.collect()] == [None] * 50
