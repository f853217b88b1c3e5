"""Where a running job is, for whoever launched it: `OLPROGRESS {json}` lines on stdout every few seconds.

A job names its steps up front and enters each in turn; a daemon thread reads SparkContext.statusTracker()
(no Spark UI needed) and prints the step and the tasks done in the active stages. The local runner turns
these lines into the task's progress; elsewhere (Dataproc's driver output) they are harmless log lines.
"""

import json
import os
import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self, TextIO

from pyspark.sql import SparkSession

from spark.contracts import PROGRESS_PREFIX

EVERY_S = float(os.environ.get("OPENLIBRARY_PROGRESS_S", "5"))


class ProgressPrinter:
    """Use as a context manager around a job's steps: `with ProgressPrinter(spark, steps) as progress:`."""

    def __init__(
        self, spark: SparkSession, steps: Sequence[str], out: TextIO | None = None, every_s: float = EVERY_S
    ) -> None:
        if not steps:
            raise ValueError("a job needs at least one step")
        self.spark = spark
        self.steps = list(steps)
        self.out = out
        self.every_s = every_s
        self._current = 0
        self._stopped = threading.Event()
        self._printing = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def step(self, name: str) -> None:
        """Enter the step called `name` (one of the steps given at the start)."""
        self._current = self.steps.index(name)
        self._print(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The step being run and the tasks done in the stages running now."""
        tracker = self.spark.sparkContext.statusTracker()
        stages = [tracker.getStageInfo(stage) for stage in tracker.getActiveStageIds()]
        stages = [stage for stage in stages if stage is not None]
        return {
            "step": self.steps[self._current],
            "step_no": self._current + 1,
            "steps": len(self.steps),
            "tasks_done": sum(stage.numCompletedTasks for stage in stages),
            "tasks": sum(stage.numTasks for stage in stages),
        }

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.every_s + 5)
        if kind is None:
            last = len(self.steps)
            final = {"step": self.steps[-1], "step_no": last, "steps": last, "tasks_done": 0, "tasks": 0}
            self._print({**final, "finished": True})

    def _loop(self) -> None:
        while not self._stopped.wait(self.every_s):
            self._print(self.snapshot())

    def _print(self, snapshot: dict[str, Any]) -> None:
        out = self.out or sys.stdout
        with self._printing:  # step() and the thread both print: one whole line at a time
            out.write(PROGRESS_PREFIX + json.dumps(snapshot) + "\n")
            out.flush()
