"""Errors a person can read: the real `luigi --module tasks ...` says what was wrong in one line, without a
traceback, and exits with the luigi.cfg [retcode] code README promises."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from bench.ports import refused_port
from lake import LakeError
from tasks.config import DumpsParameter, SettingError
from tasks.errors import OneLineErrors
from tests.pipeline_helpers import (
    DUMPS,
    PROJECT,
    RELEASE,
    SCHEDULING_ERROR,
    TASK_FAILED,
    run_luigi,
    sample_release,
)

ACCEPTED_DUMPS = "authors, works, editions, ratings, reading-log, redirects"
LAKE_ADVICE = "set [lake] root (LAKE_ROOT, --lake-root) to a folder this user can create and write"


def only_line(completed: subprocess.CompletedProcess) -> str:
    """Everything the command printed, which must be one line (and no traceback)."""
    output = (completed.stdout + completed.stderr).strip()
    assert "Traceback" not in output, output[-3000:]
    assert len(output.splitlines()) == 1, output[-3000:]
    return output


def error_lines(completed: subprocess.CompletedProcess) -> list[str]:
    """The WARNING/ERROR lines of luigi's log (its INFO lines and execution summary left out)."""
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    return [line for line in completed.stderr.splitlines() if line.startswith(("WARNING:", "ERROR:"))]


@pytest.mark.parametrize("value", ["2026-13-45", "31-10-2026"])
def test_a_release_that_is_not_a_date_is_refused_in_one_line(tmp_path: Path, value: str) -> None:
    with refused_port() as port:  # nothing may be asked of the source
        completed = run_luigi(
            tmp_path, f"http://127.0.0.1:{port}/data", "OpenLibraryPipeline", "--release", value
        )
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert only_line(completed) == f"ERROR: --release {value}: not a date; use YYYY-MM-DD or latest"
    assert not (tmp_path / "lake").exists()


def test_an_unknown_dump_is_refused_in_one_line(tmp_path: Path) -> None:
    with refused_port() as port:
        completed = run_luigi(
            tmp_path, f"http://127.0.0.1:{port}/data", "IngestDump", "--release", RELEASE, "--dump", "nosuch"
        )
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert only_line(completed) == f"ERROR: --dump nosuch: not a dump; use one of {ACCEPTED_DUMPS}"


def test_latest_from_an_unreachable_source_is_refused_in_one_line(tmp_path: Path) -> None:
    with refused_port() as port:
        base = f"http://127.0.0.1:{port}/data"
        completed = run_luigi(tmp_path, base, "OpenLibraryPipeline", "--release", "latest")
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert only_line(completed) == (
        f"ERROR: release latest refused: {base}/ol_dump_authors_latest.txt.gz: "
        "can't connect (Connection refused)"
    )


def test_a_release_on_an_unreachable_source_is_refused_in_one_line(tmp_path: Path) -> None:
    with refused_port() as port:
        base = f"http://127.0.0.1:{port}/data"
        completed = run_luigi(
            tmp_path,
            base,
            "OpenLibraryPipeline",
            "--release",
            RELEASE,
            env={"OPENLIBRARY_DUMPS": "works,authors"},
        )
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert error_lines(completed) == [
        f"WARNING: Will not run OpenLibraryPipeline(release={RELEASE}) or any dependencies due to error in "
        f"complete() method: release {RELEASE} refused: "
        f"{base}/ol_dump_works_{RELEASE}.txt.gz could not be checked: can't connect (Connection refused); "
        f"{base}/ol_dump_authors_{RELEASE}.txt.gz could not be checked: can't connect (Connection refused)"
    ]
    assert "urllib3" not in completed.stderr


@pytest.mark.parametrize(
    "how",
    [{"env": {"OPENLIBRARY_DUMPS": "authors,works"}}, {"args": ("--openlibrary-dumps", "authors, works")}],
)
def test_dumps_can_be_given_as_a_comma_separated_list(tmp_path: Path, how: dict) -> None:
    """Only the two dumps named are checked at the source: the missing authors file refuses the release, the
    missing ratings file (not asked for) is not mentioned."""
    source = sample_release(tmp_path / "source")
    for dump in ("authors", "ratings"):
        (source / f"ol_dump_{dump}_{RELEASE}.txt.gz").unlink()
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(
            tmp_path, server.url, "OpenLibraryPipeline", "--release", RELEASE, *how.get("args", ()),
            env=how.get("env"),
        )  # fmt: skip
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    (line,) = error_lines(completed)
    assert line.endswith(
        f"release {RELEASE} refused: {server.url}/ol_dump_authors_{RELEASE}.txt.gz is missing (HTTP 404)"
    )


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("OPENLIBRARY_DUMPS", "authors,nosuch", f"'nosuch' is not a dump; use any of {ACCEPTED_DUMPS}, "
         "as authors,works or a JSON list"),
        ("OPENLIBRARY_DUMPS", '["authors"', "not a JSON list (Expecting ',' delimiter); use any of "
         f"{ACCEPTED_DUMPS}, as authors,works or a JSON list"),
        ("INGEST_PART_MB", "lots", "could not convert string to float: 'lots'"),
    ],
)  # fmt: skip
def test_a_setting_from_the_environment_that_is_not_accepted_is_named_in_one_line(
    tmp_path: Path, variable: str, value: str, reason: str
) -> None:
    with refused_port() as port:
        completed = run_luigi(
            tmp_path, f"http://127.0.0.1:{port}/data", "OpenLibraryPipeline", "--release", RELEASE,
            env={variable: value},
        )  # fmt: skip
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert only_line(completed) == f"ERROR: {variable}={value}: {reason}"


def test_help_shows_each_parameters_default(tmp_path: Path) -> None:
    """The default shown is the one a run takes: luigi.cfg's and the environment's, not only the code's."""
    completed = run_luigi(
        tmp_path, "http://127.0.0.1:9/data", "OpenLibraryPipeline", "--help-all",
        env={"COLUMNS": "1000", "INGEST_PART_MB": "8"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    help_lines = flag_help(completed.stdout)
    assert help_lines["--release"].endswith("(default: latest)")
    assert help_lines["--lake-root"].endswith(f"(default: {tmp_path / 'lake'})")
    assert help_lines["--ingest-part-mb"].endswith("(default: 8.0)")
    assert help_lines["--openlibrary-dumps"].endswith(
        '(default: ["authors", "works", "editions", "ratings", "reading-log", "redirects"])'
    )


def flag_help(text: str) -> dict[str, str]:
    """Each flag's help text in argparse's --help output, its wrapped lines joined."""
    found: dict[str, str] = {}
    flag = ""
    for line in text.splitlines():
        if line.startswith("  --"):
            flag, _, rest = line.strip().partition(" ")
            found[flag] = rest
        elif flag and line.startswith("    ") and not line.strip().startswith("["):
            found[flag] += " " + line.strip()
        else:
            flag = ""
    return found


@pytest.fixture(params=["under-a-file", "under-proc"])
def unwritable_root(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A lake root this process can't create even as root, and the reason the system gives."""
    if request.param == "under-a-file":
        (tmp_path / "a-file").write_text("")
        return tmp_path / "a-file" / "lake", "Not a directory"
    return Path("/proc/openlibrary-lake"), "No such file or directory"


def run_on_lake(tmp_path: Path, root: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`luigi ARGS` with LAKE_ROOT=root on the sample release, served over HTTP; and the methods of the
    requests the server got."""
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, *args, env={"LAKE_ROOT": str(root)})
        return completed, {request.method for request in server.requests}


def test_a_pipeline_on_a_lake_it_cannot_write_says_so_once(tmp_path: Path, unwritable_root) -> None:
    root, reason = unwritable_root
    completed, methods = run_on_lake(
        tmp_path, root, "OpenLibraryPipeline", "--release", RELEASE, "--workers", "2"
    )
    assert methods == {"HEAD"}  # the release was checked, nothing downloaded
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert error_lines(completed) == [
        f"WARNING: Will not run OpenLibraryPipeline(release={RELEASE}) or any dependencies due to "
        f"error in complete() method: can't write the lake {root}: {reason}; {LAKE_ADVICE}"
    ]


def test_a_task_on_a_lake_it_cannot_write_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    root = tmp_path / "a-file" / "lake"
    completed, _ = run_on_lake(tmp_path, root, "IngestDump", "--release", RELEASE, "--dump", "redirects")
    assert completed.returncode == TASK_FAILED, completed.stderr[-2000:]
    (line,) = error_lines(completed)
    assert line.startswith("ERROR: [pid ")
    assert line.endswith(
        f" failed    IngestDump(release={RELEASE}, dump=redirects): "
        f"can't write the lake {root}: Not a directory; {LAKE_ADVICE}"
    )


def test_the_container_summary_reads_the_one_line_errors(tmp_path: Path) -> None:
    """docker/failure_summary.py finds the failed task and its error (the source unreachable during the
    download) on luigi's one line."""
    with refused_port() as port:
        completed = run_luigi(
            tmp_path, f"http://127.0.0.1:{port}/data", "IngestDump", "--release", RELEASE, "--dump", "works",
            env={"OPENLIBRARY_METADATA_URL": ""},
        )  # fmt: skip
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    assert completed.returncode == TASK_FAILED, completed.stderr[-2000:]
    log = tmp_path / "run.log"
    log.write_text(completed.stderr)
    summary = subprocess.run(
        [sys.executable, str(PROJECT / "docker" / "failure_summary.py"), "--log", str(log),
         "--exit-code", "30", "--release", RELEASE, "--started", "2026-11-03T06:00:00Z"],
        capture_output=True, text=True, timeout=60, cwd=PROJECT,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    failed_at = lines.index(f"  - IngestDump(release={RELEASE}, dump=works)")
    assert (
        lines[failed_at + 1]
        .strip()
        .startswith(f"http://127.0.0.1:{port}/data/ol_dump_works_{RELEASE}.txt.gz")
    )


@pytest.mark.parametrize(
    ("given", "dumps"),
    [("authors,works", ("authors", "works")), (" works , authors ", ("works", "authors")),
     ('["redirects"]', ("redirects",)), ('["authors", "works"]', ("authors", "works"))],
)  # fmt: skip
def test_dumps_are_parsed_from_a_list_or_json(given: str, dumps: tuple[str, ...]) -> None:
    assert DumpsParameter().parse(given) == dumps


@pytest.mark.parametrize(
    ("given", "reason"),
    [("", "no dumps given"), ("[]", "no dumps given"), ("authors,,works", "'' is not a dump"),
     ("authors,authors", "'authors' is given twice"), ('["authors", 1]', "1 is not a dump"),
     ("[authors]", "not a JSON list")],
)  # fmt: skip
def test_dumps_that_are_not_accepted_are_refused_with_the_reason(given: str, reason: str) -> None:
    with pytest.raises(SettingError) as error:
        DumpsParameter().parse(given)
    assert str(error.value).startswith(reason)
    assert str(error.value).endswith(f"use any of {ACCEPTED_DUMPS}, as authors,works or a JSON list")


def log_record(message: str, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error else None
    return logging.LogRecord("luigi-interface", logging.ERROR, __file__, 1, message, (), exc_info)


def raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_a_user_error_is_logged_as_one_line_and_a_bug_keeps_its_traceback() -> None:
    handler_filter = OneLineErrors()
    lake_error = log_record(
        "Worker failed    IngestDump(dump=works)", raised(LakeError("lake /x: read-only"))
    )
    assert handler_filter.filter(lake_error)
    assert (lake_error.getMessage(), lake_error.exc_info) == (
        "Worker failed    IngestDump(dump=works): lake /x: read-only",
        None,
    )

    bug = log_record("Worker failed    IngestDump(dump=works)", raised(KeyError("works")))
    assert handler_filter.filter(bug)
    assert bug.exc_info is not None and bug.exc_info[0] is KeyError
    assert logging.Formatter().format(bug).count("Traceback (most recent call last)") == 1

    trace = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
    user = log_record(f"Will not run X() or any dependencies due to error in complete() method:\n{trace}"
                      "source.release.ReleaseError: release 2026-10-31 refused: gone\n")  # fmt: skip
    assert handler_filter.filter(user)
    assert user.getMessage() == (
        "Will not run X() or any dependencies due to error in complete() method: "
        "release 2026-10-31 refused: gone"
    )
    other = (
        f"Will not run X() or any dependencies due to error in complete() method:\n{trace}ValueError: bug\n"
    )
    kept = log_record(other)
    assert handler_filter.filter(kept)
    assert kept.getMessage() == other
