"""Run SQL on a connection and print what it returns: scripts (-c, stdin) and the interactive prompt.

The prompt is the standard library's interactive console (readline editing and history, continuation
lines, Ctrl-C and Ctrl-D handling) reading SQL instead of Python; DuckDB splits the statements, and
query/formats.py writes each result (DuckDB's table, CSV, JSON or Markdown).
"""

import code
import contextlib
import sys
from typing import TextIO

import duckdb

from query.formats import Output, write_result

PROMPT = "sql> "
CONTINUATION = " ..> "


def statement_complete(source: str) -> bool:
    """True when `source` can run: its last token (comments aside) is the ';' ending a statement, or it
    holds comments only."""
    tokens = [(at, kind) for at, kind in duckdb.tokenize(source) if kind != duckdb.token_type.comment]
    if not tokens:
        return True
    at, kind = tokens[-1]
    return kind == duckdb.token_type.operator and source[at] == ";"


def run_script(con: duckdb.DuckDBPyConnection, sql: str, out: TextIO, output: Output | None = None) -> None:
    """Run every statement of `sql` in order, writing each query's result to `out` as `output` says
    (default: DuckDB's table fitted to the terminal).

    Stops at the first failing statement, raising DuckDB's error.
    """
    results = 0
    for statement in con.extract_statements(sql):
        result = con.sql(statement)
        if statement.expected_result_type == [duckdb.ExpectedResultType.QUERY_RESULT]:
            write_result(result, out, output or Output(), first=results == 0)
            results += 1


class SqlConsole(code.InteractiveConsole):
    """The standard interactive console, running SQL: a statement runs once a line ends it with ';'."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, out: TextIO | None = None, output: Output | None = None
    ) -> None:
        super().__init__()
        self.con = con
        self.out = out
        self.output = output

    def runsource(self, source: str, filename: str = "<input>", symbol: str = "single") -> bool:
        """Ask for more lines until the statement is complete, then run it; errors are shown, not raised."""
        if not source.strip():
            return False
        if not statement_complete(source):
            return True
        try:
            run_script(self.con, source, self.out or sys.stdout, self.output)
        except duckdb.Error as error:
            self.write(f"{error}\n")
        return False


def interact(con: duckdb.DuckDBPyConnection, banner: str, output: Output | None = None) -> None:
    """An interactive SQL session on `con` until Ctrl-D (end of input), writing results as `output` says."""
    with contextlib.suppress(ImportError):  # line editing and history for input(), where the platform has it
        import readline  # noqa: F401
    sys.ps1, sys.ps2 = PROMPT, CONTINUATION
    SqlConsole(con, output=output).interact(banner=banner, exitmsg="")
