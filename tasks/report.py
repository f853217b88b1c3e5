"""RunReport: one JSON document per release saying what came in, what went out and what was quarantined,
and the same as a self-contained HTML page with charts."""

import datetime as dt
from typing import Any

from luigi.util import requires

from lake import Lake
from report import render_page
from spark import catalog
from spark.catalog import Location
from tasks import config
from tasks.marts import BuildMarts
from tasks.stage import LakeStage


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
    """The report document: per dump (see dump_report), rows per mart, durations, and the marts job's
    summary (editions per year, top subjects, ratings, shelves, change against the previous release)."""
    marts = lake.read_json(*catalog.MARTS_METRICS.path(release=release))
    return {
        "release": release,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "lake": lake.root,
        "dumps": {
            dump: dump_report(
                lake.read_json(*catalog.MANIFEST.path(release=release, dump=dump)),
                lake.read_json(*catalog.TRANSFORM_METRICS.path(release=release, dump=dump)),
            )
            for dump in dumps
        },
        "marts": marts["marts"],
        "durations_s": {"marts": marts["duration_s"]},
        "summary": lake.read_json(*catalog.MARTS_SUMMARY.path(release=release)),
    }


@requires(BuildMarts)
class RunReport(LakeStage):
    """Writes reports/{release}/report.html (the charts page), then, last, reports/{release}/report.json
    from the ingest manifests, the transform metrics and the marts' metrics and summary. Its tracking URL in
    the visualiser is the page, as a browser opens it (file:// or https://storage.cloud.google.com/...).
    """

    marker = "report.json"
    with_inputs = True

    def locations(self) -> dict[str, Location]:
        return {
            "report.html": catalog.REPORT_PAGE.at(release=self.release),
            "report.json": catalog.REPORT.at(release=self.release),
        }

    def build(self, lake: Lake) -> dict[str, Any]:
        report = release_report(lake, self.release, list(config.openlibrary().dumps))
        page = self.locations()["report.html"].path
        with lake.open_write(*page) as out:
            out.write(render_page(report).encode("utf-8"))
        self.set_tracking_url(lake.browser_url(*page))
        return report
