"""Spark job: the curated tables of a release -> the marts, every key resolved through redirects.

spark-submit spark/build_marts.py --curated URL --marts URL --summary URL --metrics URL --dumps authors,...
    [--previous-release DATE --previous-curated URL]

No fan-out: fct_ratings and fct_shelves have exactly one row per ratings / reading_log row (checked before
the metrics document is written last). Before it, the summary the run report charts (spark/summary.py),
with the change against the previous release when one is given.
"""

from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from spark import tables
from spark.catalog import DUMPS, MARTS, tables_of
from spark.contracts import MartsArgs
from spark.jobio import Stopwatch, run_job, write_json
from spark.parse import publish_year
from spark.progress import ProgressPrinter
from spark.summary import count_by, release_summary

REDIRECT_HOPS = 8
SHELF_COLUMNS = {
    "Want to Read": "want_to_read",
    "Currently Reading": "currently_reading",
    "Already Read": "already_read",
}


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


def _zero(name: str) -> Column:
    return F.coalesce(F.col(name), F.lit(0)).cast("long").alias(name)


def fct_ratings(ratings: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(ratings, "work_key", resolved), "edition_key", resolved)


def fct_shelves(reading_log: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(reading_log, "work_key", resolved), "edition_key", resolved)


def resolved_work_authors(work_authors: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(work_authors, "work_key", resolved), "author_key", resolved)


def dim_author(authors: DataFrame, work_authors: DataFrame) -> DataFrame:
    """One row per author; work_count = distinct works naming the author (keys already resolved)."""
    counts = count_by(work_authors.select("author_key", "work_key").distinct(), "work_count", "author_key")
    return (
        authors.select("author_key", "name", "birth_date", "death_date")
        .join(counts, "author_key", "left")
        .select("author_key", "name", "birth_date", "death_date", _zero("work_count"))
    )


def dim_work(
    works: DataFrame, work_authors: DataFrame, editions: DataFrame, ratings: DataFrame, shelves: DataFrame
) -> DataFrame:
    """One row per work with its authors, editions, ratings and reading-log shelves (all keys resolved)."""
    author_keys = work_authors.groupBy("work_key").agg(
        F.array_distinct(
            F.transform(
                F.sort_array(F.collect_list(F.struct("ordinal", "author_key"))), lambda e: e["author_key"]
            )
        ).alias("author_keys")
    )
    edition_stats = editions.groupBy("work_key").agg(
        F.count(F.lit(1)).alias("edition_count"), F.min("publish_year").alias("first_edition_year")
    )
    rating_stats = ratings.groupBy("work_key").agg(
        F.count(F.lit(1)).alias("rating_count"), F.avg("rating").alias("rating_avg")
    )
    shelf_stats = shelves.groupBy("work_key").agg(
        *(F.count(F.when(F.col("shelf") == shelf, 1)).alias(name) for shelf, name in SHELF_COLUMNS.items())
    )
    joined = (
        works.select("work_key", "title", "first_publish_date")
        .join(author_keys, "work_key", "left")
        .join(edition_stats, "work_key", "left")
        .join(rating_stats, "work_key", "left")
        .join(shelf_stats, "work_key", "left")
    )
    return joined.select(
        "work_key",
        "title",
        F.coalesce(publish_year(F.col("first_publish_date")), F.col("first_edition_year")).alias(
            "first_publish_year"
        ),
        F.coalesce(F.col("author_keys"), F.array().cast("array<string>")).alias("author_keys"),
        _zero("edition_count"),
        _zero("rating_count"),
        F.col("rating_avg"),
        *(_zero(name) for name in SHELF_COLUMNS.values()),
    )


def dim_subject(works: DataFrame) -> DataFrame:
    """Distinct works per subject (trimmed; empty subjects left out)."""
    subjects = works.select("work_key", F.explode("subjects").alias("subject")).select(
        "work_key", F.trim("subject").alias("subject")
    )
    named = subjects.where(F.col("subject").isNotNull() & (F.col("subject") != "")).distinct()
    return count_by(named, "work_count", "subject")


def build_marts(curated: dict[str, DataFrame]) -> dict[str, DataFrame]:
    resolved = resolve_redirects(curated["redirects"])
    work_authors = resolved_work_authors(curated["work_authors"], resolved)
    editions = resolve(curated["editions"], "work_key", resolved)
    ratings = fct_ratings(curated["ratings"], resolved)
    shelves = fct_shelves(curated["reading_log"], resolved)
    marts = {
        "dim_author": dim_author(curated["authors"], work_authors),
        "dim_work": dim_work(curated["works"], work_authors, editions, ratings, shelves),
        "dim_subject": dim_subject(curated["works"]),
        "fct_ratings": ratings,
        "fct_shelves": shelves,
    }
    return {name: tables.conform(frame, tables.MARTS[name]) for name, frame in marts.items()}


def _read_table(spark: SparkSession, curated_url: str, table: str) -> DataFrame:
    return spark.read.schema(tables.CURATED[table]).parquet(f"{curated_url.rstrip('/')}/{table}")


def read_curated(spark: SparkSession, curated_url: str, dumps: Sequence[str]) -> dict[str, DataFrame]:
    """The curated tables of the given dumps; empty frames (with the contract's schema) for the others."""
    present = set(tables_of(dumps))
    return {
        table: (
            _read_table(spark, curated_url, table) if table in present else spark.createDataFrame([], schema)
        )
        for table, schema in tables.CURATED.items()
    }


def read_primary_tables(spark: SparkSession, curated_url: str, dumps: Sequence[str]) -> dict[str, DataFrame]:
    """The primary table of each dump (the first it feeds): all that the change against an earlier release
    compares, and all that the pipeline checks is still there before naming that release."""
    primary = [DUMPS[dump].primary for dump in dumps]
    return {table: _read_table(spark, curated_url, table) for table in primary}


def run(spark: SparkSession, args: MartsArgs) -> dict[str, Any]:
    clock = Stopwatch()
    dumps = list(args.dumps)
    curated = read_curated(spark, args.curated, dumps)
    marts_url = args.marts.rstrip("/")
    steps = [f"write {name}" for name in MARTS] + ["count and check", "summarise"]
    with ProgressPrinter(spark, steps) as progress:
        for name, frame in build_marts(curated).items():
            progress.step(f"write {name}")
            frame.write.mode("overwrite").parquet(f"{marts_url}/{name}")
        progress.step("count and check")
        written = {name: spark.read.parquet(f"{marts_url}/{name}") for name in MARTS}
        counts = {name: frame.count() for name, frame in written.items()}
        fan_out = {
            "ratings": curated["ratings"].count(),
            "fct_ratings": counts["fct_ratings"],
            "reading_log": curated["reading_log"].count(),
            "fct_shelves": counts["fct_shelves"],
        }
        if fan_out["ratings"] != fan_out["fct_ratings"] or fan_out["reading_log"] != fan_out["fct_shelves"]:
            raise RuntimeError(f"fan-out in the fact marts: {fan_out}")
        progress.step("summarise")
        previous = (
            (args.previous_release, read_primary_tables(spark, args.previous_curated, dumps))
            if args.previous_curated
            else None
        )
        write_json(spark, args.summary, release_summary(written, curated, dumps, previous))
    metrics = {"marts": counts, "fan_out_check": fan_out, "dumps": dumps, "duration_s": clock.seconds()}
    write_json(spark, args.metrics, metrics)
    return metrics


def main(argv: Sequence[str] | None = None) -> None:
    run_job("build_marts", run, MartsArgs.parse(argv, description=__doc__ or ""))


if __name__ == "__main__":
    main()
