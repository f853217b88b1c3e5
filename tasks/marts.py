"""BuildMarts: join the curated tables of a release into the marts, keys resolved through redirects."""

import luigi

from spark.tables import MARTS
from tasks import config
from tasks.completion import complete_with_inputs
from tasks.context import current_lake, current_runner
from tasks.release import ReleaseParameter
from tasks.transform import TransformDump


class BuildMarts(luigi.Task):
    """Writes marts/{release}/{mart}/ (Parquet + _SUCCESS) for dim_author, dim_work, dim_subject,
    fct_ratings and fct_shelves, then marts/{release}/_metrics.json (row counts, fan-out check).
    """

    release = ReleaseParameter(default="latest", description="Release date YYYY-MM-DD, or latest")
    resources = {"spark": 1}  # noqa: RUF012 - luigi reads this class attribute

    def requires(self) -> dict[str, TransformDump]:
        return {dump: TransformDump(release=self.release, dump=dump) for dump in config.openlibrary().dumps}

    def output(self) -> dict[str, luigi.Target]:
        lake = current_lake()
        outputs = {mart: lake.flag("marts", self.release, mart) for mart in MARTS}
        outputs["metrics"] = lake.target("marts", self.release, "_metrics.json")
        return outputs

    def complete(self) -> bool:
        return complete_with_inputs(self)

    def run(self) -> None:
        lake = current_lake()
        lake.remove("marts", self.release, "_metrics.json")
        current_runner().run(
            "build_marts",
            [
                "--curated", lake.url("curated", self.release),
                "--marts", lake.url("marts", self.release),
                "--metrics", lake.url("marts", self.release, "_metrics.json"),
                "--dumps", ",".join(config.openlibrary().dumps),
            ],
            on_status=self.set_status_message,
            job_key=self.task_id,
            on_tracking_url=self.set_tracking_url,
        )  # fmt: skip
