"""The charts of the run report: plotly figures built from a report document (reports/{release}/report.json).

Names (dumps, tables, marts, reasons) are drawn in alphabetical order, so the page does not depend on the
order of a document's keys (report.json is written with sorted keys). Plotly reads a subset of HTML in
every label it draws, so each text that comes from data passes through label() first: plotly then shows
`<b>` or `<script>` as those characters, never as markup.
"""

import html
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

NEW_COLOUR = "#2a9d8f"
REMOVED_COLOUR = "#e76f51"
ROWS_COLOUR = "#264653"
QUARANTINE_COLOUR = "#e9c46a"
MART_COLOUR = "#8ab17d"
FIRST_PRINTED_YEAR = 1450  # earlier publish years are typos or manuscripts: counted, not drawn
# Above the plot area: plotly's toolbar (its modebar, ~25 px high at the top right) is drawn there, not
# over the bars.
TOP_MARGIN_PX = 34
BAR_PX = 24  # the height of a horizontal bar (with its gap)


@dataclass(frozen=True)
class Chart:
    """One chart of the page: `figure` is None when there is nothing to draw; `note`, shown under it, says
    why, or what the chart leaves out."""

    chart_id: str
    title: str
    figure: go.Figure | None
    note: str = ""


def label(text: Any) -> str:
    """A data value as a plotly label: HTML-escaped, so that plotly draws it literally."""
    return html.escape(str(text), quote=False)


def _layout(figure: go.Figure, height: int = 360, **axes: Any) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": TOP_MARGIN_PX, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        **axes,
    )
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True, rangemode="tozero")
    return figure


def _bar(names: list[Any], values: list[int], name: str, colour: str | None = None) -> go.Bar:
    """Bars named `name`, one per name (labelled), each showing its value; plotly's colour if none."""
    return go.Bar(
        x=[label(n) for n in names],
        y=values,
        name=name,
        marker_color=colour,
        text=values,
        textposition="auto",
        textangle=0,
    )


def hbar(names: list[Any], values: list[Any], name: str, colour: str | None, text: list[Any]) -> go.Bar:
    """Horizontal bars named `name`, one per name (labelled, on the y axis), each showing its `text`."""
    return go.Bar(
        x=values,
        y=[label(n) for n in names],
        orientation="h",
        name=name,
        marker_color=colour,
        text=text,
        textposition="auto",
    )


def hlayout(figure: go.Figure, bars: int, **axes: Any) -> go.Figure:
    """The layout of a horizontal bar chart: tall enough for `bars` bars, the first name at the top."""
    return _layout(
        figure,
        height=120 + BAR_PX * bars,
        yaxis={"autorange": "reversed", "type": "category"},
        **axes,
    )


def lines_per_dump(report: dict[str, Any]) -> Chart:
    """Per dump: lines turned into rows and lines quarantined (together, every line ingested)."""
    entries = report["dumps"]
    dumps = sorted(entries)
    figure = go.Figure(
        [
            _bar(dumps, [entries[d]["written"] for d in dumps], "rows written", ROWS_COLOUR),
            _bar(dumps, [entries[d]["quarantined_total"] for d in dumps], "quarantined", QUARANTINE_COLOUR),
        ]
    )
    return Chart("chart-lines-per-dump", "Lines per dump", _layout(figure, barmode="stack"))


def rows_per_table(report: dict[str, Any]) -> Chart:
    """Rows of every curated table, then every mart: horizontal bars, so that each name is read whole."""
    curated = {table: rows for entry in report["dumps"].values() for table, rows in entry["rows"].items()}
    tables, marts = sorted(curated), sorted(report["marts"])
    counts = [curated[table] for table in tables], [report["marts"][mart] for mart in marts]
    figure = go.Figure(
        [
            hbar(tables, counts[0], "curated table", ROWS_COLOUR, counts[0]),
            hbar(marts, counts[1], "mart", MART_COLOUR, counts[1]),
        ]
    )
    return Chart("chart-rows-per-table", "Rows per table", hlayout(figure, len(tables) + len(marts)))


def quarantine_by_reason(report: dict[str, Any]) -> Chart:
    """Quarantined lines per dump, one stacked colour per reason."""
    dumps = sorted(report["dumps"])
    reasons = sorted({reason for d in dumps for reason, n in report["dumps"][d]["quarantined"].items() if n})
    if not reasons:
        figure = go.Figure(_bar(dumps, [0 for _ in dumps], "quarantined", QUARANTINE_COLOUR))
        return Chart(
            "chart-quarantine", "Quarantined lines by reason", _layout(figure), "No line was quarantined."
        )
    figure = go.Figure(
        [
            _bar(dumps, [report["dumps"][d]["quarantined"].get(reason, 0) for d in dumps], label(reason))
            for reason in reasons
        ]
    )
    return Chart("chart-quarantine", "Quarantined lines by reason", _layout(figure, barmode="stack"))


def plausible_years(release: str) -> range:
    """Publish years drawn on the chart: from the first printed books to the year after the release's."""
    return range(FIRST_PRINTED_YEAR, int(release[:4]) + 2)


def editions_by_year(summary: dict[str, Any], release: str) -> Chart:
    """Editions per publish year; those with no readable year, or an implausible one (a typo such as 9999
    would flatten the chart), are counted in the note."""
    rows = summary["editions_by_publish_year"]
    years = plausible_years(release)
    drawn = [row for row in rows if row["publish_year"] in years]
    undated = sum(row["editions"] for row in rows if row["publish_year"] is None)
    elsewhere = sum(row["editions"] for row in rows if row["publish_year"] not in years) - undated
    notes = [f"Editions with no readable publish year: {undated:,}."] if undated else []
    if elsewhere:
        notes.append(f"Editions with a year outside {years.start}-{years.stop - 1}: {elsewhere:,}.")
    note = " ".join(notes)
    if not drawn:
        return Chart("chart-editions-by-year", "Editions by publish year", None, note or "No editions.")
    figure = go.Figure(
        go.Bar(
            x=[row["publish_year"] for row in drawn],
            y=[row["editions"] for row in drawn],
            name="editions",
            marker_color=ROWS_COLOUR,
        )
    )
    return Chart("chart-editions-by-year", "Editions by publish year", _layout(figure), note)


def top_subjects(summary: dict[str, Any]) -> Chart:
    """The subjects with the most works, most at the top."""
    rows = summary["top_subjects"]
    if not rows:
        return Chart("chart-top-subjects", "Top subjects", None, "No work has a subject.")
    counts = [row["work_count"] for row in rows]
    figure = go.Figure(hbar([row["subject"] for row in rows], counts, "works", ROWS_COLOUR, counts))
    return Chart("chart-top-subjects", f"Top {len(rows)} subjects (works)", hlayout(figure, len(rows)))


def ratings(summary: dict[str, Any]) -> Chart:
    """How many ratings gave each star value."""
    rows = summary["ratings"]
    if not rows:
        return Chart("chart-ratings", "Ratings distribution", None, "No ratings.")
    figure = go.Figure(
        _bar([row["rating"] for row in rows], [row["ratings"] for row in rows], "ratings", ROWS_COLOUR)
    )
    return Chart("chart-ratings", "Ratings distribution", _layout(figure, xaxis={"type": "category"}))


def shelves(summary: dict[str, Any]) -> Chart:
    """Reading-log entries per shelf."""
    rows = summary["shelves"]
    if not rows:
        return Chart("chart-shelves", "Reading-log shelves", None, "No reading-log entries.")
    figure = go.Figure(
        _bar([row["shelf"] for row in rows], [row["entries"] for row in rows], "entries", ROWS_COLOUR)
    )
    return Chart("chart-shelves", "Reading-log shelves", _layout(figure))


def changes(summary: dict[str, Any]) -> Chart:
    """New and removed records of each dump's primary table against the previous release in the lake."""
    previous = summary["changes"]["previous_release"]
    if previous is None:
        return Chart(
            "chart-changes", "Change against the previous release", None, "No earlier release in the lake."
        )
    per_dump = summary["changes"]["dumps"]
    dumps = sorted(per_dump)
    names = [f"{dump} ({per_dump[dump]['table']})" for dump in dumps]
    new, removed = ([per_dump[dump][side] for dump in dumps] for side in ("new", "removed"))
    figure = go.Figure(
        [hbar(names, new, "new", NEW_COLOUR, new), hbar(names, removed, "removed", REMOVED_COLOUR, removed)]
    )
    return Chart(
        "chart-changes",
        f"Change against {previous}",
        hlayout(figure, 2 * len(dumps), barmode="group"),
        "Records of each dump's main table whose key is new or gone since that release "
        "(ratings and reading-log rows have no key: compared whole).",
    )


def report_charts(report: dict[str, Any]) -> list[Chart]:
    """Every chart of the page, in page order."""
    summary = report["summary"]
    return [
        lines_per_dump(report),
        rows_per_table(report),
        quarantine_by_reason(report),
        changes(summary),
        editions_by_year(summary, report["release"]),
        top_subjects(summary),
        ratings(summary),
        shelves(summary),
    ]
