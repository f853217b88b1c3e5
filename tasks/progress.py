"""A task's progress where people look: the visualiser's percentage and status line, and the terminal."""

import sys
import time
from typing import TextIO

import luigi

from runners.base import JobProgress

REPORT_EVERY_S = 2.0


def eta(seconds: float, fraction: float) -> str:
    """Time left, extrapolated from the time taken so far; empty until there is something to go on."""
    if fraction <= 0.01 or fraction >= 1:
        return ""
    left = seconds / fraction * (1 - fraction)
    return f", ETA {left / 60:.0f} min" if left >= 120 else f", ETA {left:.0f} s"


class ProgressReport:
    """Sends a task's progress to the scheduler (set_progress_percentage, set_status_message) and, when the
    worker writes to a terminal, prints it as a line there too. At most every REPORT_EVERY_S seconds,
    except a final report, which always goes out."""

    def __init__(
        self, task: luigi.Task, stream: TextIO | None = None, every_s: float = REPORT_EVERY_S
    ) -> None:
        self.task = task
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.started = time.monotonic()
        self._last = float("-inf")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, percent: float, message: str, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.every_s:
            return
        self._last = now
        self.task.set_progress_percentage(int(percent))
        self.task.set_status_message(message)
        if self.stream.isatty():
            print(f"{self.task} {percent:3.0f}%  {message}", file=self.stream, flush=True)


class SparkJobProgress:
    """Turns a Spark job's JobProgress into the task's report, with lines done (estimated from the share of
    the job done), rate and ETA."""

    def __init__(self, report: ProgressReport, lines: int | None = None) -> None:
        self.report = report
        self.lines = lines

    def __call__(self, progress: JobProgress) -> None:
        fraction, seconds = progress.fraction, self.report.elapsed
        message = progress.detail
        if self.lines:
            done = int(fraction * self.lines)
            message += f"; ~{done:,} of {self.lines:,} lines, {done / max(seconds, 1e-6):,.0f} lines/s"
        self.report(min(99.0, 100 * fraction), message + eta(seconds, fraction))
