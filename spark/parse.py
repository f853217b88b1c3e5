"""Column expressions that normalise Open Library's messy JSON shapes. Pure: no I/O, no session."""

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT = "_corrupt"  # the column a permissive parse puts text that isn't JSON in
PERMISSIVE = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
_TEXT_OBJECT = T.StructType([T.StructField("value", T.StringType()), T.StructField(CORRUPT, T.StringType())])


def object_of(text: Column, schema: T.StructType) -> Column:
    """Text starting with "{" parsed by `schema` (which has a CORRUPT field, set when the text is not
    JSON); null for any other text."""
    return F.when(text.startswith("{"), F.from_json(text, schema, PERMISSIVE))


def is_object(parsed: Column) -> Column:
    """Whether object_of() found a JSON object."""
    return parsed.isNotNull() & parsed[CORRUPT].isNull()


def text_value(column: Column) -> Column:
    """A text field given as a plain string or as {"type": "/type/text", "value": ...}: the plain string.

    Object-valued fields arrive as their raw JSON text (the parse schema declares them as strings); an object
    with no `value` is null, not its JSON text. Text that starts with "{" but is not JSON stays as it is.
    """
    parsed = object_of(column, _TEXT_OBJECT)
    return F.when(is_object(parsed), parsed["value"]).otherwise(column)


def subject_name(key: Column) -> Column:
    """A subject key ("/subjects/science_fiction", "/subjects/place:new_york") as its name ("science
    fiction", "new york"): the kind prefix (place:, person:, time:) dropped, underscores as spaces."""
    name = F.regexp_extract(key, r"^/subjects/(?:(?:place|person|time):)?(.+)$", 1)
    return F.when(name != "", F.regexp_replace(name, "_", " "))


def key_of(column: Column) -> Column:
    """A reference given as {"key": "/authors/OL1A"} or as the plain key string: the key, or null."""
    key = F.when(column.startswith("{"), F.get_json_object(column, "$.key")).otherwise(column)
    return F.when(F.trim(key) != "", key)


def timestamp_of(column: Column) -> Column:
    """{"type": "/type/datetime", "value": "2008-04-01T03:28:50.625462"} (or a bare string): a timestamp."""
    return F.to_timestamp(text_value(column))


def publish_year(column: Column) -> Column:
    """The first standalone four-digit run of a free-text date ("December 23, 1998", "c1985"), or null."""
    year = F.regexp_extract(column, r"(?<![0-9])([0-9]{4})(?![0-9])", 1)
    return F.when(year != "", year.cast("int"))


def language_codes(keys: Column) -> Column:
    """Language keys ["/languages/eng"] as codes ["eng"]."""
    return F.transform(keys, lambda key: F.regexp_extract(key, r"([^/]+)$", 1))


def integer(column: Column) -> Column:
    """A JSON value as an int when it is one (120 or "120"), else null."""
    return F.when(F.trim(column).rlike(r"^-?[0-9]{1,9}$"), F.trim(column).cast("int"))
