"""ISBNs as Open Library gives them ("0-89471-984-X", "0110880358 (pbk.)", "0110880358, 0110880366"): the
ISBN-13s they hold, check digits checked, and the values refused by reason. Pure column expressions.

Either column (isbn_10 or isbn_13) may hold either form: Open Library has ISBN-13s in isbn_10 and back.
"""

import operator
from collections.abc import Callable, Iterable
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# A run of digits with single hyphens or spaces inside, optionally ending in the ISBN-10 check character X.
_TOKEN = r"[0-9](?:[ -]?[0-9])*(?:[ -]?[Xx])?"
BAD_LENGTH = "bad_length"  # a value holding no ISBN-shaped run (10 characters, or 13 digits)
BAD_CHECKSUM = "bad_checksum"  # an ISBN-shaped run whose check digit is wrong
REFUSALS = (BAD_LENGTH, BAD_CHECKSUM)
_BARE = r"^[0-9]{9}[0-9Xx]$|^[0-9]{13}$"  # a value that is one ISBN-shaped run as it stands
ISBN_COLUMNS = ("isbn_10", "isbn_13")  # the editions columns ISBNs are read from


def _digit(isbn: Column, i: int) -> Column:
    """The i-th character (from 0) as a digit's value (by its code: the checks have made sure it is one)."""
    return F.ascii(isbn.substr(i + 1, 1)) - 48


def _check_character(isbn10: Column) -> Column:
    """The ISBN-10's tenth character as its value: X is 10."""
    last = isbn10.substr(10, 1)
    return F.when(last == "X", F.lit(10)).otherwise(F.ascii(last) - 48)


def _weighted_sum(isbn: Column, length: int, weight: Callable[[int], int]) -> Column:
    """The sum of the first `length` digits times their weights, written out (no per-digit loop to run)."""
    return reduce(operator.add, (_digit(isbn, i) * weight(i) for i in range(length)))


def _isbn13_weight(i: int) -> int:
    return 1 if i % 2 == 0 else 3


def isbn10_valid(isbn: Column) -> Column:
    """Nine digits + a check character whose weighted sum (weights 10..1, X = 10) is divisible by 11."""
    weighted = _weighted_sum(isbn, 9, lambda i: 10 - i) + _check_character(isbn)
    return isbn.rlike(r"^[0-9]{9}[0-9X]$") & (weighted % 11 == 0)


def isbn13_valid(isbn: Column) -> Column:
    """Thirteen digits whose weighted sum (weights 1, 3, 1, 3, ...) is divisible by 10."""
    return isbn.rlike(r"^[0-9]{13}$") & (_weighted_sum(isbn, 13, _isbn13_weight) % 10 == 0)


def isbn10_to_13(isbn10: Column) -> Column:
    """A valid ISBN-10 as ISBN-13: prefix 978, the first nine digits, the ISBN-13 check digit (978 weighs
    9*1 + 7*3 + 8*1 = 38; the nine digits then take the weights 3, 1, 3, ...)."""
    weighted = F.lit(38) + _weighted_sum(isbn10, 9, lambda i: 3 if i % 2 == 0 else 1)
    check = ((10 - weighted % 10) % 10).cast("string")
    return F.concat(F.lit("978"), isbn10.substr(F.lit(1), F.lit(9)), check)


def isbn_shaped(value: Column) -> Column:
    """The ISBN-shaped runs of one value, hyphens and spaces removed, X upper-cased (maybe none)."""
    runs = F.transform(
        F.regexp_extract_all(value, F.lit(_TOKEN), 0), lambda run: F.upper(F.regexp_replace(run, r"[ -]", ""))
    )
    already = F.array(F.upper(value))  # most values are one bare ISBN: no extraction needed
    return F.when(value.rlike(_BARE), already).otherwise(F.filter(runs, lambda run: run.rlike(_BARE)))


def isbn13_of(isbn: Column) -> Column:
    """An ISBN-shaped run as ISBN-13 when its check digit is right, else null."""
    return F.when(F.length(isbn) == 10, F.when(isbn10_valid(isbn), isbn10_to_13(isbn))).otherwise(
        F.when(isbn13_valid(isbn), isbn)
    )


def _let(value: Column, body: Callable[[Column], Column]) -> Column:
    """body(value), with `value` computed once however often body uses it."""
    return F.transform(F.array(value), body)[0]


def _checked(values: Column) -> Column:
    """One column's values: {bad_length: how many hold no ISBN-shaped run, found: the ISBN-13 of each run
    found, null where its check digit is wrong}."""
    values = F.filter(F.coalesce(values, F.array()), lambda value: value.isNotNull())
    runs = F.transform(values, isbn_shaped)
    return _let(
        runs,
        lambda runs: F.struct(
            F.size(F.filter(runs, lambda found: F.size(found) == 0)).alias(BAD_LENGTH),
            F.transform(F.flatten(runs), isbn13_of).alias("found"),
        ),
    )


FEW = 2  # bare values per column that the common path checks


def with_isbn_checks(frame: DataFrame, isbn_10: Column, isbn_13: Column, name: str) -> DataFrame:
    """`frame` plus column `name`: everything the transform needs of an edition's ISBNs, each value read once:
    {isbn13s: the distinct valid ISBN-13s (ISBN-10s converted), refused: {isbn_10|isbn_13: {bad_length,
    bad_checksum}}}.

    Nearly every edition has at most FEW values per column, each one bare ISBN: the common path checks those
    with plain expressions, compiled with the rest of the row (each value taken out once, as a column of its
    own); any other edition goes through isbn_checks, the general path of per-element functions.
    """
    columns = {"isbn_10": F.coalesce(isbn_10, F.array()), "isbn_13": F.coalesce(isbn_13, F.array())}
    slots = {(column, i): f"_isbn_{column}_{i}" for column in columns for i in range(FEW)}
    taken = frame.select(
        "*",
        *(F.upper(F.get(columns[column], i)).alias(slot) for (column, i), slot in slots.items()),
        _few_and_bare(columns.values()).alias("_isbn_few"),
    )
    checked = taken.select("*", *(isbn13_of(F.col(slot)).alias(f"{slot}_13") for slot in slots.values()))
    common = _few_checked({column: [slots[column, i] for i in range(FEW)] for column in columns})
    isbns = F.when(F.col("_isbn_few"), common).otherwise(isbn_checks(isbn_10, isbn_13))
    return checked.select(*frame.columns, isbns.alias(name))


def isbn_checks(isbn_10: Column, isbn_13: Column) -> Column:
    """with_isbn_checks' column for any values (every ISBN-shaped run of every value) as one expression."""
    return _checked_in_general({"isbn_10": isbn_10, "isbn_13": isbn_13})


def _few_and_bare(columns: Iterable[Column]) -> Column:
    conditions = []
    for values in columns:
        conditions.append(F.size(values) <= FEW)
        conditions += [F.coalesce(F.get(values, i).rlike(_BARE), F.lit(True)) for i in range(FEW)]
    return reduce(operator.and_, conditions)


def _few_checked(slots: dict[str, list[str]]) -> Column:
    """The checks of columns of at most FEW bare values (none refused for its length), from the value slots
    and their ISBN-13s (slot + "_13")."""
    refusals = {}
    for column, names in slots.items():
        wrong = [(F.col(name).isNotNull() & F.col(f"{name}_13").isNull()).cast("int") for name in names]
        checksums = reduce(operator.add, wrong).alias(BAD_CHECKSUM)
        refusals[column] = F.struct(F.lit(0).alias(BAD_LENGTH), checksums)
    every = F.array(*(F.col(f"{name}_13") for names in slots.values() for name in names))
    return F.struct(
        F.array_except(every, F.array(F.lit(None).cast("string"))).alias("isbn13s"),  # distinct, no nulls
        F.struct(*(refusal.alias(column) for column, refusal in refusals.items())).alias("refused"),
    )


def _checked_in_general(columns: dict[str, Column]) -> Column:
    both = F.struct(*(_checked(values).alias(name) for name, values in columns.items()))

    def summary(checked: Column) -> Column:
        found = F.concat(*(checked[column]["found"] for column in ISBN_COLUMNS))
        refusals = {
            column: F.struct(
                checked[column][BAD_LENGTH].alias(BAD_LENGTH),
                F.size(F.filter(checked[column]["found"], lambda isbn: isbn.isNull())).alias(BAD_CHECKSUM),
            )
            for column in ISBN_COLUMNS
        }
        return F.struct(
            F.array_distinct(F.filter(found, lambda isbn: isbn.isNotNull())).alias("isbn13s"),
            F.struct(*(refusal.alias(column) for column, refusal in refusals.items())).alias("refused"),
        )

    return _let(both, summary)


def isbn13s(isbn_10: Column, isbn_13: Column) -> Column:
    """Distinct valid ISBN-13s of an edition's two columns; ISBN-10s converted, the rest left out."""
    return isbn_checks(isbn_10, isbn_13)["isbn13s"]


def refused(values: Column, reason: str) -> Column:
    """How many of one column's values hold no ISBN (BAD_LENGTH) or ISBN-shaped runs with a wrong check
    digit (BAD_CHECKSUM, one per run)."""
    return isbn_checks(values, F.array())["refused"]["isbn_10"][reason]
