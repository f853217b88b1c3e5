"""Spark job: one raw dump (re-chunked parts) -> its curated Parquet tables + quarantined lines + metrics.

spark-submit spark/transform_dump.py --dump works --manifest URL --curated URL --quarantine URL --metrics URL

Every input line ends in exactly one place: a row of the dump's primary table, or one quarantine row
(the raw line and the reason). The job checks rows + quarantined == the manifest's line count and writes
the metrics document last; when the check fails it raises and writes no metrics.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark import tables
from spark.catalog import DUMPS
from spark.contracts import TransformArgs
from spark.fields import (
    AUTHORS,
    ENTRY,
    INTS,
    KEYS,
    MAP,
    RAW,
    SUBJECTS,
    TEXT,
    TEXTS,
    parse_schema,
    read_fields,
)
from spark.isbn import ISBN_COLUMNS, REFUSALS, with_isbn_checks
from spark.jobio import Stopwatch, read_json, run_job, write_json
from spark.parse import PERMISSIVE, integer, language_codes, publish_year, timestamp_of
from spark.progress import ProgressPrinter

QUARANTINE_COLUMNS = ("line", "reason", "source_file")
SHELVES = ("Want to Read", "Currently Reading", "Already Read", "Stopped Reading")  # Open Library's four


def _fields(**kinds: str) -> dict[str, str]:
    """A record's fields by kind (spark/fields.py), with the revision and timestamps every record has."""
    return {**kinds, "revision": RAW, "created": TEXT, "last_modified": TEXT}


SUBJECT_FIELDS = ("subjects", "subject_places", "subject_people", "subject_times")
FIELDS: dict[str, dict[str, str]] = {
    "authors": _fields(
        name=TEXT, personal_name=TEXT, fuller_name=TEXT, alternate_names=TEXTS, birth_date=TEXT,
        death_date=TEXT, bio=TEXT, remote_ids=MAP,
    ),
    "works": _fields(
        title=TEXT, subtitle=TEXT, first_publish_date=TEXT, description=TEXT,
        **dict.fromkeys(SUBJECT_FIELDS, SUBJECTS), covers=INTS, authors=AUTHORS,
    ),
    "editions": _fields(
        works=KEYS, authors=AUTHORS, title=TEXT, subtitle=TEXT, publishers=TEXTS, publish_date=TEXT,
        number_of_pages=RAW, physical_format=TEXT, languages=KEYS, isbn_10=TEXTS, isbn_13=TEXTS, lccn=TEXTS,
        oclc_numbers=TEXTS, ocaid=TEXT,
    ),
    "redirects": _fields(location=TEXT),
}  # fmt: skip
# The one parse of each dump's JSON column (catalog.DumpSpec.json_schema names one).
JSON_SCHEMAS: dict[str, T.StructType] = {name: parse_schema(fields) for name, fields in FIELDS.items()}


# ---------------------------------------------------------------------------------------------- classify


# An escaped NUL (\u0000) in JSON text, not preceded by an escaped backslash: group 1 keeps the even run of
# backslashes before it.
_ESCAPED_NUL = r"(?<!\\)((?:\\\\)*)\\u0000"
_CONTROL_CHARACTER = r"[\x00-\x1f\x7f]"


def read_lines(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    r"""The lines of text files, split on "\n" only: a stray "\r" stays inside its line (as the ingest
    counted it) instead of splitting it in two."""
    return spark.read.option("lineSep", "\n").text(list(paths))


def _columns(lines: DataFrame) -> DataFrame:
    r"""value (one raw line) -> line, source_file, utf8_valid, cols (the tab-separated columns).

    `line` is the line as valid UTF-8: invalid bytes (kept as they are by Spark's text reader) become
    U+FFFD, so a quarantine row can always be written and read; `utf8_valid` says whether that changed it.
    A line ending in "\r\n" is split without its "\r".
    """
    decoded = F.decode(F.col("value").cast("binary"), "UTF-8")
    without_cr = F.when(decoded.endswith("\r"), F.regexp_replace(decoded, "\r$", "")).otherwise(decoded)
    return lines.select(
        decoded.alias("line"),
        F.input_file_name().alias("source_file"),
        (decoded == F.col("value")).alias("utf8_valid"),
        F.split(without_cr, "\t", -1).alias("cols"),
    )


def without_escaped_nul(json_text: Column) -> Column:
    r"""JSON text with every escaped NUL character (\u0000) removed from its strings.

    NUL is valid JSON but never meaningful in Open Library text, and PostgreSQL, BigQuery loads and C tools
    choke on it; the record is kept and the line counted as cleaned. Raw (unescaped) control characters
    are invalid JSON and quarantine the line instead.
    """
    return F.when(
        F.instr(json_text, "\\u0000") > 0, F.regexp_replace(json_text, _ESCAPED_NUL, "$1")
    ).otherwise(json_text)


def _first_reason(*checks: tuple[Column, str]) -> Column:
    """The reason of the first failing check, in priority order; null when the line is good."""
    reason: Any = F
    for failed, name in checks:
        reason = reason.when(failed, F.lit(name))
    return reason


# Checks of a typed dump beyond the common ones (the reason of the first that fails, after those).
EXTRA_CHECKS: dict[str, tuple[tuple[Callable[[], Column], str], ...]] = {
    "redirects": ((lambda: F.coalesce(F.trim("record.location"), F.lit("")) == "", tables.MISSING_KEY),),
}


# Columns a typed dump's classification adds, computed once per record in the one read of the lines.
DERIVED: dict[str, Callable[[DataFrame], DataFrame]] = {
    "editions": lambda frame: with_isbn_checks(frame, _record("isbn_10"), _record("isbn_13"), "isbns"),
}


def classify_records(lines: DataFrame, dump: str) -> DataFrame:
    """Typed dumps (five columns + JSON): line, source_file, key, record (parsed JSON), revision, reason, and
    the dump's DERIVED columns."""
    fields = FIELDS[DUMPS[dump].json_schema]
    columns = _columns(lines).select(
        "line",
        "source_file",
        "utf8_valid",
        F.size("cols").alias("n"),
        F.col("cols")[0].alias("type"),
        F.col("cols")[1].alias("key"),
        F.col("cols")[2].alias("revision_column"),
        F.col("cols")[4].alias("given"),
        without_escaped_nul(F.col("cols")[4]).alias("json"),
    )
    parsed = columns.select(
        "*",
        F.from_json("json", JSON_SCHEMAS[DUMPS[dump].json_schema], PERMISSIVE).alias("typed"),
        (F.col("json") != F.col("given")).alias("nul_removed"),
    ).drop("given")
    checks = [
        (~F.col("utf8_valid"), tables.INVALID_UTF8),
        (F.col("n") != 5, tables.WRONG_COLUMN_COUNT),
        (~F.col("json_object"), tables.INVALID_JSON),
        (F.col("type") != DUMPS[dump].record_type, tables.UNEXPECTED_TYPE),
        (F.col("key").isNull() | (F.trim("key") == ""), tables.MISSING_KEY),
        (F.col("key").rlike(_CONTROL_CHARACTER), tables.INVALID_VALUE),
    ]
    checks += [(failed(), reason) for failed, reason in EXTRA_CHECKS.get(dump, ())]
    classified = read_fields(parsed, fields).select(
        "line",
        "source_file",
        "key",
        "record",
        "coerced",
        F.coalesce(integer(F.col("record.revision")), integer(F.col("revision_column"))).alias("revision"),
        F.coalesce(F.col("nul_removed"), F.lit(False)).alias("nul_removed"),
        _first_reason(*checks).alias("reason"),
    )
    return DERIVED[dump](classified) if dump in DERIVED else classified


REPEATED_KEY_PARTITIONS = 4  # partitions of the (few) records whose key repeats, sorted by the window


def rank_repeated(good: DataFrame) -> DataFrame:
    """Good records sharing a key: the highest revision is kept (then the latest last_modified, then the
    greater line, so the choice is deterministic); the others get the reason superseded_revision."""
    order = Window.partitionBy("key").orderBy(
        F.col("revision").desc_nulls_last(),
        timestamp_of(F.col("record.last_modified")).desc_nulls_last(),
        F.col("line").desc(),
    )
    ranked = good.repartition(REPEATED_KEY_PARTITIONS, "key").withColumn("_rank", F.row_number().over(order))
    superseded = F.when(F.col("_rank") > 1, F.lit(tables.SUPERSEDED_REVISION))
    return ranked.withColumn("reason", superseded).drop("_rank")


# The value column of each dump of plain rows: a rating 1-5, or a reading-log shelf.
VALID_VALUES: dict[str, Callable[[], Column]] = {
    "ratings": lambda: F.col("value").rlike("^[1-5]$"),
    "reading-log": lambda: F.col("value").isin(*SHELVES),
}


def classify_rows(lines: DataFrame, dump: str) -> DataFrame:
    """Ratings and reading-log dumps (four columns, \\N for null): line, source_file, the fields, reason."""
    parsed = _columns(lines).select(
        "line",
        "source_file",
        "utf8_valid",
        F.size("cols").alias("n"),
        F.col("cols")[0].alias("work_key"),
        F.when(~F.col("cols")[1].isin("", "\\N"), F.col("cols")[1]).alias("edition_key"),  # \N or '': null
        F.col("cols")[2].alias("value"),
        F.to_date(F.col("cols")[3], "yyyy-MM-dd").alias("day"),
        F.col("cols")[3].rlike(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").alias("day_shaped"),
    )
    valid_value = VALID_VALUES[dump]()
    keys = F.concat_ws(" ", "work_key", "edition_key")
    reason = _first_reason(
        (~F.col("utf8_valid"), tables.INVALID_UTF8),
        (F.col("n") != 4, tables.WRONG_COLUMN_COUNT),
        (F.col("work_key").isNull() | F.col("work_key").isin("", "\\N"), tables.MISSING_KEY),
        (~valid_value | F.col("day").isNull() | ~F.col("day_shaped"), tables.INVALID_VALUE),
        (keys.rlike(_CONTROL_CHARACTER), tables.INVALID_VALUE),
    )
    return parsed.withColumn("reason", reason).withColumn("nul_removed", F.lit(False))


# ----------------------------------------------------------------------------------------------- tables


def _record(name: str) -> Column:
    return F.col(f"record.{name}")


def _stamps() -> list[Column]:
    return [
        F.col("revision").cast("int").alias("revision"),
        timestamp_of(_record("created")).alias("created"),
        timestamp_of(_record("last_modified")).alias("last_modified"),
    ]


def _records(*names: str) -> list[Column]:
    return [_record(name).alias(name) for name in names]


def authors_tables(good: DataFrame) -> dict[str, DataFrame]:
    authors = good.select(
        F.col("key").alias("author_key"),
        *_records("name", "personal_name", "fuller_name", "alternate_names", "birth_date", "death_date"),
        *_records("bio", "remote_ids"),
        *_stamps(),
    )
    return {"authors": authors}


def _author_entries(good: DataFrame, key: str) -> DataFrame:
    """One row per author entry of a record: its key, ordinal (position in the list) and the entry."""
    return good.select(F.col("key").alias(key), F.posexplode(_record("authors")).alias("ordinal", "entry"))


def works_tables(good: DataFrame) -> dict[str, DataFrame]:
    works = good.select(
        F.col("key").alias("work_key"),
        *_records("title", "subtitle", "first_publish_date", "description", *SUBJECT_FIELDS),
        F.coalesce(_record("covers"), F.array().cast("array<bigint>")).alias("covers"),  # [] when absent
        *_stamps(),
    )
    work_authors = _author_entries(good, "work_key").select(
        "work_key",
        F.col("entry.author_key").alias("author_key"),
        "ordinal",
        F.col("entry.role").alias("role"),
    )
    return {"works": works, "work_authors": work_authors.where(F.col("author_key").isNotNull())}


def editions_tables(good: DataFrame) -> dict[str, DataFrame]:
    editions = good.select(
        F.col("key").alias("edition_key"),
        _work_key().alias("work_key"),
        *_records("title", "subtitle", "publishers", "publish_date"),
        publish_year(_record("publish_date")).alias("publish_year"),
        integer(_record("number_of_pages")).alias("number_of_pages"),
        _record("physical_format").alias("physical_format"),
        language_codes(F.coalesce(_record("languages"), F.array().cast("array<string>"))).alias("languages"),
        *_records("isbn_10", "isbn_13", "lccn", "oclc_numbers", "ocaid"),
        *_stamps(),
    )
    edition_authors = _author_entries(good, "edition_key").select(
        "edition_key", F.col("entry.author_key").alias("author_key"), "ordinal"
    )
    edition_isbns = good.select(
        F.col("key").alias("edition_key"),
        F.explode("isbns.isbn13s").alias("isbn13"),
    )
    return {
        "editions": editions,
        "edition_authors": edition_authors.where(F.col("author_key").isNotNull()),
        "edition_isbns": edition_isbns,
    }


def redirects_tables(good: DataFrame) -> dict[str, DataFrame]:
    return {
        "redirects": good.select(F.col("key").alias("from_key"), F.trim(_record("location")).alias("to_key"))
    }


def ratings_tables(good: DataFrame) -> dict[str, DataFrame]:
    ratings = good.select(
        "work_key", "edition_key", F.col("value").cast("int").alias("rating"), F.col("day").alias("rated_on")
    )
    return {"ratings": ratings}


def reading_log_tables(good: DataFrame) -> dict[str, DataFrame]:
    log = good.select(
        "work_key", "edition_key", F.col("value").alias("shelf"), F.col("day").alias("logged_on")
    )
    return {"reading_log": log}


TABLE_BUILDERS: dict[str, Callable[[DataFrame], dict[str, DataFrame]]] = {
    "authors": authors_tables,
    "works": works_tables,
    "editions": editions_tables,
    "redirects": redirects_tables,
    "ratings": ratings_tables,
    "reading-log": reading_log_tables,
}


def _work_key() -> Column:
    """An edition's work: the first of its `works` (null when it names none)."""
    return _record("works")[0]


def _entries_without_author() -> Column:
    entries = F.coalesce(_record("authors"), F.array().cast(T.ArrayType(ENTRY)))
    return F.size(F.filter(entries, lambda entry: entry["author_key"].isNull()))


# Per dump, what its tables leave out, counted per record (metrics["skipped"]): entries of a child table
# naming nothing, and editions naming no work (kept, with work_key null).
SKIPPED: dict[str, dict[str, Callable[[], Column]]] = {
    "works": {"work_authors_without_author": _entries_without_author},
    "editions": {
        "edition_authors_without_key": _entries_without_author,
        "editions_without_work": lambda: _work_key().isNull().cast("int"),
    },
}
ISBN_COLUMNS_OF: dict[str, tuple[str, ...]] = {"editions": ISBN_COLUMNS}  # metrics["isbns_refused"]: DERIVED


def _nest(flat: dict[str, int]) -> dict[str, Any]:
    """{"a.b": 1} as {"a": {"b": 1}}."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def record_counts(good: DataFrame, dump: str) -> dict[str, Any]:
    """What the metrics count per good record, in one pass: `skipped` (SKIPPED), `coerced` (records per field
    coerced or nulled for its type), `cleaned` (escaped NULs removed) and, for editions, `isbns_refused`
    (values per ISBN column and reason). Every key is present, zeros included."""
    counts: dict[str, Column] = {f"skipped.{name}": count() for name, count in SKIPPED.get(dump, {}).items()}
    spec = DUMPS[dump].json_schema
    for field, kind in FIELDS.get(spec or "", {}).items():
        if kind != RAW:
            counts[f"coerced.{field}"] = F.array_contains("coerced", field).cast("int")
    for column in ISBN_COLUMNS_OF.get(dump, ()):
        for reason in REFUSALS:
            counts[f"isbns_refused.{column}.{reason}"] = F.col("isbns.refused")[column][reason]
    counts["cleaned.nul_removed"] = F.col("nul_removed").cast("int")
    row = good.select(*(F.sum(count) for count in counts.values())).first()
    nested = _nest({name: int(row[i] or 0) for i, name in enumerate(counts)})
    return {"skipped": {}, "coerced": {}, **nested}


RECORD_PREFIX = "record_"  # the staged frame's column of each record field


def _record_fields(dump: str) -> list[str]:
    spec = DUMPS[dump].json_schema
    return list(FIELDS[spec]) if spec else []


def stage(classified: DataFrame, dump: str) -> DataFrame:
    """The classified lines as the outputs read them, persisted once: every record field a column of its own
    (the cache is columnar, so each table reads only its fields), the raw line only of quarantined lines."""
    fields = _record_fields(dump)
    others = [name for name in classified.columns if name not in ("line", "record")]
    return classified.select(
        F.when(F.col("reason").isNotNull(), F.col("line")).alias("line"),
        *others,
        *(F.col(f"record.{name}").alias(RECORD_PREFIX + name) for name in fields),
    )


def unstage(staged: DataFrame, dump: str) -> DataFrame:
    """The staged frame with its record fields in the `record` struct again (still read only when used)."""
    fields = _record_fields(dump)
    if not fields:
        return staged
    flat = {RECORD_PREFIX + name for name in fields}
    record = F.struct(*(F.col(RECORD_PREFIX + name).alias(name) for name in fields))
    return staged.select(*(name for name in staged.columns if name not in flat), record.alias("record"))


def repeated_keys(good: DataFrame) -> DataFrame:
    """Keys that more than one good record has (a handful, or none: they are broadcast)."""
    return good.groupBy("key").count().where(F.col("count") > 1).select("key")


LinesOf = Callable[[list[str]], DataFrame]


def classify(lines: DataFrame, dump: str) -> DataFrame:
    """Every line of a dump classified: its fields and its quarantine reason (null when good)."""
    return (
        classify_records(lines, dump) if DUMPS[dump].record_type is not None else classify_rows(lines, dump)
    )


# The staged frame goes to local disk once and every output reads it back. Spark's columnar compression of a
# cached batch gathers statistics for each of its schemes on every value of each column to pick one; LZ4 over
# each whole block costs less CPU for a little more disk. Java serialisation keeps every object it wrote to a
# block until it is reset (by default every 100 objects): reset after each batch, a task holds one batch, not
# all of its part's, and the heap grows less with the dump. Measured side by side on 2 cores: 3-4 s faster at
# 400 and 1600 MB, peak RSS at 1600 MB 1.6 GiB against 1.9-2.3. run_job applies these unless the submitter set
# them.
SESSION_SETTINGS = {
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.rdd.compress": "true",
    "spark.serializer.objectStreamReset": "1",
}


class Transformed(NamedTuple):
    outputs: dict[str, DataFrame]  # the dump's tables by name
    quarantine: DataFrame
    good: DataFrame  # the records the tables are built from (record_counts counts them)
    staged: DataFrame  # persisted by transform(): unpersist it once everything is written


def transform(lines: DataFrame, dump: str, lines_of: LinesOf | None = None) -> Transformed:
    """The dump's tables, its quarantine rows and what they are built from.

    Every line is parsed once, into the staged frame. When good records share a key, only the parts that
    hold them (`lines_of(files)`; all of `lines` by default) are classified again, to rank those records
    with their raw lines (rank_repeated); a dump without repeated keys reads nothing twice.
    """
    typed = DUMPS[dump].record_type is not None
    staged = stage(classify(lines, dump), dump).persist(StorageLevel.DISK_ONLY)
    good, bad = staged.where(F.col("reason").isNull()), staged.where(F.col("reason").isNotNull())
    quarantine = tables.conform(bad, tables.QUARANTINE)
    files: list[str] = []
    if typed:
        keys = F.broadcast(repeated_keys(good))
        holding = good.join(keys, "key", "left_semi").select("source_file").distinct()
        files = sorted(row["source_file"] for row in holding.collect())  # stages every line (the first read)
    good = unstage(good, dump)
    if files:
        again = classify_records((lines_of or (lambda _: lines))(files), dump).join(keys, "key", "left_semi")
        ranked = rank_repeated(again.where(F.col("reason").isNull()))
        good = good.join(keys, "key", "left_anti").unionByName(ranked.where(F.col("reason").isNull()))
        superseded = ranked.where(F.col("reason").isNotNull())
        quarantine = quarantine.unionByName(tables.conform(superseded, tables.QUARANTINE))
    built = TABLE_BUILDERS[dump](good)
    outputs = {name: tables.conform(built[name], tables.CURATED[name]) for name in DUMPS[dump].tables}
    return Transformed(outputs, quarantine, good, staged)


# ------------------------------------------------------------------------------------------------- main


def _child(url: str, *parts: str) -> str:
    return "/".join([url.rstrip("/"), *parts])


def _parent(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[0]


def part_urls(manifest_url: str, manifest: dict[str, Any]) -> list[str]:
    """The URLs of the parts a manifest lists (beside the manifest)."""
    return [_child(_parent(manifest_url), part["path"]) for part in manifest["parts"]]


def read_back(
    spark: SparkSession, table_paths: dict[str, str], quarantine_path: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Rows of each written table and quarantined lines per reason, as the lake holds them, in one Spark job:
    the tables are read with their contract's schema (no footer read to infer one) and only their row
    counts; the quarantine's reason column."""
    frames = [
        spark.read.schema(tables.CURATED[name])
        .parquet(path)
        .select(F.lit(name).alias("table"), F.lit(None).cast("string").alias("reason"))
        for name, path in table_paths.items()
    ]
    quarantine = spark.read.schema(tables.QUARANTINE).parquet(quarantine_path)
    frames.append(quarantine.select(F.lit(None).cast("string").alias("table"), "reason"))
    counts: dict[str, int] = dict.fromkeys(table_paths, 0)
    reasons: dict[str, int] = {}
    union = functools.reduce(DataFrame.union, frames)
    for row in union.groupBy("table", "reason").count().collect():
        if row["table"] is None:
            reasons[row["reason"]] = row["count"]
        else:
            counts[row["table"]] = row["count"]
    return counts, reasons


def run(spark: SparkSession, args: TransformArgs) -> dict[str, Any]:
    """Read the parts listed in the manifest, write tables and quarantine, check and write metrics."""
    clock = Stopwatch()
    spark.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")  # unparseable dates are null, not errors
    manifest = read_json(spark, args.manifest)
    lines = read_lines(spark, part_urls(args.manifest, manifest))
    outputs = DUMPS[args.dump].tables
    steps = ["read and stage", *(f"write {name}" for name in outputs), "write quarantine", "count and check"]
    with ProgressPrinter(spark, steps) as progress:
        progress.step("read and stage")
        done = transform(lines, args.dump, lambda files: read_lines(spark, files))
        outputs, quarantine = done.outputs, done.quarantine
        try:
            for name, frame in outputs.items():
                progress.step(f"write {name}")
                frame.write.mode("overwrite").parquet(_child(args.curated, name))
            progress.step("write quarantine")
            quarantine.write.mode("overwrite").parquet(args.quarantine)
            progress.step("count and check")
            counted = record_counts(done.good, args.dump)
        finally:
            done.staged.unpersist()
        counts, reasons = read_back(
            spark, {name: _child(args.curated, name) for name in outputs}, args.quarantine
        )
    primary = DUMPS[args.dump].primary
    metrics = {
        "dump": args.dump,
        "release": manifest.get("release"),
        "lines": manifest["lines"],
        "tables": counts,
        "written": counts[primary],
        "quarantined": dict(sorted(reasons.items())),
        "quarantined_total": sum(reasons.values()),
        **counted,
        "duration_s": clock.seconds(),
    }
    if metrics["written"] + metrics["quarantined_total"] != metrics["lines"]:
        raise RuntimeError(
            f"{args.dump}: {metrics['written']} rows + {metrics['quarantined_total']} quarantined "
            f"!= {metrics['lines']} lines in {args.manifest}"
        )
    write_json(spark, args.metrics, metrics)
    return metrics


def main(argv: Sequence[str] | None = None) -> None:
    args = TransformArgs.parse(argv, description=__doc__ or "")
    run_job(f"transform_dump {args.dump}", run, args, SESSION_SETTINGS)


if __name__ == "__main__":
    main()
