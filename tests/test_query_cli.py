"""`python -m query` and `make query` as people run them, on the finished sample lake: SQL from -c, from a
pipe, and typed at the interactive prompt in a real pseudo-terminal; output off a terminal, in each format;
the hint naming the demo lake. Expected values come from pyarrow."""

import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from spark.catalog import MARTS as _MARTS
from spark.tables import CURATED as _CURATED
from tests.conftest import SampleLake
from tests.earlier_release import EARLIER_RELEASE
from tests.pipeline_helpers import child_environment, child_folder

EVERY_VIEW = len(_CURATED) + len(_MARTS) + 1  # a whole sample release: every table and mart, and quarantine

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120


def run_query(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    """`python -m query ARGS` in `cwd`, with no pipeline setting from this shell but those in `env`."""
    return subprocess.run(
        [sys.executable, "-m", "query", *args],
        input=stdin, capture_output=True, text=True, cwd=cwd, env=child_environment(env), timeout=TIMEOUT_S,
    )  # fmt: skip


def table_rows(output: str) -> list[list[str]]:
    """The data rows of the result tables DuckDB drew in `output` (cells stripped)."""
    rows, in_body = [], False
    for line in output.splitlines():
        if line.startswith("├"):
            in_body = True
        elif line.startswith(("└", "┌")):
            in_body = False
        elif in_body and line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def works_count(sample_lake: SampleLake) -> int:
    return len(sample_lake.rows("curated", "works"))


def test_command_runs_on_the_latest_release_of_the_configured_lake(
    sample_lake: SampleLake, child_cwd: Path
) -> None:
    result = run_query(
        ["-c", "SELECT count(*) AS works FROM works;"], child_cwd, env={"LAKE_ROOT": str(sample_lake.root)}
    )

    assert result.returncode == 0, result.stderr
    assert f"release {sample_lake.release} of {sample_lake.root}: {EVERY_VIEW} views" in result.stderr
    assert "missing" not in result.stderr
    assert table_rows(result.stdout) == [[str(works_count(sample_lake))]]


def test_sql_on_stdin_runs_every_statement_on_the_named_release(
    sample_lake: SampleLake, child_cwd: Path
) -> None:
    editions = sample_lake.rows("curated", "editions")
    since = 2006
    script = (
        f"SET VARIABLE since = {since};\n"
        "SELECT count(*) FROM editions WHERE publish_year >= getvariable('since');\n"
        "SELECT count(*) FROM dim_work;\n"
    )

    result = run_query(
        ["--lake-root", str(sample_lake.root), "--release", sample_lake.release], child_cwd, stdin=script
    )

    assert result.returncode == 0, result.stderr
    recent = sum(1 for row in editions if row["publish_year"] is not None and row["publish_year"] >= since)
    dim_work = len(sample_lake.rows("marts", "dim_work"))
    assert 0 < recent < len(editions)
    assert table_rows(result.stdout) == [[str(recent)], [str(dim_work)]]


def test_make_query_runs_the_entry_point_for_lake_root_and_release(sample_lake: SampleLake) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "query", f"PY={sys.executable}",
         f"LAKE_ROOT={sample_lake.root}", f"RELEASE={sample_lake.release}"],
        input="SELECT count(*) FROM works;", capture_output=True, text=True, cwd=PROJECT,
        env=child_environment(), timeout=TIMEOUT_S,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert f"release {sample_lake.release} of {sample_lake.root}" in result.stderr
    assert table_rows(result.stdout) == [[str(works_count(sample_lake))]]


WORK_COLUMNS = ("work_key", "title", "author_keys", "rating_avg", "edition_count")
WORKS_SQL = f"SELECT {', '.join(WORK_COLUMNS)} FROM dim_work ORDER BY work_key;"


def expected_works(sample_lake: SampleLake) -> list[dict[str, object]]:
    rows = sorted(sample_lake.rows("marts", "dim_work"), key=lambda row: row["work_key"])
    return [{name: row[name] for name in WORK_COLUMNS} for row in rows]


def parse_csv(text: str) -> list[dict[str, object]]:
    """CSV rows back to values: author_keys is JSON, rating_avg a number or empty (null)."""
    return [
        row | {"author_keys": json.loads(row["author_keys"]), "edition_count": int(row["edition_count"]),
               "rating_avg": float(row["rating_avg"]) if row["rating_avg"] else None}
        for row in csv.DictReader(io.StringIO(text))
    ]  # fmt: skip


@pytest.mark.parametrize(("output", "parse"), [("csv", parse_csv), ("json", json.loads)])
def test_every_row_of_a_query_in_csv_and_json(
    sample_lake: SampleLake, child_cwd: Path, output: str, parse: object
) -> None:
    result = run_query(["--lake-root", str(sample_lake.root), "--format", output, "-c", WORKS_SQL], child_cwd)

    assert result.returncode == 0, result.stderr
    expected = expected_works(sample_lake)
    assert len(expected) > 40  # more rows than DuckDB's table shows on a terminal
    assert any(row["rating_avg"] is None for row in expected) and any(row["author_keys"] for row in expected)
    assert parse(result.stdout) == expected


def test_piped_table_has_every_column_and_whole_values(sample_lake: SampleLake, child_cwd: Path) -> None:
    columns = ("work_key", "title", "first_publish_year", "edition_count", "rating_count", "want_to_read",
               "currently_reading", "already_read")  # fmt: skip
    sql = (
        f"SELECT {', '.join(columns)} FROM dim_work WHERE first_publish_year IS NOT NULL "
        "ORDER BY length(title) DESC, work_key LIMIT 3;"
    )

    result = run_query(["--lake-root", str(sample_lake.root), "-c", sql], child_cwd)

    assert result.returncode == 0, result.stderr
    dated = [row for row in sample_lake.rows("marts", "dim_work") if row["first_publish_year"] is not None]
    longest = sorted(dated, key=lambda row: (-len(row["title"]), row["work_key"]))[:3]
    assert len(longest[0]["title"]) > 60  # the kind of value a terminal's width cuts
    assert table_rows(result.stdout) == [[str(row[name]) for name in columns] for row in longest]
    assert "…" not in result.stdout and "shown" not in result.stdout


def beside_a_demo_lake(tmp_path: Path, sample_lake: SampleLake) -> Path:
    """An empty working folder (child_folder) but for data/demo/lake, where `make demo` puts its lake: the
    sample lake (a symbolic link). The default lake there, ./data, holds no release."""
    folder = child_folder(tmp_path)
    (folder / "data" / "demo").mkdir(parents=True)
    (folder / "data" / "demo" / "lake").symlink_to(sample_lake.root)
    return folder


def test_the_default_lake_with_no_release_names_the_demo_lake_and_commands_that_open_it(
    sample_lake: SampleLake, tmp_path: Path
) -> None:
    child_cwd = beside_a_demo_lake(tmp_path, sample_lake)

    result = run_query(["-c", "SELECT 1;"], child_cwd)  # the default lake: ./data, holding only the demo

    assert result.returncode == 2
    releases = f"{sample_lake.previous_release}, {sample_lake.release}"
    assert f"query: the demo lake data/demo/lake (make demo) holds releases {releases}: " in result.stderr
    make = re.search(r"open it with `make (query [^`]+)`", result.stderr)
    python = re.search(r"\(or `python -m query ([^`]+)`\)", result.stderr)
    assert make and python, result.stderr
    assert make[1] == "query LAKE_ROOT=data/demo/lake"
    by_make = subprocess.run(
        ["make", "--no-print-directory", "-f", str(PROJECT / "Makefile"), "-o", ".venv/.installed",
         f"PY={sys.executable}", *make[1].split()],
        input="SELECT count(*) FROM works;", capture_output=True, text=True, cwd=child_cwd,
        env=child_environment(), timeout=TIMEOUT_S,
    )  # fmt: skip
    by_python = run_query([*python[1].split(), "-c", "SELECT count(*) FROM works;"], child_cwd)
    for opened in (by_make, by_python):
        assert opened.returncode == 0, opened.stderr
        assert f"release {sample_lake.release} of " in opened.stderr
        assert table_rows(opened.stdout) == [[str(works_count(sample_lake))]]


@pytest.mark.parametrize(
    ("release", "hint"),
    [
        (EARLIER_RELEASE, f"`make query LAKE_ROOT=data/demo/lake RELEASE={EARLIER_RELEASE}`"),
        ("2001-01-01", None),
    ],
)
def test_the_demo_hint_names_the_release_asked_for_only_when_the_demo_lake_holds_it(
    sample_lake: SampleLake, tmp_path: Path, release: str, hint: str | None
) -> None:
    child_cwd = beside_a_demo_lake(tmp_path, sample_lake)
    result = run_query(["--release", release, "-c", "SELECT 1;"], child_cwd)
    assert result.returncode == 2
    assert f"release {release} has no complete table" in result.stderr
    if hint is None:
        assert "demo lake" not in result.stderr
    else:
        assert hint in result.stderr


def test_a_failing_statement_stops_the_script_with_duckdb_s_error_and_exit_1(
    sample_lake: SampleLake, child_cwd: Path
) -> None:
    result = run_query(
        [
            "--lake-root",
            str(sample_lake.root),
            "-c",
            "SELECT 1 AS one; SELECT * FROM no_such_table; SELECT 2;",
        ],
        child_cwd,
    )

    assert result.returncode == 1
    assert table_rows(result.stdout) == [["1"]]
    assert "Catalog Error" in result.stderr and "no_such_table" in result.stderr


@pytest.mark.parametrize(
    ("release", "message"),
    [("2001-01-01", "release 2001-01-01 has no complete table"), ("yesterday", "must be a date YYYY-MM-DD")],
)
def test_a_release_that_cannot_be_opened_exits_2_saying_why(
    sample_lake: SampleLake, child_cwd: Path, release: str, message: str
) -> None:
    result = run_query(
        ["--lake-root", str(sample_lake.root), "--release", release, "-c", "SELECT 1;"], child_cwd
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


class Terminal:
    """A process on a real pseudo-terminal (80x24 is too narrow: 40 rows of 160 columns)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str) -> str:
        """Read until `text` has appeared after what earlier calls consumed; return what came before it."""
        deadline = time.monotonic() + TIMEOUT_S
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} did not appear in {self.screen!r}"
            if select.select([self.master], [], [], 1)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process closed the terminal
                    chunk = b""
                assert chunk, f"the process ended before {text!r} appeared in {self.screen!r}"
                self.screen += chunk.decode("utf-8", errors="replace")
        before, _, self.screen = self.screen.partition(text)
        return before

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> int:
        try:
            return self.process.wait(timeout=TIMEOUT_S)
        finally:
            os.close(self.master)


def test_the_interactive_prompt_runs_statements_typed_over_several_lines(
    sample_lake: SampleLake, child_cwd: Path
) -> None:
    env = child_environment({"TERM": "dumb", "LAKE_ROOT": str(sample_lake.root)})
    terminal = Terminal([sys.executable, "-m", "query"], env, child_cwd)
    try:
        assert "End each statement with ';'" in terminal.expect("sql> ")
        terminal.type(b"SELECT count(*) AS works\r")
        terminal.expect(" ..> ")
        terminal.type(b"FROM works;\r")
        answer = terminal.expect("sql> ")
        terminal.type(b"SELECT * FROM no_such_table;\r")
        error = terminal.expect("sql> ")
        terminal.type(b"\x04")  # Ctrl-D on an empty line: the session ends
        status = terminal.close()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert [str(works_count(sample_lake))] in table_rows(answer)
    assert "Catalog Error" in error
    assert status == 0
