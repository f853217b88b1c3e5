"""The table contract: schemas of every curated table, mart and quarantine table (the schema names of
spark/catalog.py: "curated" is CURATED[table], "marts" is MARTS[mart], "quarantine" is QUARANTINE).
Which dump feeds which table is spark/catalog.py's DUMPS.

Later checks, the marts job and users read these names; change them only with a migration.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

STRING = T.StringType()
INT = T.IntegerType()
LONG = T.LongType()
STRINGS = T.ArrayType(T.StringType())


def _schema(*fields: tuple[str, T.DataType]) -> T.StructType:
    return T.StructType([T.StructField(name, dtype, nullable=True) for name, dtype in fields])


CURATED: dict[str, T.StructType] = {
    "authors": _schema(
        ("author_key", STRING),
        ("name", STRING),
        ("personal_name", STRING),
        ("fuller_name", STRING),
        ("alternate_names", STRINGS),
        ("birth_date", STRING),
        ("death_date", STRING),
        ("bio", STRING),
        ("remote_ids", T.MapType(STRING, STRING)),
        ("revision", INT),
        ("created", T.TimestampType()),
        ("last_modified", T.TimestampType()),
    ),
    "works": _schema(
        ("work_key", STRING),
        ("title", STRING),
        ("subtitle", STRING),
        ("first_publish_date", STRING),
        ("description", STRING),
        ("subjects", STRINGS),
        ("subject_places", STRINGS),
        ("subject_people", STRINGS),
        ("subject_times", STRINGS),
        ("covers", T.ArrayType(LONG)),
        ("revision", INT),
        ("created", T.TimestampType()),
        ("last_modified", T.TimestampType()),
    ),
    "work_authors": _schema(
        ("work_key", STRING),
        ("author_key", STRING),
        ("ordinal", INT),
        ("role", STRING),
    ),
    "editions": _schema(
        ("edition_key", STRING),
        ("work_key", STRING),
        ("title", STRING),
        ("subtitle", STRING),
        ("publishers", STRINGS),
        ("publish_date", STRING),
        ("publish_year", INT),
        ("number_of_pages", INT),
        ("physical_format", STRING),
        ("languages", STRINGS),
        ("isbn_10", STRINGS),
        ("isbn_13", STRINGS),
        ("lccn", STRINGS),
        ("oclc_numbers", STRINGS),
        ("ocaid", STRING),
        ("revision", INT),
        ("created", T.TimestampType()),
        ("last_modified", T.TimestampType()),
    ),
    "edition_authors": _schema(
        ("edition_key", STRING),
        ("author_key", STRING),
        ("ordinal", INT),
    ),
    "edition_isbns": _schema(
        ("edition_key", STRING),
        ("isbn13", STRING),
    ),
    "ratings": _schema(
        ("work_key", STRING),
        ("edition_key", STRING),
        ("rating", INT),
        ("rated_on", T.DateType()),
    ),
    "reading_log": _schema(
        ("work_key", STRING),
        ("edition_key", STRING),
        ("shelf", STRING),
        ("logged_on", T.DateType()),
    ),
    "redirects": _schema(
        ("from_key", STRING),
        ("to_key", STRING),
    ),
}

MARTS: dict[str, T.StructType] = {  # in the order of catalog.MARTS
    "dim_author": _schema(
        ("author_key", STRING),
        ("name", STRING),
        ("birth_date", STRING),
        ("death_date", STRING),
        ("work_count", LONG),
    ),
    "dim_work": _schema(
        ("work_key", STRING),
        ("title", STRING),
        ("first_publish_year", INT),
        ("author_keys", STRINGS),
        ("subjects", STRINGS),
        ("edition_count", LONG),
        ("rating_count", LONG),
        ("rating_avg", T.DoubleType()),
        ("want_to_read", LONG),
        ("currently_reading", LONG),
        ("already_read", LONG),
        ("stopped_reading", LONG),
    ),
    "dim_subject": _schema(
        ("subject", STRING),
        ("work_count", LONG),
    ),
    "fct_ratings": _schema(
        ("work_key", STRING),
        ("edition_key", STRING),
        ("rating", INT),
        ("rated_on", T.DateType()),
    ),
    "fct_shelves": _schema(
        ("work_key", STRING),
        ("edition_key", STRING),
        ("shelf", STRING),
        ("logged_on", T.DateType()),
    ),
    "dim_edition": _schema(
        ("edition_key", STRING),
        ("work_key", STRING),
        ("author_keys", STRINGS),
        ("title", STRING),
        ("publish_year", INT),
        ("publishers", STRINGS),
        ("languages", STRINGS),
        ("isbn13s", STRINGS),
    ),
    "isbn_lookup": _schema(
        ("isbn13", STRING),
        ("edition_key", STRING),
        ("edition_title", STRING),
        ("publish_year", INT),
        ("work_key", STRING),
        ("work_title", STRING),
        ("author_keys", STRINGS),
        ("author_names", STRINGS),
    ),
    "data_quality": _schema(
        ("measure", STRING),
        ("table_name", STRING),
        ("column_name", STRING),
        ("detail", STRING),
        ("count", LONG),
        ("total", LONG),
        ("share", T.DoubleType()),
    ),
}

QUARANTINE = _schema(
    ("line", STRING),
    ("reason", STRING),
    ("source_file", STRING),
)

# Why a line went to quarantine. Every input line is either a row of its dump's primary table or
# one quarantine row carrying exactly one of these reasons (the first that applies, in this order).
INVALID_UTF8 = "invalid_utf8"
WRONG_COLUMN_COUNT = "wrong_column_count"
INVALID_JSON = "invalid_json"
UNEXPECTED_TYPE = "unexpected_type"
MISSING_KEY = "missing_key"
INVALID_VALUE = "invalid_value"
SUPERSEDED_REVISION = "superseded_revision"
REASONS = (
    INVALID_UTF8,
    WRONG_COLUMN_COUNT,
    INVALID_JSON,
    UNEXPECTED_TYPE,
    MISSING_KEY,
    INVALID_VALUE,
    SUPERSEDED_REVISION,
)


def conform(frame: DataFrame, schema: T.StructType) -> DataFrame:
    """Exactly the contract's columns, in its order, with its types."""
    return frame.select(
        *(F.col(field.name).cast(field.dataType).alias(field.name) for field in schema.fields)
    )
