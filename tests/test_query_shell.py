"""The SQL prompt of `make query`: when a typed statement is complete, and what the console does with it."""

import io

import duckdb
import pytest

from query.shell import SqlConsole, statement_complete


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
