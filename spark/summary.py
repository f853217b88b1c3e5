"""The release summary the run report charts: small aggregates of the marts and curated tables, and what
changed against an earlier release. Every function takes DataFrames; release_summary() collects the
results into one small JSON-ready document (marts/{release}/_summary.json).
"""

from functools import reduce
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark.catalog import DUMPS

TOP_SUBJECTS = 20


def count_by(frame: DataFrame, name: str, *keys: str) -> DataFrame:
    """One row per distinct `keys`, with `name`: how many rows of `frame` have them."""
    return frame.groupBy(*keys).agg(F.count(F.lit(1)).alias(name))


def editions_by_publish_year(editions: DataFrame) -> DataFrame:
    """publish_year (null: no year could be read), editions: one row per year, in year order."""
    return count_by(editions, "editions", "publish_year").orderBy(F.col("publish_year").asc_nulls_last())


def top_subjects(dim_subject: DataFrame, limit: int = TOP_SUBJECTS) -> DataFrame:
    """The `limit` subjects with the most works (ties: alphabetical), most first."""
    return (
        dim_subject.select("subject", "work_count")
        .orderBy(F.col("work_count").desc(), F.col("subject").asc())
        .limit(limit)
    )


def ratings_distribution(fct_ratings: DataFrame) -> DataFrame:
    """rating, ratings: how many ratings gave each value, in rating order."""
    return count_by(fct_ratings, "ratings", "rating").orderBy("rating")


def shelf_counts(fct_shelves: DataFrame) -> DataFrame:
    """shelf, entries: reading-log entries per shelf, most first."""
    return count_by(fct_shelves, "entries", "shelf").orderBy(F.col("entries").desc(), F.col("shelf").asc())


def record_changes(current: DataFrame, previous: DataFrame, keys: tuple[str, ...]) -> dict[str, int]:
    """new: records of `current` whose key is not in `previous`; removed: the other way round.

    Keys are compared as multisets, nulls equal to nulls: two identical keyless rows against one count one
    new. One pass: each side counted per key, joined once, the surplus of each side summed.
    """
    now, before = count_by(current, "_now", *keys), count_by(previous, "_before", *keys)
    same_key = reduce(lambda left, right: left & right, (now[key].eqNullSafe(before[key]) for key in keys))
    surplus = F.coalesce(F.col("_now"), F.lit(0)) - F.coalesce(F.col("_before"), F.lit(0))
    totals = (
        now.join(before, same_key, "full_outer")
        .agg(
            F.sum(F.greatest(surplus, F.lit(0))).alias("new"),
            F.sum(F.greatest(-surplus, F.lit(0))).alias("removed"),
        )
        .first()
    )
    return {"new": int(totals["new"] or 0), "removed": int(totals["removed"] or 0)}


def release_changes(
    current: dict[str, DataFrame], previous: dict[str, DataFrame], dumps: list[str]
) -> dict[str, dict[str, Any]]:
    """Per dump, the new and removed records of its primary table (the first table it feeds)."""
    changes = {}
    for dump in dumps:
        table, keys = DUMPS[dump].primary, DUMPS[dump].key
        changes[dump] = {"table": table, "keys": list(keys)} | record_changes(
            current[table], previous[table], keys
        )
    return changes


def quality_rows(data_quality: DataFrame) -> DataFrame:
    """The data_quality mart ordered by measure, table_name, column_name, detail (nulls first)."""
    return data_quality.orderBy("measure", "table_name", "column_name", "detail")


def _rows(frame: DataFrame) -> list[dict[str, Any]]:
    return [row.asDict() for row in frame.collect()]


def release_summary(
    marts: dict[str, DataFrame],
    curated: dict[str, DataFrame],
    dumps: list[str],
    previous: tuple[str, dict[str, DataFrame]] | None,
) -> dict[str, Any]:
    """The summary document: editions per year, top subjects, ratings, shelves, the rows of the
    data_quality mart ("quality", in quality_rows' order), and the change against `previous` ((release, the
    primary table of each dump)), which is None when the lake holds no earlier release.
    """
    return {
        "editions_by_publish_year": _rows(editions_by_publish_year(curated["editions"])),
        "top_subjects": _rows(top_subjects(marts["dim_subject"])),
        "ratings": _rows(ratings_distribution(marts["fct_ratings"])),
        "shelves": _rows(shelf_counts(marts["fct_shelves"])),
        "quality": _rows(quality_rows(marts["data_quality"])),
        "changes": {
            "previous_release": previous[0] if previous else None,
            "dumps": release_changes(curated, previous[1], dumps) if previous else {},
        },
    }
