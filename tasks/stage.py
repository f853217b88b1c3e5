"""The protocol of every task that writes into the lake: its outputs come from the catalog, and a run
removes the completion marker, builds, and writes the marker last, so a crashed run never looks complete."""

from typing import Any

import luigi
from luigi.parameter import ParameterVisibility

from lake import Lake
from spark.catalog import Location
from spark.contracts import JobArgs
from tasks import config
from tasks.completion import complete_with_inputs
from tasks.context import current_runner, lake_at
from tasks.errors import describe_failure
from tasks.progress import ProgressReport, SparkJobProgress


class LakeParameter(luigi.Parameter):
    """The root of the lake a task writes into, part of the task's identity: two runs into different lakes
    are different tasks in luigid. Empty (the default) means [lake] root, so `--lake-root` and LAKE_ROOT
    choose it as before."""

    def normalize(self, x: Any) -> str:
        return str(x or "") or config.lake().root


def lake_parameter() -> LakeParameter:
    return LakeParameter(default="", description="Root of the lake to write into (default: [lake] root)")


def task_repr(task: luigi.Task) -> str:
    """Luigi's Family(param=value, ...), leaving out the lake when it is the configured one (as it was
    before the lake was a parameter, so summaries and notices read the same)."""
    params = sorted(task.get_params(), key=lambda item: item[0] == "lake")  # the lake last
    shown = [
        f"{name}={param.serialize(getattr(task, name))}"
        for name, param in params
        if param.significant
        and param.visibility == ParameterVisibility.PUBLIC
        and not (name == "lake" and task.lake == config.lake().root)
    ]
    return f"{task.get_task_family()}({', '.join(shown)})"


class LakeStage(luigi.Task):
    """A stage of the pipeline. A subclass names what it writes (locations(): output name -> catalog
    location) and which output is the completion marker (`marker`), then builds in build().

    run(): removes the marker (and the other `stale` outputs, marker first), calls build(lake) and, when
    build returns a document, writes it as the marker: last. A build that returns None (a Spark job wrote
    the marker itself) must leave the marker there, or the run fails.
    """

    lake = lake_parameter()
    marker: str = "metrics"
    stale: tuple[str, ...] = ()  # outputs removed after the marker, before building
    with_inputs = False  # complete only while every task it requires is complete too

    def locations(self) -> dict[str, Location]:
        raise NotImplementedError

    def build(self, lake: Lake) -> Any | None:
        """Write the outputs but the marker; return the marker's JSON document (None: already written)."""
        raise NotImplementedError

    def open_lake(self) -> Lake:
        return lake_at(self.lake)

    def __repr__(self) -> str:
        return task_repr(self)

    def on_failure(self, exception: BaseException) -> str:
        """What the scheduler (and a failure e-mail) is told: a user error's one line, else the traceback."""
        return describe_failure(exception) or super().on_failure(exception)

    def output(self) -> dict[str, luigi.Target]:
        lake = self.open_lake()
        return {name: lake.target(*location.marker) for name, location in self.locations().items()}

    def complete(self) -> bool:
        return complete_with_inputs(self) if self.with_inputs else super().complete()

    def run(self) -> None:
        lake = self.open_lake()
        locations = self.locations()
        for name in (self.marker, *self.stale):
            lake.remove(*locations[name].marker)  # nothing may look complete while the outputs change
        document = self.build(lake)
        marker = locations[self.marker].marker
        if document is not None:
            lake.write_json(document, *marker)
        elif not lake.exists(*marker):
            raise RuntimeError(f"{self}: the build ended without writing {lake.url(*marker)}")


class SparkStage(LakeStage):
    """A stage whose build is one Spark job (which writes the marker last itself)."""

    resources = {"spark": 1}  # noqa: RUF012 - luigi reads this class attribute

    def run_job(
        self, job: JobArgs, report: ProgressReport, lines: int | None = None, input_bytes: int | None = None
    ) -> None:
        """Run the job (over `lines` lines, `input_bytes` uncompressed bytes, when known) on the configured
        runner; its status, tracking URL and progress go to the scheduler."""
        current_runner(self.open_lake(), input_bytes=input_bytes).run(
            job.job,
            job.argv(),
            on_status=self.set_status_message,
            job_key=self.task_id,
            on_tracking_url=self.set_tracking_url,
            on_progress=SparkJobProgress(report, lines=lines),
        )
