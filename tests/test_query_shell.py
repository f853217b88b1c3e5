"""The SQL prompt of `make query`: when a typed statement is complete, what the console does with it, and
how results are written in each --format (read back with csv, json and a Markdown parser)."""

import csv
import io
import json
import re

import duckdb
import pytest

from query.formats import Output
from query.shell import SqlConsole, run_script, statement_complete


@pytest.mark.parametrize(
    ("source", "complete"),
    [
        ("SELECT 1;", True),
        ("SELECT 1", False),
        ("SELECT 1\nFROM range(3);", True),
        ("SELECT ';'", False),  # the ';' is inside a string
        ("SELECT 'a;", False),  # an unterminated string
        ("SELECT 1; -- done", True),
        ("SELECT 1 -- ;", False),  # the ';' is inside a comment
        ("SELECT 1 /* ; */", False),
        ("SELECT [1, 2];", True),
        ("-- a note", True),  # nothing to run
    ],
)
def test_a_statement_is_complete_once_a_semicolon_ends_it(source: str, complete: bool) -> None:
    assert statement_complete(source) is complete


def test_the_console_waits_for_the_end_of_a_statement_then_runs_it_and_shows_errors() -> None:
    out, errors = io.StringIO(), []
    console = SqlConsole(duckdb.connect(), out)
    console.write = errors.append  # where InteractiveConsole reports errors (stderr by default)

    assert console.push("SELECT 40 + 2") is True  # more input needed: the continuation prompt
    assert out.getvalue() == ""
    assert console.push("  AS answer;") is False
    assert "│     42 │" in out.getvalue() and "answer" in out.getvalue()
    assert console.push("SELECT * FROM nowhere;") is False
    assert len(errors) == 1 and errors[0].startswith("Catalog Error") and "nowhere" in errors[0]
    assert console.push("SELECT 1 AS after_an_error;") is False
    assert "after_an_error" in out.getvalue()


WIDE = 300  # characters: wider than any terminal
TRICKY = (
    "SELECT 1 AS n, 'a|b' AS piped, 'two' || chr(10) || 'lines' AS lines, NULL::VARCHAR AS nothing, "
    "['x', 'y'] AS list, {'k': 2} AS struct, DATE '2026-10-31' AS day, 1.50::DECIMAL(4, 2) AS price, "
    f"true AS yes, repeat('w', {WIDE}) AS wide, " + ", ".join(f"'value {i}' AS column_{i}" for i in range(12))
)
EXPECTED = {
    "n": 1, "piped": "a|b", "lines": "two\nlines", "nothing": None, "list": ["x", "y"], "struct": {"k": 2},
    "day": "2026-10-31", "price": 1.5, "yes": True, "wide": "w" * WIDE,
    **{f"column_{i}": f"value {i}" for i in range(12)},
}  # fmt: skip
EXPECTED_TEXT = {  # as one cell of text (csv, markdown): null empty, lists and structs as JSON
    name: "" if value is None else json.dumps(value) if isinstance(value, list | dict) else str(value)
    for name, value in EXPECTED.items()
} | {"yes": "true", "price": "1.50"}


def script_output(sql: str, output: Output) -> str:
    out = io.StringIO()
    run_script(duckdb.connect(), sql, out, output)
    return out.getvalue()


def test_json_writes_each_result_as_one_line_of_row_objects() -> None:
    text = script_output(f"{TRICKY}; SELECT range AS i FROM range(3) ORDER BY i;", Output("json"))
    first, second = (json.loads(line) for line in text.splitlines())
    assert first == [EXPECTED]
    assert second == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_csv_writes_every_column_and_row_with_whole_values() -> None:
    text = script_output(f"{TRICKY}; SELECT range AS i FROM range(25000);", Output("csv"))
    first, second = text.split("\n\n")
    [row] = list(csv.DictReader(io.StringIO(first)))
    assert row == EXPECTED_TEXT
    assert [int(r["i"]) for r in csv.DictReader(io.StringIO(second))] == list(range(25000))


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of a Markdown table, split on the pipes that are not escaped, unescaped."""
    lines = text.splitlines()
    assert set(lines[1]) == {"|", "-"}
    return [
        [
            cell.strip().replace("\\|", "|").replace("<br>", "\n")
            for cell in re.split(r"(?<!\\)\|", line)[1:-1]
        ]
        for line in lines[:1] + lines[2:]
    ]


def test_markdown_is_a_pipe_table_whose_cells_keep_pipes_and_newlines() -> None:
    header, row = markdown_rows(script_output(TRICKY, Output("markdown")))
    assert dict(zip(header, row, strict=True)) == EXPECTED_TEXT


def test_the_table_off_a_terminal_has_every_column_and_whole_values() -> None:
    whole = script_output(TRICKY, Output("table", fit=False))
    fitted = script_output(TRICKY, Output("table", fit=True))
    assert "w" * WIDE in whole and "…" not in whole and "shown" not in whole
    assert all(f"value {i}" in whole for i in range(12))
    assert "w" * WIDE not in fitted and "shown" in fitted  # what DuckDB does to fit a terminal
