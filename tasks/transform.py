"""TransformDump: parse one raw dump into typed Parquet tables with Spark, quarantining bad lines."""

import luigi
from luigi.util import requires

from lake import Lake
from spark.tables import DUMP_TABLES
from tasks.context import current_lake, current_runner
from tasks.ingest import IngestDump, manifest_path
from tasks.progress import ProgressReport, SparkJobProgress


def metrics_path(release: str, dump: str) -> tuple[str, ...]:
    """Where the transform's metrics of a dump are (written last), as lake path parts."""
    return ("curated", release, "_metrics", f"{dump}.json")


def transform_arguments(lake: Lake, release: str, dump: str) -> list[str]:
    """The command-line arguments of spark/transform_dump.py for one dump of a release in `lake`."""
    return [
        "--dump", dump,
        "--manifest", lake.url(*manifest_path(release, dump)),
        "--curated", lake.url("curated", release),
        "--quarantine", lake.url("quarantine", release, dump),
        "--metrics", lake.url(*metrics_path(release, dump)),
    ]  # fmt: skip


@requires(IngestDump)
class TransformDump(luigi.Task):
    """Writes curated/{release}/{table}/ (Parquet + _SUCCESS) for each table of the dump,
    quarantine/{release}/{dump}/ (raw line + reason) and, last, curated/{release}/_metrics/{dump}.json
    (lines, rows per table, quarantined by reason), where rows written + lines quarantined == lines ingested.
    """

    resources = {"spark": 1}  # noqa: RUF012 - luigi reads this class attribute

    def output(self) -> dict[str, luigi.Target]:
        lake = current_lake()
        outputs = {table: lake.flag("curated", self.release, table) for table in DUMP_TABLES[self.dump]}
        outputs["quarantine"] = lake.flag("quarantine", self.release, self.dump)
        outputs["metrics"] = lake.target(*metrics_path(self.release, self.dump))
        return outputs

    def run(self) -> None:
        lake = current_lake()
        metrics_at = metrics_path(self.release, self.dump)
        lake.remove(*metrics_at)  # tables are about to change: nothing may look complete meanwhile
        manifest = lake.read_json(*manifest_path(self.release, self.dump))
        report = ProgressReport(self)
        current_runner().run(
            "transform_dump",
            transform_arguments(lake, self.release, self.dump),
            on_status=self.set_status_message,
            job_key=self.task_id,
            on_tracking_url=self.set_tracking_url,
            on_progress=SparkJobProgress(report, lines=manifest["lines"]),
        )
        metrics = lake.read_json(*metrics_at)  # the job writes it only once the lines reconcile
        report(
            100,
            f"{metrics['lines']:,} lines: {metrics['written']:,} rows, "
            f"{metrics['quarantined_total']:,} quarantined",
            final=True,
        )
