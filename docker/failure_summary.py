"""Print a one-screen summary of a failed pipeline run, from the output luigi printed (run-pipeline).

    python failure_summary.py --log RUN.log --exit-code 30 --release latest --started 2026-11-03T06:00:00Z

The summary goes to stdout (in the container: the container log, below the run's full output). It says
which tasks failed and why (the exception line of each task's traceback), the release, the exit code and
its meaning from luigi.cfg [retcode], the tail of luigi's execution summary, and where the visualiser is.
"""

import argparse
import datetime
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import luigi.configuration
import luigi.interface

WIDTH = 110
MAX_FAILURES = 6  # tasks listed with their error; more are counted
MAX_ERROR_LINES = 3  # wrapped lines per error message
MAX_SUMMARY_LINES = 10  # lines of luigi's execution summary
SUMMARY_MARK = "===== Luigi Execution Summary ====="

# Luigi's own lines naming a task that failed to run, or whose requires()/complete() raised; the pipeline's
# own errors (tasks/errors.py) end the line with ": {message}" instead of a traceback below it.
_FAILED = re.compile(r"^ERROR: \[pid \d+\] Worker .*? failed\s+(?P<task>\S.*?\))(?:: (?P<error>.+))?$")
_UNSCHEDULED = re.compile(
    r"^\w+: Will not run (?P<task>.+?) or any dependencies due to error in (?P<where>\S+ method):?"
    r"(?: (?P<error>.+))?$"
)
_LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):")
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
_RELEASE = re.compile(r"\brelease=(\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True)
class Failure:
    task: str
    error: str  # the exception line ("module.Error: message"), or what luigi said


def exception_after(lines: Sequence[str], start: int) -> str:
    """The exception line closing the traceback that follows lines[start] (the last one of a chain of
    exceptions), or '' when no traceback follows before luigi's next log line."""
    index, found = start + 1, ""
    while index < len(lines):
        line = lines[index]
        if line.startswith("Traceback (most recent call last):"):
            index += 1
            while index < len(lines) and (lines[index].startswith((" ", "\t")) or not lines[index].strip()):
                index += 1
            if index < len(lines):
                found = lines[index].strip()
        elif _LOG_LINE.match(line) or (found and not line.startswith(_CHAINED) and line.strip()):
            break
        index += 1
    return found


def failures(lines: Sequence[str]) -> list[Failure]:
    """Each task luigi reported as failed (run() raised) or unschedulable (requires()/complete() raised)."""
    found = []
    for index, line in enumerate(lines):
        if match := _FAILED.match(line):
            error = match["error"] or exception_after(lines, index) or "failed"
            found.append(Failure(match["task"].strip(), error))
        elif match := _UNSCHEDULED.match(line):
            error = match["error"] or exception_after(lines, index) or f"error in {match['where']}"
            found.append(Failure(match["task"].strip(), error))
    return found


def execution_summary(lines: Sequence[str]) -> list[str]:
    """The non-empty lines of luigi's execution summary (between its two marks), or []."""
    marks = [index for index, line in enumerate(lines) if line.strip() == SUMMARY_MARK]
    if len(marks) < 2:
        return []
    return [line.rstrip() for line in lines[marks[0] + 1 : marks[1]] if line.strip()]


def first_errors(lines: Sequence[str], count: int = 4) -> list[str]:
    """The first ERROR/CRITICAL lines, each with the exception line of the traceback under it, for a run
    that failed before any task did (luigid unreachable, an uncaught exception...)."""
    found = []
    for index, line in enumerate(lines):
        if line.startswith(("ERROR:", "CRITICAL:")):
            found.append(line.strip())
            if exception := exception_after(lines, index):
                found.append("  " + exception)
    return found[:count]


def exit_code_meaning(code: int) -> str:
    """The luigi.cfg [retcode] names carrying this exit code ("task_failed"), or a plain description."""
    config = luigi.configuration.get_config()
    names = []
    if config.has_section("retcode"):
        names = [name for name, value in config.items("retcode") if value.strip() == str(code)]
    if names:
        return " / ".join(sorted(names)) + " (luigi.cfg [retcode])"
    return "not a luigi.cfg [retcode] value: luigi itself or the shell stopped"


def visualiser_url() -> str:
    """The luigid this run reported to (luigi's [core] scheduler settings), as a visualiser address."""
    core = luigi.interface.core()
    url = core.scheduler_url or f"http://{core.scheduler_host}:{core.scheduler_port}"
    return url.rstrip("/")


def wrapped(text: str, indent: str, limit: int = MAX_ERROR_LINES) -> Iterator[str]:
    """`text` wrapped to WIDTH with `indent`, at most `limit` lines (the last one marked when cut)."""
    parts = textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ") or [indent]
    if len(parts) > limit:
        parts = [*parts[: limit - 1], parts[limit - 1][: WIDTH - 3] + "..."]
    yield from parts


def summary(log_text: str, exit_code: int, release: str, started: str, now: datetime.datetime) -> list[str]:
    """The summary's lines."""
    lines = log_text.splitlines()
    resolved = _RELEASE.search(log_text)
    failed = failures(lines)
    url = visualiser_url()
    out = [
        " PIPELINE RUN FAILED ".center(WIDTH, "="),
        f"release:    {release}"
        + (f" (resolved to {resolved[1]})" if resolved and resolved[1] != release else ""),
        f"exit code:  {exit_code}: {exit_code_meaning(exit_code)}",
        f"run:        started {started}, failed {now.strftime('%Y-%m-%dT%H:%M:%SZ')}",
    ]
    if failed:
        out.append(f"failed tasks ({len(failed)}):")
        for failure in failed[:MAX_FAILURES]:
            out += wrapped(failure.task, "  - ", limit=1)
            out += wrapped(failure.error, "      ")
        if len(failed) > MAX_FAILURES:
            out.append(f"  ... and {len(failed) - MAX_FAILURES} more: see the log above")
    else:
        out.append("no task failed; luigi stopped with:")
        out += [part for line in first_errors(lines) or ["(no error line: see the log above)"]
                for part in wrapped(line, "  ")]  # fmt: skip
    tail = execution_summary(lines)
    if tail:
        out.append("luigi's execution summary (tail):")
        out += [part for line in tail[-MAX_SUMMARY_LINES:] for part in wrapped(line, "  ", limit=1)]
    out += [
        f"visualiser: {url} (task list; run history at {url}/history)",
        "  on the VM it listens on 127.0.0.1 only: from your machine, open the SSH tunnel (IAP) printed by",
        "  terraform -chdir=terraform/compute output -raw luigid_tunnel_command",
        "=" * WIDTH,
    ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="everything luigi printed during the run")
    parser.add_argument("--exit-code", type=int, required=True)
    parser.add_argument("--release", required=True, help="the release asked for (e.g. latest)")
    parser.add_argument("--started", required=True, help="when the run started (UTC)")
    args = parser.parse_args(argv)
    text = args.log.read_text(errors="replace")
    now = datetime.datetime.now(datetime.UTC)
    print("\n".join(summary(text, args.exit_code, args.release, args.started, now)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
