"""How the console writes a query's result: DuckDB's table, or every row as CSV, JSON or a Markdown table.

The table is DuckDB's box: fitted to the terminal when the output is one (columns left out, values cut
with "…"), otherwise with every column and whole values (at most TABLE_ROWS rows, DuckDB's limit). The
other formats write every row, fetched BATCH_ROWS at a time; several results are separated by an empty
line (csv, markdown) or written one per line (json: an array of row objects each).
"""

import contextlib
import csv
import datetime as dt
import decimal
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import duckdb

TABLE = "table"
FORMATS = (TABLE, "csv", "json", "markdown")
BATCH_ROWS = 10_000
TABLE_ROWS = 10_000  # DuckDB's box draws at most this many rows
WHOLE = 1 << 30  # a width no value reaches: DuckDB's box then cuts nothing


@dataclass(frozen=True)
class Output:
    """Where results go and how: `fit` (the table only) fits it to the terminal, as DuckDB does by default."""

    format: str = TABLE
    fit: bool = True


def rows(result: duckdb.DuckDBPyRelation) -> Iterator[tuple[Any, ...]]:
    """Every row of the result (one run of the query), fetched in batches."""
    return result.iter_rows(BATCH_ROWS)


def json_value(value: Any) -> Any:
    """A value json.dumps cannot write, as JSON: dates and times in ISO 8601, decimals as numbers, the rest
    (intervals, UUIDs, blobs) as DuckDB's Python value's text."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def text(value: Any) -> str:
    """A value as one cell of text: null is empty, lists and structs are JSON, booleans true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, default=json_value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def markdown_cell(value: Any) -> str:
    """A value as a Markdown table cell: pipes escaped, line breaks as <br>."""
    return text(value).replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def write_table(result: duckdb.DuckDBPyRelation, out: TextIO, fit: bool) -> None:
    if fit:
        out.write(f"{result}\n")
        return
    with contextlib.redirect_stdout(out):  # show() prints with Python's print
        result.show(max_width=WHOLE, max_col_width=WHOLE, max_rows=TABLE_ROWS)


def write_csv(result: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([text(value) for value in row] for row in rows(result))


def write_json(result: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    out.write("[")
    for at, row in enumerate(rows(result)):
        document = dict(zip(result.columns, row, strict=True))
        out.write(("," if at else "") + json.dumps(document, default=json_value, ensure_ascii=False))
    out.write("]\n")


def write_markdown(result: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    out.write("| " + " | ".join(markdown_cell(name) for name in result.columns) + " |\n")
    out.write("|" + "---|" * len(result.columns) + "\n")
    for row in rows(result):
        out.write("| " + " | ".join(markdown_cell(value) for value in row) + " |\n")


def write_result(result: duckdb.DuckDBPyRelation, out: TextIO, output: Output, first: bool = True) -> None:
    """Write one query's result to `out` as `output` says; `first` is False for the later results of a
    script (csv and markdown put an empty line before them)."""
    if output.format == TABLE:
        write_table(result, out, output.fit)
        return
    if not first and output.format != "json":
        out.write("\n")
    {"csv": write_csv, "json": write_json, "markdown": write_markdown}[output.format](result, out)
