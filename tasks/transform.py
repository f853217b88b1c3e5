"""TransformDump: parse one raw dump into typed Parquet tables with Spark, quarantining bad lines."""

from luigi.util import requires

from lake import Lake
from spark import catalog
from spark.catalog import Location
from spark.contracts import TransformArgs
from tasks.ingest import IngestDump
from tasks.progress import ProgressReport
from tasks.stage import SparkStage


def transform_arguments(lake: Lake, release: str, dump: str) -> TransformArgs:
    """The arguments of spark/transform_dump.py for one dump of a release in `lake`."""
    return TransformArgs(
        dump=dump,
        manifest=lake.url(*catalog.MANIFEST.path(release=release, dump=dump)),
        curated=lake.url(*catalog.CURATED.parent(release=release)),
        quarantine=lake.url(*catalog.QUARANTINE.path(release=release, dump=dump)),
        metrics=lake.url(*catalog.TRANSFORM_METRICS.path(release=release, dump=dump)),
    )


def input_bytes(manifest: dict) -> int | None:
    """The uncompressed size of a raw dump as its manifest gives it (None when the manifest has none)."""
    return manifest.get("uncompressed_bytes")


@requires(IngestDump)
class TransformDump(SparkStage):
    """Writes curated/{release}/{table}/ (Parquet + _SUCCESS) for each table of the dump,
    quarantine/{release}/{dump}/ (raw line + reason) and, last, curated/{release}/_metrics/{dump}.json
    (lines, rows per table, quarantined by reason), where rows written + lines quarantined == lines ingested.
    """

    def locations(self) -> dict[str, Location]:
        release, dump = self.release, self.dump
        locations = {
            table: catalog.CURATED.at(release=release, table=table) for table in catalog.DUMPS[dump].tables
        }
        locations["quarantine"] = catalog.QUARANTINE.at(release=release, dump=dump)
        locations["metrics"] = catalog.TRANSFORM_METRICS.at(release=release, dump=dump)
        return locations

    def build(self, lake: Lake) -> None:
        manifest = lake.read_json(*catalog.MANIFEST.path(release=self.release, dump=self.dump))
        report = ProgressReport(self)
        job = transform_arguments(lake, self.release, self.dump)
        self.run_job(job, report, lines=manifest["lines"], input_bytes=input_bytes(manifest))
        metrics = lake.read_json(*self.locations()["metrics"].path)  # written once the lines reconcile
        report(
            100,
            f"{metrics['lines']:,} lines: {metrics['written']:,} rows, "
            f"{metrics['quarantined_total']:,} quarantined",
            final=True,
        )
