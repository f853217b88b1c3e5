"""Timing helpers: run a command as a child process and record its wall time and peak memory."""

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float  # wall-clock time of the command
    peak_rss_mb: float  # the largest resident set of the child or any of its descendants, in MiB


class CommandFailed(RuntimeError):
    """A benchmarked command exited non-zero; the message carries the end of its output."""


def run_command(
    command: Sequence[str] | str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `command` (a list, or a string for bash), wait for it, and return its wall time and peak RSS.

    The output goes to `log` (or is discarded); a failure raises CommandFailed with the log's tail.
    """
    argv = ["bash", "-o", "pipefail", "-c", command] if isinstance(command, str) else list(command)
    out = log.open("wb") if log else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, env=dict(env) if env is not None else None, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log else ""
        raise CommandFailed(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    return Run(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024)
