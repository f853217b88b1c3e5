"""The run report as one self-contained HTML page: plotly.js inlined once, then the per-dump numbers, every
chart, and the data-quality part (report/quality.py). Nothing is fetched when the page opens, so it works
offline and from a file:// URL.

Every text from data is escaped: html.escape() for the page itself, charts.label() for plotly's labels;
plotly embeds each figure's JSON with <, > and / escaped, so no value can close a <script>.
"""

import html
from typing import Any

import plotly.io as pio
from plotly.offline import get_plotlyjs

from report.charts import Chart, report_charts
from report.quality import filled_share, isbn_refusals, orphans

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
       background: #f6f6f4; }
header { background: #264653; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: 0.85; font-size: 13px; }
main { padding: 18px 28px; }
table { border-collapse: collapse; background: #fff; font-size: 13px; margin-bottom: 18px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e4e4e0; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.chart { background: #fff; border: 1px solid #e4e4e0; border-radius: 6px; padding: 10px 14px; }
.chart h2 { font-size: 15px; margin: 2px 0 8px; }
.note { font-size: 12px; color: #555; margin: 6px 0 0; }
.bad { color: #b00020; font-weight: 600; }
h2.part { font-size: 18px; margin: 22px 0 10px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _seconds(value: float) -> str:
    """A duration: to the millisecond under a second (ingesting a small dump takes a few), else to 0.1 s."""
    return f"{value:,.3f}" if value < 1 else f"{value:,.1f}"


def dumps_table(report: dict[str, Any]) -> str:
    """Per dump: bytes, lines, rows, quarantined, whether they reconcile, and the stage durations."""
    head = (
        "<tr><th>dump</th><th>bytes</th><th>lines</th><th>rows written</th><th>quarantined</th>"
        "<th>reconciled</th><th>ingest s</th><th>transform s</th></tr>"
    )
    rows = []
    for dump, entry in sorted(report["dumps"].items()):
        reconciled = "yes" if entry["reconciled"] else '<span class="bad">NO</span>'
        cells = [
            _number(entry["bytes"]),
            _number(entry["lines"]),
            _number(entry["written"]),
            _number(entry["quarantined_total"]),
        ]
        durations = [_seconds(float(entry["durations_s"][stage])) for stage in ("ingest", "transform")]
        rows.append(
            f'<tr data-dump="{_e(dump)}"><td>{_e(dump)}</td>'
            + "".join(f"<td>{_e(cell)}</td>" for cell in cells)
            + f"<td>{reconciled}</td>"
            + "".join(f"<td>{_e(cell)}</td>" for cell in durations)
            + "</tr>"
        )
    return f'<table id="dumps">{head}{"".join(rows)}</table>'


def chart_section(chart: Chart) -> str:
    """One chart card: its title, the figure (when there is one) and its note."""
    body = (
        pio.to_html(
            chart.figure,
            include_plotlyjs=False,
            full_html=False,
            div_id=f"{chart.chart_id}-plot",
            config=PLOTLY_CONFIG,
            default_height=f"{chart.figure.layout.height}px",
        )
        if chart.figure is not None
        else ""
    )
    note = f'<p class="note">{_e(chart.note)}</p>' if chart.note else ""
    title = f"<h2>{_e(chart.title)}</h2>"
    return f'<section class="chart" id="{_e(chart.chart_id)}">{title}{body}{note}</section>'


def isbn_section(quality: list[dict[str, Any]]) -> str:
    """The card of ISBNs refused: a small table per column and reason, or a note that there were none."""
    refused = isbn_refusals(quality)
    if refused:
        rows = "".join(
            f'<tr data-column="{_e(column)}" data-reason="{_e(reason)}"><td>{_e(column)}</td>'
            f"<td>{_e(reason)}</td><td>{_e(_number(count))}</td></tr>"
            for column, reason, count in refused
        )
        body = (
            f'<table id="isbns-refused"><tr><th>column</th><th>reason</th><th>ISBNs</th></tr>{rows}</table>'
        )
    else:
        body = ""
    note = (
        "ISBNs of editions not emitted into edition_isbns (kept as given in editions), by reason."
        if refused
        else "No ISBN was refused."
    )
    return (
        f'<section class="chart" id="quality-isbns"><h2>ISBNs refused</h2>{body}'
        f'<p class="note">{_e(note)}</p></section>'
    )


def quality_section(report: dict[str, Any]) -> str:
    """The "Data quality" part of the page, from the summary's "quality"; a note when the release has none
    (its marts were built before the measures existed)."""
    title = '<h2 class="part" id="quality">Data quality</h2>'
    quality = report["summary"].get("quality")
    if quality is None:
        note = (
            f"Data-quality measures are not available for release {report['release']}: its marts "
            'summary has no "quality" (the marts were built before they were measured).'
        )
        return f'{title}<p class="note" id="quality-unavailable">{_e(note)}</p>'
    cards = [chart_section(filled_share(quality)), chart_section(orphans(quality)), isbn_section(quality)]
    return f'{title}<div class="grid">{"".join(cards)}</div>'


def render_page(report: dict[str, Any]) -> str:
    """The whole page for one release's report document (report.json plus its "summary")."""
    release = _e(report["release"])
    sections = "".join(chart_section(chart) for chart in report_charts(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Open Library release {release}: run report</title>"
        f"<style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>"
        f"<header><h1>Open Library release {release}</h1>"
        f"<p>Run report generated {_e(report['generated_at'])} from {_e(report['lake'])}; "
        f"marts built in {_e(_seconds(float(report['durations_s']['marts'])))} s.</p></header>"
        f'<main><h2>Dumps</h2>{dumps_table(report)}<div class="grid">{sections}</div>'
        f"{quality_section(report)}</main>"
        "</body></html>\n"
    )
