"""The data-quality view of a release (the mart data_quality): how filled each curated column is, the
references that point at nothing before and after redirect resolution, and the ISBNs the editions
transform refused. Every row has the columns of tables.MARTS["data_quality"]:

    measure, table_name, column_name, detail, count, total, share (count / total; null when total is 0)

One aggregation pass per curated table ("filled") and per reference ("orphans_*"); the refused ISBNs are
the counts of the editions transform's metrics document, passed in as a dict.
"""

from collections.abc import Mapping, Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark import tables
from spark.catalog import tables_of
from spark.isbn import ISBN_COLUMNS
from spark.redirects import resolve

FILLED = "filled"
ORPHANS_BEFORE = "orphans_before_redirects"
ORPHANS_AFTER = "orphans_after_redirects"
ISBNS_REFUSED = "isbns_refused"

# (referring table, its column, referenced table, the referenced table's key)
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("editions", "work_key", "works", "work_key"),
    ("work_authors", "author_key", "authors", "author_key"),
    ("edition_authors", "author_key", "authors", "author_key"),
    ("ratings", "work_key", "works", "work_key"),
    ("reading_log", "work_key", "works", "work_key"),
)


def has_value(column: str, dtype: T.DataType) -> Column:
    """True when the value counts as filled: not null; an array or map not empty; a string not blank."""
    value = F.col(column)
    if isinstance(dtype, T.ArrayType | T.MapType):
        return value.isNotNull() & (F.size(value) > 0)
    if isinstance(dtype, T.StringType):
        return value.isNotNull() & (F.trim(value) != "")
    return value.isNotNull()


def _row(measure: str, table: str, column: str, detail: Column, count: Column, total: Column) -> Column:
    return F.struct(
        F.lit(measure).alias("measure"),
        F.lit(table).alias("table_name"),
        F.lit(column).alias("column_name"),
        detail.cast("string").alias("detail"),
        count.cast("long").alias("count"),
        total.cast("long").alias("total"),
    )


def _rows(aggregated: DataFrame) -> DataFrame:
    """The one-row frame of an aggregation holding an array `rows` of row structs -> one row per struct,
    with share."""
    rows = aggregated.select(F.explode("rows").alias("row")).select("row.*")
    share = F.when(F.col("total") > 0, F.col("count") / F.col("total"))
    return rows.withColumn("share", share.cast("double"))


def filled(table: str, frame: DataFrame) -> DataFrame:
    """measure "filled": per column of `frame`, the rows with a value out of all rows (one pass)."""
    total = F.count(F.lit(1))
    rows = [
        _row(
            FILLED,
            table,
            field.name,
            F.lit(None),
            F.count(F.when(has_value(field.name, field.dataType), 1)),
            total,
        )
        for field in frame.schema.fields
    ]
    return _rows(frame.agg(F.array(*rows).alias("rows")))


def orphans(
    table: str, column: str, frame: DataFrame, target: str, keys: DataFrame, resolved: DataFrame
) -> DataFrame:
    """measures "orphans_before_redirects" and "orphans_after_redirects" of `table`.`column`: the rows whose
    non-null reference is absent from `keys` (the referenced table's key column, named `key`), as given and
    once resolved through `resolved` (from_key -> to_key), out of the rows with a reference."""
    references = frame.where(F.col(column).isNotNull()).groupBy(F.col(column).alias("_ref")).count()
    known = keys.where(F.col("key").isNotNull()).select("key").distinct()
    joined = (
        resolve(references.withColumn("_resolved", F.col("_ref")), "_resolved", resolved)
        .join(known.select(F.col("key").alias("_before")), F.col("_ref") == F.col("_before"), "left")
        .join(known.select(F.col("key").alias("_after")), F.col("_resolved") == F.col("_after"), "left")
    )

    def absent(match: str) -> Column:
        return F.coalesce(F.sum(F.when(F.col(match).isNull(), F.col("count"))), F.lit(0))

    total = F.coalesce(F.sum("count"), F.lit(0))
    rows = [
        _row(ORPHANS_BEFORE, table, column, F.lit(target), absent("_before"), total),
        _row(ORPHANS_AFTER, table, column, F.lit(target), absent("_after"), total),
    ]
    return _rows(joined.agg(F.array(*rows).alias("rows")))


def isbns_refused(spark: SparkSession, refused: Mapping[str, Mapping[str, int]]) -> DataFrame:
    """measure "isbns_refused": per ISBN column and reason, the count the editions transform gives
    (`refused`: {"isbn_10": {"bad_length": n, ...}, "isbn_13": {...}}); total and share null."""
    rows = []
    for column, reasons in sorted(refused.items()):
        if column not in ISBN_COLUMNS or not isinstance(reasons, Mapping):
            raise ValueError(
                f"isbns_refused: expected {{{', '.join(ISBN_COLUMNS)}}} -> reason -> count, got {refused!r}"
            )
        for reason, count in sorted(reasons.items()):
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"isbns_refused.{column}.{reason}: a count >= 0 expected, got {count!r}")
            rows.append((ISBNS_REFUSED, "editions", column, reason, count, None, None))
    return spark.createDataFrame(rows, tables.MARTS["data_quality"])


def data_quality(
    curated: Mapping[str, DataFrame],
    dumps: Sequence[str],
    resolved: DataFrame,
    refused: Mapping[str, Mapping[str, int]],
) -> DataFrame:
    """The data_quality mart of a release whose `dumps` are given: "filled" for every curated table they
    feed, the orphans of every reference whose both tables they feed, and the refused ISBNs."""
    present = tables_of(dumps)
    parts = [filled(table, curated[table]) for table in present]
    for table, column, target, key in REFERENCES:
        if table in present and target in present:
            keys = curated[target].select(F.col(key).alias("key"))
            parts.append(orphans(table, column, curated[table], target, keys, resolved))
    parts.append(isbns_refused(resolved.sparkSession, refused))
    return reduce(DataFrame.unionByName, parts)
