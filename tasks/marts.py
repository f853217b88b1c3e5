"""BuildMarts: join the curated tables of a release into the marts, keys resolved through redirects."""

import luigi

from lake import Lake
from source.release import is_release_date
from spark.tables import MARTS, primary_table
from tasks import config
from tasks.completion import complete_with_inputs
from tasks.context import current_lake, current_runner
from tasks.progress import ProgressReport, SparkJobProgress
from tasks.release import ReleaseParameter
from tasks.transform import TransformDump


def previous_release(lake: Lake, release: str, dumps: list[str]) -> str | None:
    """The most recent release before `release` that is complete in the lake, or None.

    Complete: its run report exists (reports/{date}/report.json, the pipeline's last output) and the
    primary table of every dump in `dumps` is still there (curated/{date}/{table}/_SUCCESS).
    """
    reported = lake.list_below("reports")
    dates = {date for date, *rest in reported if rest == ["report.json"] and is_release_date(date)}
    for date in sorted((d for d in dates if d < release), reverse=True):
        if all(lake.flag("curated", date, primary_table(dump)).exists() for dump in dumps):
            return date
    return None


class BuildMarts(luigi.Task):
    """Writes marts/{release}/{mart}/ (Parquet + _SUCCESS) for dim_author, dim_work, dim_subject,
    fct_ratings and fct_shelves, then marts/{release}/_summary.json (what the run report charts, with the
    change against the previous complete release in the lake), and last marts/{release}/_metrics.json
    (row counts, fan-out check).
    """

    release = ReleaseParameter(default="latest", description="Release date YYYY-MM-DD, or latest")
    resources = {"spark": 1}  # noqa: RUF012 - luigi reads this class attribute

    def requires(self) -> dict[str, TransformDump]:
        return {dump: TransformDump(release=self.release, dump=dump) for dump in config.openlibrary().dumps}

    def output(self) -> dict[str, luigi.Target]:
        lake = current_lake()
        outputs = {mart: lake.flag("marts", self.release, mart) for mart in MARTS}
        outputs["summary"] = lake.target("marts", self.release, "_summary.json")
        outputs["metrics"] = lake.target("marts", self.release, "_metrics.json")
        return outputs

    def complete(self) -> bool:
        return complete_with_inputs(self)

    def run(self) -> None:
        lake = current_lake()
        lake.remove("marts", self.release, "_metrics.json")
        lake.remove("marts", self.release, "_summary.json")
        dumps = list(config.openlibrary().dumps)
        previous = previous_release(lake, self.release, dumps)
        compare = (
            ["--previous-release", previous, "--previous-curated", lake.url("curated", previous)]
            if previous
            else []
        )
        report = ProgressReport(self)
        current_runner().run(
            "build_marts",
            [
                "--curated", lake.url("curated", self.release),
                "--marts", lake.url("marts", self.release),
                "--summary", lake.url("marts", self.release, "_summary.json"),
                "--metrics", lake.url("marts", self.release, "_metrics.json"),
                "--dumps", ",".join(dumps),
                *compare,
            ],
            on_status=self.set_status_message,
            job_key=self.task_id,
            on_tracking_url=self.set_tracking_url,
            on_progress=SparkJobProgress(report),
        )  # fmt: skip
        marts = lake.read_json("marts", self.release, "_metrics.json")["marts"]
        report(100, "rows: " + ", ".join(f"{name} {rows:,}" for name, rows in marts.items()), final=True)
