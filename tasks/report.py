"""RunReport: one JSON document per release saying what came in, what went out and what was quarantined,
and the same as a self-contained HTML page with charts."""

import datetime as dt
from typing import Any

import luigi
from luigi.util import requires

from lake import Lake
from report import render_page
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
    """The report document: per dump (see dump_report), rows per mart, durations, and the marts job's
    summary (editions per year, top subjects, ratings, shelves, change against the previous release)."""
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
        "summary": lake.read_json("marts", release, "_summary.json"),
    }


PAGE, DOCUMENT = "report.html", "report.json"  # in reports/{release}/; the document is written last


@requires(BuildMarts)
class RunReport(luigi.Task):
    """Writes reports/{release}/report.html (the charts page), then, last, reports/{release}/report.json
    from the ingest manifests, the transform metrics and the marts' metrics and summary. Its tracking URL in
    the visualiser is the page, as a browser opens it (file:// or https://storage.cloud.google.com/...).
    """

    def output(self) -> dict[str, luigi.Target]:
        lake = current_lake()
        return {name: lake.target("reports", self.release, name) for name in (PAGE, DOCUMENT)}

    def complete(self) -> bool:
        return complete_with_inputs(self)

    def run(self) -> None:
        lake = current_lake()
        lake.remove("reports", self.release, DOCUMENT)  # the page is about to change
        report = release_report(lake, self.release, list(config.openlibrary().dumps))
        with lake.open_write("reports", self.release, PAGE) as page:
            page.write(render_page(report).encode("utf-8"))
        lake.write_json(report, "reports", self.release, DOCUMENT)
        self.set_tracking_url(lake.browser_url("reports", self.release, PAGE))
