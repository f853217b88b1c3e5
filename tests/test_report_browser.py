"""The run report pages in a real headless Chromium, opened offline from their file:// URLs.

The pages are the ones the pipeline wrote into the `sample_lake` fixture: the sample release (compared
with the earlier release before it) and that earlier release (the lake's first: nothing to compare with,
and a few quarantined lines). Every number a chart shows is checked against that release's Parquet in the
lake, read by pyarrow. REPORT_SCREENSHOT=docs/report.png keeps the screenshot of the sample release's page
(the README's picture).
"""

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from report import render_page
from spark.catalog import DUMPS as SPECS
from spark.tables import MARTS
from tests.conftest import SampleLake
from tests.pipeline_helpers import DUMPS
from tests.report_browser import open_offline, screenshot

CHARTS = [
    "chart-lines-per-dump",
    "chart-rows-per-table",
    "chart-quarantine",
    "chart-changes",
    "chart-editions-by-year",
    "chart-top-subjects",
    "chart-ratings",
    "chart-shelves",
]
HOSTILE_SUBJECT = '<script>window.injected = 1</script><img src="x" onerror="window.injected = 2">'


@dataclass(frozen=True)
class Rendered:
    """One report page as Chromium drew it."""

    release: str
    url: str
    requests: list[str]
    console_errors: list[str]
    page_errors: list[str]
    charts: dict[str, dict[str, Any]]
    screenshot: Path


def render(html: Path, release: str, folder: Path) -> Rendered:
    with open_offline(html, folder / "profile") as visit:
        charts = visit.charts()
        shot = screenshot(visit, folder / "report.png")
    return Rendered(
        release,
        html.resolve().as_uri(),
        visit.requests,
        visit.console_errors,
        visit.page_errors,
        charts,
        shot,
    )


@pytest.fixture(scope="module", params=["sample release", "earlier release"])
def page(
    request: pytest.FixtureRequest, sample_lake: SampleLake, tmp_path_factory: pytest.TempPathFactory
) -> Rendered:
    release = sample_lake.release if request.param == "sample release" else sample_lake.previous_release
    html = sample_lake.root / "reports" / release / "report.html"
    rendered = render(html, release, tmp_path_factory.mktemp("browser"))
    if release == sample_lake.release and os.environ.get("REPORT_SCREENSHOT"):
        shutil.copyfile(rendered.screenshot, os.environ["REPORT_SCREENSHOT"])
    return rendered


def quarantine_reasons(lake: SampleLake, release: str, dump: str) -> Counter:
    return Counter(row["reason"] for row in lake.rows("quarantine", dump, release))


def trace(chart: dict[str, Any], name: str) -> dict[Any, Any]:
    """x -> y of the trace called `name` in a chart read from the page."""
    [found] = [t for t in chart["traces"] if t["name"] == name]
    return dict(zip(found["x"], found["y"], strict=True))


def test_the_page_renders_offline_without_errors_or_requests(page: Rendered) -> None:
    assert page.requests == [page.url]
    assert page.console_errors == []
    assert page.page_errors == []
    assert page.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_chart_is_present_and_drawn(page: Rendered, sample_lake: SampleLake) -> None:
    assert list(page.charts) == CHARTS
    first_release = page.release == sample_lake.previous_release
    for chart_id, chart in page.charts.items():
        if chart_id == "chart-changes" and first_release:
            assert (chart["svg"], chart["note"]) == (0, "No earlier release in the lake.")
            continue
        assert chart["svg"] >= 1, chart_id
        assert chart["bars"] >= 1, chart_id


def test_lines_per_dump_are_the_rows_and_quarantine_in_the_lake(
    page: Rendered, sample_lake: SampleLake
) -> None:
    chart = page.charts["chart-lines-per-dump"]
    assert trace(chart, "rows written") == {
        dump: len(sample_lake.rows("curated", SPECS[dump].primary, page.release)) for dump in DUMPS
    }
    assert trace(chart, "quarantined") == {
        dump: sum(quarantine_reasons(sample_lake, page.release, dump).values()) for dump in DUMPS
    }


def test_rows_per_table_are_the_lakes_tables_and_marts(page: Rendered, sample_lake: SampleLake) -> None:
    chart = page.charts["chart-rows-per-table"]
    tables = [table for dump in DUMPS for table in SPECS[dump].tables]
    assert trace(chart, "curated table") == {
        table: len(sample_lake.rows("curated", table, page.release)) for table in tables
    }
    assert trace(chart, "mart") == {
        name: len(sample_lake.rows("marts", name, page.release)) for name in MARTS
    }


def test_quarantine_chart_shows_each_reason_per_dump(page: Rendered, sample_lake: SampleLake) -> None:
    chart = page.charts["chart-quarantine"]
    expected = {dump: quarantine_reasons(sample_lake, page.release, dump) for dump in DUMPS}
    reasons = sorted({reason for counts in expected.values() for reason in counts})
    # The earlier release was built with bad lines (tests/earlier_release.py); the sample has none.
    assert bool(reasons) == (page.release == sample_lake.previous_release)
    if reasons:
        assert sorted(t["name"] for t in chart["traces"]) == reasons
        for reason in reasons:
            assert trace(chart, reason) == {dump: expected[dump][reason] for dump in DUMPS}
    else:
        assert trace(chart, "quarantined") == dict.fromkeys(DUMPS, 0)
        assert chart["note"] == "No line was quarantined."


def test_editions_by_year_come_from_the_editions_table(page: Rendered, sample_lake: SampleLake) -> None:
    chart = page.charts["chart-editions-by-year"]
    years = Counter(row["publish_year"] for row in sample_lake.rows("curated", "editions", page.release))
    undated = years.pop(None, 0)
    span = range(1450, int(page.release[:4]) + 2)  # the first printed books to the year after the release
    assert trace(chart, "editions") == {year: n for year, n in years.items() if year in span}
    assert (f"Editions with no readable publish year: {undated:,}." in chart["note"]) == bool(undated)
    assert ("outside" in chart["note"]) == any(year not in span for year in years)


def test_top_subjects_are_the_subject_marts_largest(page: Rendered, sample_lake: SampleLake) -> None:
    chart = page.charts["chart-top-subjects"]
    subjects = sample_lake.rows("marts", "dim_subject", page.release)
    ranked = sorted(subjects, key=lambda row: (-row["work_count"], row["subject"]))[:20]
    assert len(ranked) == 20
    assert chart["y_ticks"] == [row["subject"] for row in ranked]  # as drawn, top to bottom
    assert chart["traces"][0]["x"] == [row["work_count"] for row in ranked]


def test_ratings_and_shelves_come_from_the_fact_marts(page: Rendered, sample_lake: SampleLake) -> None:
    ratings = Counter(row["rating"] for row in sample_lake.rows("marts", "fct_ratings", page.release))
    chart = page.charts["chart-ratings"]
    assert {int(k): v for k, v in trace(chart, "ratings").items()} == ratings
    assert chart["x_ticks"] == [str(rating) for rating in sorted(ratings)]
    shelves = Counter(row["shelf"] for row in sample_lake.rows("marts", "fct_shelves", page.release))
    chart = page.charts["chart-shelves"]
    assert trace(chart, "entries") == shelves
    assert chart["x_ticks"] == [shelf for shelf, _ in sorted(shelves.items(), key=lambda kv: (-kv[1], kv[0]))]


def test_changes_compare_keys_with_the_earlier_release(page: Rendered, sample_lake: SampleLake) -> None:
    chart = page.charts["chart-changes"]
    if page.release == sample_lake.previous_release:
        assert (chart["title"], chart["traces"]) == ("Change against the previous release", [])
        return
    assert chart["title"] == f"Change against {sample_lake.previous_release}"
    new, removed = {}, {}
    for dump in DUMPS:
        table = SPECS[dump].primary

        def keys(release: str, table: str = table, key: tuple[str, ...] = SPECS[dump].key) -> Counter:
            rows = sample_lake.rows("curated", table, release)
            return Counter(tuple(row[name] for name in key) for row in rows)

        now, before = keys(page.release), keys(sample_lake.previous_release)
        new[f"{dump} ({table})"] = sum((now - before).values())
        removed[f"{dump} ({table})"] = sum((before - now).values())
    assert trace(chart, "new") == new
    assert trace(chart, "removed") == removed
    assert all(new.values()) and removed["authors (authors)"] == 1  # as tests/earlier_release.py built it


def test_text_from_data_is_shown_never_run(sample_lake: SampleLake, tmp_path: Path) -> None:
    report = json.loads((sample_lake.root / "reports" / sample_lake.release / "report.json").read_text())
    report["summary"]["top_subjects"][0]["subject"] = HOSTILE_SUBJECT
    report["lake"] = HOSTILE_SUBJECT
    html = tmp_path / "report.html"
    html.write_text(render_page(report), encoding="utf-8")
    assert HOSTILE_SUBJECT not in html.read_text(encoding="utf-8")
    with open_offline(html, tmp_path / "profile") as visit:
        subjects = visit.charts()["chart-top-subjects"]["y_ticks"]
        header = visit.page.inner_text("header")
        injected = visit.page.evaluate("() => window.injected")
        images = visit.page.evaluate("() => document.images.length")
    assert (visit.console_errors, visit.page_errors) == ([], [])
    assert visit.requests == [html.resolve().as_uri()]
    assert subjects[0] == HOSTILE_SUBJECT
    assert HOSTILE_SUBJECT in header
    assert injected is None
    assert images == 0
