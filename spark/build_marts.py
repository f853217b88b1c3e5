"""Spark job: the curated tables of a release -> the marts, every key resolved through redirects.

spark-submit spark/build_marts.py --curated URL --marts URL --summary URL --metrics URL --dumps authors,...
    [--previous-release DATE --previous-curated URL]

No fan-out: fct_ratings and fct_shelves have exactly one row per ratings / reading_log row, dim_edition one
per edition, isbn_lookup one per ISBN of dim_edition (checked before the metrics document is written last).
data_quality (spark/quality.py) reads the refused ISBNs from the editions transform's metrics document
(curated/{release}/_metrics/editions.json, beside the tables). Before the metrics, the summary the run
report charts (spark/summary.py), with the change against the previous release when one is given.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from spark import tables
from spark.catalog import CURATED, DUMPS, MARTS, TRANSFORM_METRICS, tables_of
from spark.contracts import MartsArgs
from spark.jobio import Stopwatch, exists, read_json, run_job, write_json
from spark.parse import publish_year
from spark.progress import ProgressPrinter
from spark.quality import data_quality
from spark.redirects import resolve, resolve_redirects
from spark.summary import count_by, release_summary

SHELF_COLUMNS = {
    "Want to Read": "want_to_read",
    "Currently Reading": "currently_reading",
    "Already Read": "already_read",
    "Stopped Reading": "stopped_reading",
}


def _zero(name: str) -> Column:
    return F.coalesce(F.col(name), F.lit(0)).cast("long").alias(name)


def fct_ratings(ratings: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(ratings, "work_key", resolved), "edition_key", resolved)


def fct_shelves(reading_log: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(reading_log, "work_key", resolved), "edition_key", resolved)


def resolved_work_authors(work_authors: DataFrame, resolved: DataFrame) -> DataFrame:
    return resolve(resolve(work_authors, "work_key", resolved), "author_key", resolved)


def ordered_keys(frame: DataFrame, group: str, key: str, name: str) -> DataFrame:
    """group -> `name`: the distinct non-null `key`s of each group, in `ordinal` order."""
    return (
        frame.where(F.col(key).isNotNull())
        .groupBy(group)
        .agg(
            F.array_distinct(
                F.transform(F.sort_array(F.collect_list(F.struct("ordinal", key))), lambda e: e[key])
            ).alias(name)
        )
    )


def _or_empty(value: Column) -> Column:
    """`value`, an empty list of strings where it is null."""
    return F.coalesce(value, F.array().cast("array<string>"))


def _strings(name: str) -> Column:
    return _or_empty(F.col(name)).alias(name)


def dim_author(authors: DataFrame, work_authors: DataFrame) -> DataFrame:
    """One row per author; work_count = distinct works naming the author (keys already resolved)."""
    counts = count_by(work_authors.select("author_key", "work_key").distinct(), "work_count", "author_key")
    return (
        authors.select("author_key", "name", "birth_date", "death_date")
        .join(counts, "author_key", "left")
        .select("author_key", "name", "birth_date", "death_date", _zero("work_count"))
    )


def work_subjects() -> Column:
    """A work's subjects trimmed, without blanks or repeats, in their order (empty when it has none)."""
    trimmed = F.transform(_or_empty(F.col("subjects")), F.trim)
    return F.array_distinct(F.filter(trimmed, lambda s: s.isNotNull() & (s != ""))).alias("subjects")


def dim_work(
    works: DataFrame, author_keys: DataFrame, editions: DataFrame, ratings: DataFrame, shelves: DataFrame
) -> DataFrame:
    """One row per work with its authors (`author_keys`: work_key -> author_keys), subjects, editions,
    ratings and reading-log shelves (all keys resolved)."""
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
        works.select("work_key", "title", "first_publish_date", work_subjects())
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
        _strings("author_keys"),
        "subjects",
        _zero("edition_count"),
        _zero("rating_count"),
        F.col("rating_avg"),
        *(_zero(name) for name in SHELF_COLUMNS.values()),
    )


def dim_subject(dim_work: DataFrame) -> DataFrame:
    """Works per subject (dim_work's subjects: trimmed, distinct per work, no blanks)."""
    return count_by(dim_work.select(F.explode("subjects").alias("subject")), "work_count", "subject")


def dim_edition(
    editions: DataFrame, edition_authors: DataFrame, work_author_keys: DataFrame, edition_isbns: DataFrame
) -> DataFrame:
    """One row per edition (work_key and author keys resolved): its own authors in order, or when it names
    none its work's (`work_author_keys`: work_key -> author_keys); its ISBN-13s sorted."""
    own = ordered_keys(edition_authors, "edition_key", "author_key", "own_authors")
    isbns = (
        edition_isbns.where(F.col("isbn13").isNotNull())
        .groupBy("edition_key")
        .agg(F.sort_array(F.collect_set("isbn13")).alias("isbn13s"))
    )
    joined = (
        editions.join(own, "edition_key", "left")
        .join(work_author_keys.withColumnRenamed("author_keys", "work_authors"), "work_key", "left")
        .join(isbns, "edition_key", "left")
    )
    author_keys = F.when(F.size("own_authors") > 0, F.col("own_authors")).otherwise(F.col("work_authors"))
    return joined.select(
        "edition_key",
        "work_key",
        _or_empty(author_keys).alias("author_keys"),
        "title",
        "publish_year",
        "publishers",
        "languages",
        _strings("isbn13s"),
    )


def author_names(keyed: DataFrame, authors: DataFrame) -> DataFrame:
    """edition_key -> author_names: the names of `keyed`'s author_keys in their order (the key itself where
    the author record is absent)."""
    names = authors.select("author_key", "name")
    listed = keyed.select("edition_key", F.posexplode("author_keys").alias("position", "author_key"))
    return (
        listed.join(names, "author_key", "left")
        .groupBy("edition_key")
        .agg(
            F.sort_array(
                F.collect_list(F.struct("position", F.coalesce("name", "author_key").alias("name")))
            ).alias("named")
        )
        .select("edition_key", F.col("named.name").alias("author_names"))
    )


def isbn_lookup(dim_edition: DataFrame, works: DataFrame, authors: DataFrame) -> DataFrame:
    """One row per (isbn13, edition_key) of dim_edition: the edition, its work's title, its authors' keys
    and names."""
    with_isbns = dim_edition.where(F.size("isbn13s") > 0)
    titles = works.select("work_key", F.col("title").alias("work_title"))
    return (
        with_isbns.select(
            F.explode("isbn13s").alias("isbn13"),
            "edition_key",
            F.col("title").alias("edition_title"),
            "publish_year",
            "work_key",
            "author_keys",
        )
        .join(titles, "work_key", "left")
        .join(author_names(with_isbns, authors), "edition_key", "left")
        .select(
            "isbn13",
            "edition_key",
            "edition_title",
            "publish_year",
            "work_key",
            "work_title",
            "author_keys",
            _strings("author_names"),
        )
    )


def build_marts(
    curated: dict[str, DataFrame],
    dumps: Sequence[str] = tuple(DUMPS),
    isbns_refused: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, DataFrame]:
    """Every mart of MARTS from the curated tables of a release whose `dumps` are given (the others' tables
    are empty frames), `isbns_refused` being the editions transform's counts ({} or None: none)."""
    resolved = resolve_redirects(curated["redirects"]).cache()  # read by every mart: computed once
    work_authors = resolved_work_authors(curated["work_authors"], resolved)
    work_author_keys = ordered_keys(work_authors, "work_key", "author_key", "author_keys")
    editions = resolve(curated["editions"], "work_key", resolved)
    edition_authors = resolve(curated["edition_authors"], "author_key", resolved)
    ratings = fct_ratings(curated["ratings"], resolved)
    shelves = fct_shelves(curated["reading_log"], resolved)
    works = dim_work(curated["works"], work_author_keys, editions, ratings, shelves)
    editions_dim = dim_edition(editions, edition_authors, work_author_keys, curated["edition_isbns"])
    marts = {
        "dim_author": dim_author(curated["authors"], work_authors),
        "dim_work": works,
        "dim_subject": dim_subject(works),
        "fct_ratings": ratings,
        "fct_shelves": shelves,
        "dim_edition": editions_dim,
        "isbn_lookup": isbn_lookup(editions_dim, curated["works"], curated["authors"]),
        "data_quality": data_quality(curated, dumps, resolved, isbns_refused or {}),
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


def transform_metrics_url(curated_url: str, dump: str) -> str:
    """The URL of curated/{release}/_metrics/{dump}.json, given that of curated/{release}."""
    inside = TRANSFORM_METRICS.template[len(CURATED.template) - 1 :]
    return "/".join([curated_url.rstrip("/"), *(part.format(dump=dump) for part in inside)])


def read_isbns_refused(spark: SparkSession, curated_url: str, dumps: Sequence[str]) -> dict[str, Any]:
    """The editions transform's refused ISBNs ("isbns_refused" of its metrics document; {} when the
    document has no such key or the release has no editions dump)."""
    if "editions" not in dumps:
        return {}
    url = transform_metrics_url(curated_url, "editions")
    if not exists(spark, url):
        raise FileNotFoundError(f"{url}: the editions transform's metrics document is missing")
    return read_json(spark, url).get("isbns_refused", {})


def fan_out_check(
    curated: dict[str, DataFrame], written: dict[str, DataFrame], counts: dict[str, int]
) -> dict[str, int]:
    """The row counts that must be equal, source beside mart: one fact row per ratings / reading_log row,
    one dim_edition row per edition, one isbn_lookup row per ISBN of dim_edition; raises when one isn't."""
    isbns = written["dim_edition"].select(F.sum(F.size("isbn13s"))).first()[0]
    checked = {
        "ratings": curated["ratings"].count(),
        "fct_ratings": counts["fct_ratings"],
        "reading_log": curated["reading_log"].count(),
        "fct_shelves": counts["fct_shelves"],
        "editions": curated["editions"].count(),
        "dim_edition": counts["dim_edition"],
        "dim_edition_isbns": int(isbns or 0),
        "isbn_lookup": counts["isbn_lookup"],
    }
    pairs = (
        ("ratings", "fct_ratings"),
        ("reading_log", "fct_shelves"),
        ("editions", "dim_edition"),
        ("dim_edition_isbns", "isbn_lookup"),
    )
    if any(checked[source] != checked[mart] for source, mart in pairs):
        raise RuntimeError(f"fan-out in the marts: {checked}")
    return checked


def run(spark: SparkSession, args: MartsArgs) -> dict[str, Any]:
    clock = Stopwatch()
    dumps = list(args.dumps)
    curated = read_curated(spark, args.curated, dumps)
    refused = read_isbns_refused(spark, args.curated, dumps)
    marts_url = args.marts.rstrip("/")
    steps = [f"write {name}" for name in MARTS] + ["count and check", "summarise"]
    with ProgressPrinter(spark, steps) as progress:
        for name, frame in build_marts(curated, dumps, refused).items():
            progress.step(f"write {name}")
            frame.write.mode("overwrite").parquet(f"{marts_url}/{name}")
        progress.step("count and check")
        written = {name: spark.read.parquet(f"{marts_url}/{name}") for name in MARTS}
        counts = {name: frame.count() for name, frame in written.items()}
        fan_out = fan_out_check(curated, written, counts)
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
