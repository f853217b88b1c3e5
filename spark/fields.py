"""How the transform reads the JSON fields of a record, whatever their type turns out to be.

Each field has a kind: the type the record's one parse declares for it, and how its value is normalised.
A value of an unexpected type never loses the record: it is coerced where the meaning is plain (a lone value
where a list is expected is a one-element list: "Penguin" -> ["Penguin"], 123 -> [123] covers) or null, and
the field is named in the record's `coerced` list (counted in the metrics). So are lists that lost an
element holding nothing (null, or an object with neither `value` nor `key`) and text objects with no
`value`. A number or boolean where text is expected is kept as its text, and not counted.

The record's JSON is parsed once. Only records that need it are parsed a second time, whole: a record with
a value the typed parse refused (as a map of raw texts, to coerce it), or with a text field that starts with
"[" (to tell the list [1985] from the text "[1985]"). Elements and text objects are parsed on their own text.
"""

from collections.abc import Callable, Mapping
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark.parse import CORRUPT, is_object, key_of, object_of, subject_name, text_value

S = T.StringType()

RAW = "raw"  # kept as the parse gives it (a string; a non-string as its JSON text)
TEXT = "text"  # a string or {"type": "/type/text", "value": ...}
TEXTS = "texts"  # a list of TEXT
SUBJECTS = "subjects"  # a list of TEXT or {"key": "/subjects/place:london"} (-> "london")
KEYS = "keys"  # a list of references: "/works/OL1W" or {"key": "/works/OL1W"}
INTS = "ints"  # a list of integers (a number or a digit string), other elements left out
AUTHORS = "authors"  # a list of author entries -> {author_key, role}; entries naming no author kept (null)
MAP = "map"  # an object of texts (remote_ids)

LISTS = (TEXTS, SUBJECTS, KEYS, INTS, AUTHORS)
ENTRY = T.StructType([T.StructField("author_key", S), T.StructField("role", S)])
_OBJECT = T.StructType([T.StructField(name, S) for name in ("value", "key", "author", "role", CORRUPT)])
_RAW_TEXTS = T.MapType(S, S)


def parse_type(kind: str) -> T.DataType:
    """What the record's parse declares: lists as lists of raw texts, objects of texts as maps, else text."""
    return T.ArrayType(S) if kind in LISTS else T.MapType(S, S) if kind == MAP else S


def parse_schema(fields: Mapping[str, str]) -> T.StructType:
    """The record's parse: every field by its kind, and the corrupt-record column."""
    return T.StructType(
        [T.StructField(name, parse_type(kind)) for name, kind in fields.items()] + [T.StructField(CORRUPT, S)]
    )


# {"key": "..."} alone, as the parse gives an object back (compact JSON), with no escape in the key: most
# references (works, authors, languages) are exactly this, and need no JSON parser of their own.
_BARE_REFERENCE = r'^\{"key":"([^"\\]*)"\}$'
# {"type": "/type/text" or "/type/datetime", "value": "..."} alone, with no escape in the value: every
# record's created and last_modified, and most text objects.
_BARE_VALUE = r'^\{"type":"/type/(?:text|datetime)","value":"([^"\\]*)"\}$'


def _object(text: Column, patterns: bool = True) -> Column:
    """Text starting with "{" parsed as an object of texts (see parse.object_of), else null. With `patterns`,
    a bare reference or a bare text value is read by a pattern instead of the JSON parser (an empty one
    still goes to the parser, which tells it from no match)."""
    if not patterns:
        return object_of(text, _OBJECT)
    found = {
        "key": F.regexp_extract(text, _BARE_REFERENCE, 1),
        "value": F.regexp_extract(text, _BARE_VALUE, 1),
    }
    nothing = F.lit(None).cast(S)

    def only(field: str) -> Column:
        return F.struct(*((found[field] if name == field else nothing).alias(name) for name in _OBJECT.names))

    parsed = F.when(found["key"] != "", only("key")).when(found["value"] != "", only("value"))
    return F.when(text.startswith("{"), parsed.otherwise(object_of(text, _OBJECT)))


def _element(kind: str, element: Column) -> Column:
    """A list element (its text and its parse as an object) normalised; null when it holds nothing."""
    text, parsed = element["text"], element["parsed"]
    an_object = is_object(parsed)
    if kind == TEXTS:
        return F.when(an_object, parsed["value"]).otherwise(text)
    if kind == SUBJECTS:
        return F.when(an_object, F.coalesce(parsed["value"], subject_name(parsed["key"]))).otherwise(text)
    if kind == KEYS:
        key = F.when(an_object, parsed["key"]).otherwise(text)
        return F.when(F.trim(key) != "", key)
    if kind == INTS:
        return F.when(F.trim(text).rlike(r"^-?[0-9]{1,18}$"), F.trim(text).cast("bigint"))
    author = F.when(an_object, F.coalesce(key_of(parsed["author"]), key_of(parsed["key"]))).otherwise(
        key_of(text)
    )
    return F.struct(author.alias("author_key"), text_value(parsed["role"]).alias("role"))


def _reader(kind: str) -> Callable[[Column], Column]:
    """_element for one kind as a one-argument function (F.transform takes a second one as the index)."""
    return lambda element: _element(kind, element)


def _column(name: str) -> str:
    return f"_field_{name}"


# Lists whose every element has the commonest shape are read by patterns over the list joined by "\n" (a few
# compiled string functions per record), not element by element (Spark evaluates per-element functions
# without code generation). Anything else, or any doubt, takes the general path (`_general_list`); the tests
# check both give the same record. A "plain" key: no whitespace, quote or backslash.
_KEY = r'[^"\\\s]+'
_REFERENCE = r'\{"key":"' + _KEY + r'"\}'
_REFERENCE_KEY = r'\{"key":"(' + _KEY + r')"\}'  # group 1: the key
_ROLE_TYPE = r'"type":(?:"/type/author_role"|\{"key":"/type/author_role"\})'
_AUTHOR_ENTRY = rf'\{{(?:{_ROLE_TYPE},)?"author":{_REFERENCE}(?:,{_ROLE_TYPE})?\}}|{_REFERENCE}'
_AUTHOR_KEY = r'(?<=^\{"key":"|\n\{"key":"|"author":\{"key":")' + _KEY  # the key of each such entry
_INT = r"-?[0-9]{1,18}"
_NULL = "\u0000"  # stands for a null element in the joined list (NUL never survives the JSON parse)


def _every(element: str) -> str:
    """A pattern matching a joined list all of whose elements match `element`."""
    return rf"^(?:{element})(?:\n(?:{element}))*$"


def _plain_list(kind: str, listed: Column, joined: Column) -> tuple[Column, Column]:
    """(whether the list is plain for its kind, its value read the plain way): texts with no element an
    object or null; integers in digits; bare references; author entries of the two common shapes."""
    empty = F.size(listed) == 0
    if kind in (TEXTS, SUBJECTS):
        objects_or_nulls = joined.startswith("{") | joined.contains("\n{") | joined.contains(_NULL)
        return ~objects_or_nulls, listed
    if kind == INTS:
        return empty | joined.rlike(_every(_INT)), listed.cast(T.ArrayType(T.LongType()))
    if kind == KEYS:
        keys = F.regexp_extract_all(joined, F.lit(_REFERENCE_KEY), 1)
        return empty | joined.rlike(_every(_REFERENCE)), keys
    keys = F.regexp_extract_all(joined, F.lit(_AUTHOR_KEY), 0)
    roles = F.array_repeat(F.lit(None).cast(S), F.size(keys))
    entries = F.when(keys.isNotNull(), F.arrays_zip(keys, roles).cast(T.ArrayType(ENTRY)))
    return empty | joined.rlike(_every(_AUTHOR_ENTRY)), entries


def _general_list(kind: str, listed: Column, patterns: bool = True) -> Column:
    """Any list of `kind`, element by element: each parsed as an object when it is one (see _object), then
    normalised; elements holding nothing left out (author entries kept, naming no author)."""
    elements = F.transform(
        listed, lambda text: F.struct(text.alias("text"), _object(text, patterns).alias("parsed"))
    )
    read = F.transform(elements, _reader(kind))
    return read if kind == AUTHORS else F.filter(read, lambda value: value.isNotNull())


def read_fields(
    parsed: DataFrame, fields: Mapping[str, str], json_text: str = "json", plain: bool = True
) -> DataFrame:
    """`parsed` with `typed` (the record's parse by parse_schema(fields)) and `json_text`: the same frame
    plus `record` (the normalised fields), `coerced` (names of the fields coerced or nulled for their type)
    and `json_object` (whether the JSON is an object at all); the helper columns dropped.

    `plain`: plain lists and bare objects read by patterns (_plain_list, _object); False: everything by the
    general path, the JSON parser and per-element functions (the tests check both give the same)."""
    typed = F.col("typed")
    texts = [name for name, kind in fields.items() if kind == TEXT]
    lists = [name for name, kind in fields.items() if kind in LISTS or kind == MAP]
    starts_as_list = reduce(lambda a, b: a | b, (typed[name].startswith("[") for name in texts), F.lit(False))
    probed = parsed.select(
        "*",
        F.when(typed[CORRUPT].isNotNull(), F.from_json(json_text, _RAW_TEXTS)).alias("_raw"),
        F.when(
            starts_as_list,
            F.from_json(json_text, T.StructType([T.StructField(n, T.ArrayType(S)) for n in texts])),
        ).alias("_lists"),
    )
    wrong = {name: typed[name].isNull() & F.col("_raw")[name].isNotNull() for name in lists}
    listed = {
        name: F.when(wrong[name], F.array(F.col("_raw")[name])).otherwise(typed[name])
        for name, kind in fields.items()
        if kind in LISTS
    }
    prepared = probed.select(
        "*",
        *(_object(typed[name], plain).alias(_column(name)) for name in texts),
        *(value.alias(_column(name)) for name, value in listed.items()),
        *(F.array_join(F.col(_column(name)), "\n", _NULL).alias(f"_joined_{name}") for name in listed),
        *(wrong[name].alias(f"_wrong_{name}") for name in lists),
    )
    values, flags = {}, {}
    for name, kind in fields.items():
        column = F.col(_column(name))
        if kind == RAW:
            values[name] = typed[name]
        elif kind == TEXT:
            is_list = F.col("_lists")[name].isNotNull()
            values[name] = F.when(~is_list, F.when(is_object(column), column["value"]).otherwise(typed[name]))
            flags[name] = is_list | (is_object(column) & column["value"].isNull())
        elif kind == MAP:
            values[name] = F.when(~F.col(f"_wrong_{name}"), typed[name])
        elif plain:
            is_plain, value = _plain_list(kind, column, F.col(f"_joined_{name}"))
            values[name] = F.when(column.isNull() | is_plain, value).otherwise(_general_list(kind, column))
        else:
            values[name] = _general_list(kind, column, patterns=False)
    read = prepared.select("*", *(values[name].alias(f"_value_{name}") for name in fields))
    for name, kind in fields.items():
        if kind in LISTS or kind == MAP:
            flags[name] = F.coalesce(F.col(f"_wrong_{name}"), F.lit(False))
        if kind in LISTS and kind != AUTHORS:
            flags[name] = flags[name] | (F.size(F.col(f"_value_{name}")) < F.size(F.col(_column(name))))
    record = F.struct(
        *(
            F.when(
                ~F.col(f"_wrong_{name}") | (F.size(F.col(f"_value_{name}")) > 0)
                if kind in LISTS
                else F.lit(True),
                F.col(f"_value_{name}"),
            ).alias(name)
            for name, kind in fields.items()
        )
    )
    named = F.array(
        *(F.when(flags[name], F.lit(name)).otherwise(F.lit("")) for name in fields if name in flags)
    )
    coerced = F.array_remove(named, "")  # compiled, where a filter would run per element
    json_object = typed.isNotNull() & (typed[CORRUPT].isNull() | F.col("_raw").isNotNull())
    helpers = [c for c in read.columns if c.startswith("_") or c in ("typed", json_text)]
    return read.select(
        "*", record.alias("record"), coerced.alias("coerced"), json_object.alias("json_object")
    ).drop(*helpers)
