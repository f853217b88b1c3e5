"""The report page as text (report/): self-contained, escaped, and saying so when a chart has no data.

The browser tests (test_report_browser.py) check what the page draws; these check the HTML itself on a
small hand-made report document, with no Spark and no browser.
"""

import html
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


def quality_entry(measure: str, reference: str, detail: str | None, count: int, total: int | None) -> dict:
    """One entry of the summary's "quality" list; `reference` is TABLE.COLUMN, the share count / total."""
    table, column = reference.split(".")
    return {
        "measure": measure, "table_name": table, "column_name": column, "detail": detail, "count": count,
        "total": total, "share": None if total is None else count / total,
    }  # fmt: skip


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


def test_a_duration_under_a_second_is_shown_to_the_millisecond() -> None:
    document = report()
    document["dumps"]["works"]["durations_s"] = {"ingest": 0.018, "transform": 12.25}
    cells = re.findall(
        r"<td>([^<]*)</td>", re.search(r'<tr data-dump="works">(.*?)</tr>', render_page(document))[1]
    )
    assert cells[-2:] == ["0.018", "12.2"]


def test_the_quality_section_draws_the_measures_and_lists_the_isbns_refused() -> None:
    quality = [
        quality_entry("filled", "works.title", None, 3, 4),
        quality_entry("orphans_before_redirects", "editions.work_key", "works", 2, 5),
        quality_entry("isbns_refused", "editions.isbn_13", "bad_checksum", 7, None),
        quality_entry("isbns_refused", "editions.isbn_10", HOSTILE, 1200, None),
    ]
    page = render_page(report(quality=quality))
    assert 'id="quality-unavailable"' not in page
    assert 'id="chart-quality-filled-plot"' in page and 'id="chart-quality-orphans-plot"' in page
    assert '"text":["75.0%"]' in page and '"text":["2 (40.0%)"]' in page
    refused = re.findall(
        r'<tr data-column="([^"]+)" data-reason="([^"]+)"><td>.*?</td><td>.*?</td><td>(.*?)</td>', page
    )
    assert refused == [("isbn_10", html.escape(HOSTILE), "1,200"), ("isbn_13", "bad_checksum", "7")]
    assert HOSTILE not in page


def test_a_release_without_quality_measures_says_so() -> None:
    page = render_page(report())
    note = re.search(r'<p class="note" id="quality-unavailable">(.*?)</p>', page)
    assert note and "not available for release 2026-10-31" in note[1]
    assert "chart-quality" not in page
