"""Column expressions that normalise Open Library's messy JSON shapes. Pure: no I/O, no session."""

from pyspark.sql import Column
from pyspark.sql import functions as F


def text_value(column: Column) -> Column:
    """A text field given as a plain string or as {"type": "/type/text", "value": ...}: the plain string.

    Object-valued fields arrive as their raw JSON text (the parse schema declares them as strings).
    """
    return F.when(column.startswith("{"), F.coalesce(F.get_json_object(column, "$.value"), column)).otherwise(
        column
    )


def key_of(column: Column) -> Column:
    """A reference given as {"key": "/authors/OL1A"} or as the plain key string: the key, or null."""
    key = F.when(column.startswith("{"), F.get_json_object(column, "$.key")).otherwise(column)
    return F.when(F.trim(key) != "", key)


def keys_of(column: Column) -> Column:
    """An array of references: their keys, in order, without the entries that name none."""
    return F.filter(F.transform(F.coalesce(column, F.array()), key_of), lambda key: key.isNotNull())


def timestamp_of(column: Column) -> Column:
    """{"type": "/type/datetime", "value": "2008-04-01T03:28:50.625462"} (or a bare string): a timestamp."""
    return F.to_timestamp(text_value(column))


def publish_year(column: Column) -> Column:
    """The first standalone four-digit run of a free-text date ("December 23, 1998", "c1985"), or null."""
    year = F.regexp_extract(column, r"(?<![0-9])([0-9]{4})(?![0-9])", 1)
    return F.when(year != "", year.cast("int"))


def language_codes(column: Column) -> Column:
    """[{"key": "/languages/eng"}] as ["eng"]."""
    return F.transform(keys_of(column), lambda key: F.regexp_extract(key, r"([^/]+)$", 1))


def integers(column: Column) -> Column:
    """An array of JSON values as bigints, leaving out the ones that are not integers."""
    return F.filter(
        F.transform(
            F.coalesce(column, F.array()),
            lambda value: F.when(F.trim(value).rlike(r"^-?[0-9]{1,18}$"), F.trim(value).cast("bigint")),
        ),
        lambda value: value.isNotNull(),
    )


def integer(column: Column) -> Column:
    """A JSON value as an int when it is one (120 or "120"), else null."""
    return F.when(F.trim(column).rlike(r"^-?[0-9]{1,9}$"), F.trim(column).cast("int"))


def isbn10_to_13(isbn10: Column) -> Column:
    """A cleaned ISBN-10 (nine digits + check character) as ISBN-13: prefix 978, check digit recomputed."""
    core = F.concat(F.lit("978"), isbn10.substr(F.lit(1), F.lit(9)))
    weighted = F.aggregate(
        F.sequence(F.lit(0), F.lit(11)),
        F.lit(0),
        lambda total, i: (
            total + core.substr(i + F.lit(1), F.lit(1)).cast("int") * F.when(i % 2 == 0, 1).otherwise(3)
        ),
    )
    return F.concat(core, ((10 - weighted % 10) % 10).cast("string"))


def isbn13s(isbn_10: Column, isbn_13: Column) -> Column:
    """Distinct ISBN-13s of an edition: hyphens/spaces removed, ISBN-10s converted, other shapes left out."""
    cleaned = F.transform(
        F.concat(F.coalesce(isbn_10, F.array()), F.coalesce(isbn_13, F.array())),
        lambda value: F.upper(F.regexp_replace(value, r"[\s-]", "")),
    )
    converted = F.transform(
        cleaned,
        lambda x: F.when(x.rlike(r"^[0-9]{9}[0-9X]$"), isbn10_to_13(x)).when(x.rlike(r"^[0-9]{13}$"), x),
    )
    return F.array_distinct(F.filter(converted, lambda value: value.isNotNull()))
