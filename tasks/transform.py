"""TransformDump: parse one raw dump into typed Parquet tables with Spark, quarantining bad lines."""

import luigi
from luigi.util import requires

from spark.tables import DUMP_TABLES
from tasks.context import current_lake, current_runner
from tasks.ingest import IngestDump
from tasks.progress import ProgressReport, SparkJobProgress


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
        outputs["metrics"] = lake.target(*self._metrics_path())
        return outputs

    def run(self) -> None:
        lake = current_lake()
        lake.remove(*self._metrics_path())  # tables are about to change: nothing may look complete meanwhile
        manifest_path = self.requires().manifest_path()
        manifest = lake.read_json(*manifest_path)
        report = ProgressReport(self)
        current_runner().run(
            "transform_dump",
            [
                "--dump", self.dump,
                "--manifest", lake.url(*manifest_path),
                "--curated", lake.url("curated", self.release),
                "--quarantine", lake.url("quarantine", self.release, self.dump),
                "--metrics", lake.url(*self._metrics_path()),
            ],
            on_status=self.set_status_message,
            job_key=self.task_id,
            on_tracking_url=self.set_tracking_url,
            on_progress=SparkJobProgress(report, lines=manifest["lines"]),
        )  # fmt: skip
        metrics = lake.read_json(*self._metrics_path())  # the job writes it only once the lines reconcile
        report(
            100,
            f"{metrics['lines']:,} lines: {metrics['written']:,} rows, "
            f"{metrics['quarantined_total']:,} quarantined",
            final=True,
        )

    def _metrics_path(self) -> tuple[str, ...]:
        return ("curated", self.release, "_metrics", f"{self.dump}.json")
