"""The report page as text (report/): self-contained, escaped, and saying so when a chart has no data.

The browser tests (test_report_browser.py) check what the page draws; these check the HTML itself on a
small hand-made report document, with no Spark and no browser.
"""

import re
from typing import Any

from plotly.offline import get_plotlyjs

from report import render_page

HOSTILE = '<script>alert("x")</script>'


def dump_entry(written: int, quarantined: dict[str, int], rows: dict[str, int]) -> dict[str, Any]:
    total = sum(quarantined.values())
    return {
        "source_url": "https://openlibrary.org/data/ol_dump_works_2026-10-31.txt.gz",
        "bytes": 1000,
        "md5": "0" * 32,
        "lines": written + total,
        "parts": 1,
        "rows": rows,
        "written": written,
        "quarantined": quarantined,
        "quarantined_total": total,
        "skipped": {},
        "reconciled": True,
        "durations_s": {"ingest": 1.5, "transform": 12.25},
    }


def report(**summary: Any) -> dict[str, Any]:
    return {
        "release": "2026-10-31",
        "generated_at": "2026-11-01T00:00:00+00:00",
        "lake": "/data/lake",
        "dumps": {"works": dump_entry(3, {"invalid_json": 2}, {"works": 3, "work_authors": 4})},
        "marts": {"dim_work": 3},
        "durations_s": {"marts": 20.0},
        "summary": {
            "editions_by_publish_year": [{"publish_year": 1999, "editions": 2}],
            "top_subjects": [{"subject": "Cats", "work_count": 2}],
            "ratings": [{"rating": 5, "ratings": 1}],
            "shelves": [{"shelf": "Want to Read", "entries": 1}],
            "changes": {
                "previous_release": "2026-09-30",
                "dumps": {"works": {"table": "works", "keys": ["work_key"], "new": 1, "removed": 0}},
            },
        }
        | summary,
    }


def test_the_page_inlines_plotly_once_and_references_nothing_outside() -> None:
    page = render_page(report())
    assert page.count(get_plotlyjs()) == 1
    ours = page.replace(get_plotlyjs(), "")  # the rest of the page: our HTML and plotly's figure scripts
    assert ours.count("<script") == 1 + 8  # plotly.js, then one per chart
    assert not re.search(r"<script[^>]+src=|<link|<iframe|<img|@import|url\(|https?://", ours)


def test_text_from_data_is_escaped_in_the_html() -> None:
    page = render_page(report(top_subjects=[{"subject": HOSTILE, "work_count": 1}]) | {"lake": HOSTILE})
    assert HOSTILE not in page
    assert "from &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # the lake, in the header
    # The subject reaches plotly as an HTML-escaped label, in JSON whose "/" plotly escapes inside a <script>.
    assert '"y":["&lt;script&gt;alert(\\"x\\")&lt;\\u002fscript&gt;"]' in page


def test_charts_without_data_say_why() -> None:
    page = render_page(
        report(
            editions_by_publish_year=[
                {"publish_year": 1200, "editions": 1},
                {"publish_year": 9999, "editions": 2},
                {"publish_year": None, "editions": 4},
            ],
            top_subjects=[],
            ratings=[],
            shelves=[],
            changes={"previous_release": None, "dumps": {}},
        )
    )
    for note in (
        "No earlier release in the lake.",
        "Editions with no readable publish year: 4. Editions with a year outside 1450-2027: 3.",
        "No work has a subject.",
        "No ratings.",
        "No reading-log entries.",
    ):
        assert f'<p class="note">{note}</p>' in page
    for chart_id in (
        "chart-changes", "chart-editions-by-year", "chart-top-subjects", "chart-ratings", "chart-shelves"
    ):  # fmt: skip
        assert f'id="{chart_id}-plot"' not in page
    assert 'id="chart-lines-per-dump-plot"' in page


def test_a_dump_that_does_not_reconcile_is_flagged() -> None:
    document = report()
    document["dumps"]["works"]["reconciled"] = False
    page = render_page(document)
    assert '<td><span class="bad">NO</span></td>' in page
