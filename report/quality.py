"""The data-quality charts of the run report, from the marts summary's "quality" list.

Each entry of that list is {measure, table_name, column_name, detail, count, total, share}:
- "filled": per curated table and column, the rows with a value (count) of all rows (total);
- "orphans_before_redirects" / "orphans_after_redirects": per reference (table_name.column_name naming a
  record of the table `detail`), the rows whose reference names no such record, of those with a reference;
- "isbns_refused": editions' ISBNs (column_name isbn_10 or isbn_13) not emitted, per reason (`detail`).
Names are drawn in alphabetical order, through charts.label().
"""

from typing import Any

import plotly.graph_objects as go

from report.charts import NEW_COLOUR, REMOVED_COLOUR, Chart, hbar, hlayout

FILLED = "filled"
ORPHANS = {"orphans_before_redirects": "before redirects", "orphans_after_redirects": "after redirects"}
ORPHAN_COLOURS = {"orphans_before_redirects": REMOVED_COLOUR, "orphans_after_redirects": NEW_COLOUR}
ISBNS_REFUSED = "isbns_refused"


def measured(quality: list[dict[str, Any]], measure: str) -> list[dict[str, Any]]:
    """The entries of one measure, by table, column and detail."""
    rows = [row for row in quality if row["measure"] == measure]
    return sorted(rows, key=lambda row: (row["table_name"], row["column_name"], row["detail"] or ""))


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def filled_share(quality: list[dict[str, Any]]) -> Chart:
    """Per curated table and column, the share of rows with a value (%): one colour per table."""
    rows = measured(quality, FILLED)
    if not rows:
        return Chart("chart-quality-filled", "Rows with a value, per column", None, "Not measured.")
    tables: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append(row)
    figure = go.Figure(
        [
            hbar(
                [f"{table}.{row['column_name']}" for row in columns],
                [100 * (row["share"] or 0) for row in columns],
                table,
                None,
                [percent(row["share"]) for row in columns],
            )
            for table, columns in tables.items()
        ]
    )
    return Chart(
        "chart-quality-filled",
        "Rows with a value, per column",
        hlayout(figure, len(rows), xaxis={"range": [0, 105], "ticksuffix": "%"}),  # room for "100%"
        "Share of each curated table's rows that have a value in the column.",
    )


def orphans(quality: list[dict[str, Any]]) -> Chart:
    """Per reference, the rows naming a record that is not there, before and after following redirects."""
    rows = {measure: measured(quality, measure) for measure in ORPHANS}
    references = sorted(
        {(row["table_name"], row["column_name"], row["detail"]) for of in rows.values() for row in of}
    )
    if not references:
        return Chart("chart-quality-orphans", "Orphan references", None, "Not measured.")
    names = [f"{table}.{column} → {target}" for table, column, target in references]
    traces = []
    for measure, name in ORPHANS.items():
        found = {(row["table_name"], row["column_name"], row["detail"]): row for row in rows[measure]}
        entries = [found.get(reference) for reference in references]
        counts = [entry["count"] if entry else 0 for entry in entries]
        text = [f"{entry['count']:,} ({percent(entry['share'])})" if entry else "-" for entry in entries]
        traces.append(hbar(names, counts, name, ORPHAN_COLOURS[measure], text))
    return Chart(
        "chart-quality-orphans",
        "Orphan references",
        hlayout(go.Figure(traces), 2 * len(references), barmode="group"),
        "Rows whose reference names a record absent from the referenced table (share of the rows with a "
        "reference), before and after resolving redirects.",
    )


def isbn_refusals(quality: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(column, reason, count) of the editions' ISBNs refused."""
    return [(row["column_name"], row["detail"], row["count"]) for row in measured(quality, ISBNS_REFUSED)]
