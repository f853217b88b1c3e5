"""Redirects: the final target of every redirected key, and a column's keys replaced by their targets.
Used by the marts (every key they hold is resolved) and the data-quality view (orphans after resolution)."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

REDIRECT_HOPS = 8


def resolve_redirects(redirects: DataFrame, hops: int = REDIRECT_HOPS) -> DataFrame:
    """from_key -> final to_key, following chains up to `hops` links.

    A key that still has somewhere to go after `hops` links (a cycle, or a longer chain) resolves to
    itself: leaving it alone is safer than picking an arbitrary point of the loop. A from_key listed with
    several targets uses the smallest one, so the answer is deterministic and never fans out.
    """
    edges = (
        redirects.where(F.col("from_key").isNotNull() & F.col("to_key").isNotNull())
        .where(F.col("from_key") != F.col("to_key"))
        .groupBy("from_key")
        .agg(F.min("to_key").alias("to_key"))
    )
    current = edges
    for _ in range(hops):
        step = edges.select(F.col("from_key").alias("via"), F.col("to_key").alias("next"))
        current = current.join(step, current["to_key"] == step["via"], "left").select(
            "from_key", F.coalesce("next", "to_key").alias("to_key")
        )
    unfinished = edges.select(F.col("from_key").alias("pending"))
    return current.join(unfinished, current["to_key"] == unfinished["pending"], "left").select(
        "from_key",
        F.when(F.col("pending").isNull(), F.col("to_key")).otherwise(F.col("from_key")).alias("to_key"),
    )


def resolve(frame: DataFrame, column: str, resolved: DataFrame) -> DataFrame:
    """Replace `column` by its redirect target (itself when it has none). One row out per row in."""
    mapping = resolved.select(F.col("from_key").alias("_from"), F.col("to_key").alias("_to"))
    joined = frame.join(mapping, frame[column] == mapping["_from"], "left")
    return joined.withColumn(column, F.coalesce("_to", column)).drop("_from", "_to")
