"""ISBNs as Open Library gives them ("0-89471-984-X", "0110880358 (pbk.)", "0110880358, 0110880366"): the
ISBN-13s they hold, check digits checked, and the values refused by reason. Pure column expressions.

Either column (isbn_10 or isbn_13) may hold either form: Open Library has ISBN-13s in isbn_10 and back.
"""

from pyspark.sql import Column
from pyspark.sql import functions as F

# A run of digits with single hyphens or spaces inside, optionally ending in the ISBN-10 check character X.
_TOKEN = r"[0-9](?:[ -]?[0-9])*(?:[ -]?[Xx])?"
BAD_LENGTH = "bad_length"  # a value holding no ISBN-shaped run (10 characters, or 13 digits)
BAD_CHECKSUM = "bad_checksum"  # an ISBN-shaped run whose check digit is wrong
REFUSALS = (BAD_LENGTH, BAD_CHECKSUM)
ISBN_COLUMNS = ("isbn_10", "isbn_13")  # the editions columns ISBNs are read from


def _digit(isbn: Column, i: Column) -> Column:
    """The i-th character (from 0) as its value; the check character X is 10."""
    character = isbn.substr(i + F.lit(1), F.lit(1))
    return F.when(character == "X", F.lit(10)).otherwise(character.cast("int"))


def _weighted_sum(isbn: Column, length: int, weight) -> Column:
    return F.aggregate(
        F.sequence(F.lit(0), F.lit(length - 1)),
        F.lit(0),
        lambda total, i: total + _digit(isbn, i) * weight(i),
    )


def isbn10_valid(isbn: Column) -> Column:
    """Nine digits + a check character whose weighted sum (weights 10..1, X = 10) is divisible by 11."""
    return isbn.rlike(r"^[0-9]{9}[0-9X]$") & (_weighted_sum(isbn, 10, lambda i: 10 - i) % 11 == 0)


def isbn13_valid(isbn: Column) -> Column:
    """Thirteen digits whose weighted sum (weights 1, 3, 1, 3, ...) is divisible by 10."""
    return isbn.rlike(r"^[0-9]{13}$") & (
        _weighted_sum(isbn, 13, lambda i: F.when(i % 2 == 0, 1).otherwise(3)) % 10 == 0
    )


def isbn10_to_13(isbn10: Column) -> Column:
    """A valid ISBN-10 as ISBN-13: prefix 978, the first nine digits, the ISBN-13 check digit."""
    core = F.concat(F.lit("978"), isbn10.substr(F.lit(1), F.lit(9)))
    weighted = _weighted_sum(core, 12, lambda i: F.when(i % 2 == 0, 1).otherwise(3))
    return F.concat(core, ((10 - weighted % 10) % 10).cast("string"))


def isbn_shaped(value: Column) -> Column:
    """The ISBN-shaped runs of one value, hyphens and spaces removed, X upper-cased (maybe none)."""
    runs = F.transform(
        F.regexp_extract_all(value, F.lit(_TOKEN), 0), lambda run: F.upper(F.regexp_replace(run, r"[ -]", ""))
    )
    return F.filter(runs, lambda run: run.rlike(r"^[0-9]{9}[0-9X]$|^[0-9]{13}$"))


def isbn13_of(isbn: Column) -> Column:
    """An ISBN-shaped run as ISBN-13 when its check digit is right, else null."""
    return F.when(F.length(isbn) == 10, F.when(isbn10_valid(isbn), isbn10_to_13(isbn))).otherwise(
        F.when(isbn13_valid(isbn), isbn)
    )


def isbn13s(isbn_10: Column, isbn_13: Column) -> Column:
    """Distinct valid ISBN-13s of an edition's two columns; ISBN-10s converted, the rest left out."""
    values = F.concat(F.coalesce(isbn_10, F.array()), F.coalesce(isbn_13, F.array()))
    found = F.transform(F.flatten(F.transform(values, isbn_shaped)), isbn13_of)
    return F.array_distinct(F.filter(found, lambda isbn: isbn.isNotNull()))


def refused(values: Column, reason: str) -> Column:
    """How many of one column's values hold no ISBN (BAD_LENGTH) or ISBN-shaped runs with a wrong check
    digit (BAD_CHECKSUM, one per run)."""
    values = F.filter(F.coalesce(values, F.array()), lambda value: value.isNotNull())
    if reason == BAD_LENGTH:
        return F.size(F.filter(values, lambda value: F.size(isbn_shaped(value)) == 0))
    runs = F.flatten(F.transform(values, isbn_shaped))
    return F.size(F.filter(runs, lambda isbn: isbn13_of(isbn).isNull()))
