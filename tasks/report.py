"""RunReport: one JSON document per release saying what came in, what went out and what was quarantined."""

import datetime as dt
from typing import Any

import luigi
from luigi.util import requires

from lake import Lake
from tasks import config
from tasks.completion import complete_with_inputs
from tasks.context import current_lake
from tasks.marts import BuildMarts


def dump_report(manifest: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """Per dump: bytes, lines, rows, quarantined lines by reason, and how long each stage took."""
    return {
        "source_url": manifest["source_url"],
        "bytes": manifest["bytes"],
        "md5": manifest["md5"],
        "lines": manifest["lines"],
        "parts": len(manifest["parts"]),
        "rows": metrics["tables"],
        "written": metrics["written"],
        "quarantined": metrics["quarantined"],
        "quarantined_total": metrics["quarantined_total"],
        "skipped": metrics.get("skipped", {}),
        "reconciled": metrics["written"] + metrics["quarantined_total"] == manifest["lines"],
        "durations_s": {"ingest": manifest["duration_s"], "transform": metrics["duration_s"]},
    }


def release_report(lake: Lake, release: str, dumps: list[str]) -> dict[str, Any]:
    marts = lake.read_json("marts", release, "_metrics.json")
    return {
        "release": release,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "lake": lake.root,
        "dumps": {
            dump: dump_report(
                lake.read_json("raw", release, dump, "_MANIFEST.json"),
                lake.read_json("curated", release, "_metrics", f"{dump}.json"),
            )
            for dump in dumps
        },
        "marts": marts["marts"],
        "durations_s": {"marts": marts["duration_s"]},
    }


@requires(BuildMarts)
class RunReport(luigi.Task):
    """Writes reports/{release}/report.json from the ingest manifests and the transform and mart metrics."""

    def output(self) -> luigi.Target:
        return current_lake().target("reports", self.release, "report.json")

    def complete(self) -> bool:
        return complete_with_inputs(self)

    def run(self) -> None:
        lake = current_lake()
        report = release_report(lake, self.release, list(config.openlibrary().dumps))
        lake.write_json(report, "reports", self.release, "report.json")
        self.set_tracking_url(lake.url("reports", self.release, "report.json"))
