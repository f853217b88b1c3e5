"""BuildMarts: join the curated tables of a release into the marts, keys resolved through redirects."""

from lake import Lake
from spark import catalog
from spark.catalog import Location
from spark.contracts import MartsArgs
from tasks import config
from tasks.progress import ProgressReport
from tasks.release import ReleaseParameter
from tasks.stage import SparkStage
from tasks.transform import TransformDump


def previous_release(lake: Lake, release: str, dumps: list[str]) -> str | None:
    """The most recent release before `release` that is complete in the lake (catalog.complete_releases)
    and still has the primary table of every dump in `dumps` (what the comparison reads), or None."""
    for date in reversed([d for d in catalog.complete_releases(lake) if d < release]):
        primaries = (catalog.CURATED.marker_path(release=date, table=catalog.DUMPS[d].primary) for d in dumps)
        if all(lake.exists(*flag) for flag in primaries):
            return date
    return None


class BuildMarts(SparkStage):
    """Writes marts/{release}/{mart}/ (Parquet + _SUCCESS) for every mart of catalog.MARTS (dim_author,
    dim_work, dim_subject, fct_ratings, fct_shelves, dim_edition, isbn_lookup, data_quality), then
    marts/{release}/_summary.json (what the run report charts, with the change against the previous
    complete release in the lake, and the data_quality rows), and last marts/{release}/_metrics.json
    (row counts, fan-out check).
    """

    release = ReleaseParameter(default="latest", description="Release date YYYY-MM-DD, or latest")
    stale = ("summary",)
    with_inputs = True

    def requires(self) -> dict[str, TransformDump]:
        dumps = config.openlibrary().dumps
        return {dump: TransformDump(release=self.release, dump=dump, lake=self.lake) for dump in dumps}

    def locations(self) -> dict[str, Location]:
        release = self.release
        locations = {mart: catalog.MART.at(release=release, mart=mart) for mart in catalog.MARTS}
        locations["summary"] = catalog.MARTS_SUMMARY.at(release=release)
        locations["metrics"] = catalog.MARTS_METRICS.at(release=release)
        return locations

    def build(self, lake: Lake) -> None:
        dumps = list(config.openlibrary().dumps)
        previous = previous_release(lake, self.release, dumps)
        job = MartsArgs(
            curated=lake.url(*catalog.CURATED.parent(release=self.release)),
            marts=lake.url(*catalog.MART.parent(release=self.release)),
            summary=lake.url(*catalog.MARTS_SUMMARY.path(release=self.release)),
            metrics=lake.url(*catalog.MARTS_METRICS.path(release=self.release)),
            dumps=tuple(dumps),
            previous_release=previous,
            previous_curated=lake.url(*catalog.CURATED.parent(release=previous)) if previous else None,
        )
        report = ProgressReport(self)
        self.run_job(job, report)
        marts = lake.read_json(*catalog.MARTS_METRICS.path(release=self.release))["marts"]
        report(100, "rows: " + ", ".join(f"{name} {rows:,}" for name, rows in marts.items()), final=True)
