"""The run report pages in a real headless Chromium, opened offline from their file:// URLs.

The pages are the ones the pipeline wrote into the `sample_lake` fixture: the sample release (compared
with the earlier release before it) and that earlier release (the lake's first: nothing to compare with,
and a few quarantined lines). Every number a chart shows is checked against that release's Parquet in the
lake, read by pyarrow, and the durations against its manifests and metrics. The layout is checked by the
boxes Chromium drew: the toolbar over no bar, tick labels whole and apart. The data-quality section is
checked on a page rendered from the sample's report with quality measures chosen here.
REPORT_SCREENSHOT=docs/report.png keeps the screenshot of the sample release's page (the README's picture).
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
from tests.test_report_page import quality_entry

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
QUALITY_CHARTS = ["chart-quality-filled", "chart-quality-orphans", "quality-isbns"]
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
    geometry: dict[str, dict[str, Any]]
    tables: dict[str, list[dict[str, str]]]
    quality_note: str
    screenshot: Path


def render(html: Path, release: str, folder: Path) -> Rendered:
    with open_offline(html, folder / "profile") as visit:
        charts, geometry = visit.charts(), visit.geometry()
        tables = {name: visit.table(f"#{name}") for name in ("dumps", "isbns-refused")}
        note = visit.page.locator("#quality-unavailable")
        quality_note = note.inner_text() if note.count() else ""
        shot = screenshot(visit, folder / "report.png")
    return Rendered(
        release,
        html.resolve().as_uri(),
        visit.requests,
        visit.console_errors,
        visit.page_errors,
        charts,
        geometry,
        tables,
        quality_note,
        shot,
    )


def summary_of(lake: SampleLake, release: str) -> dict[str, Any]:
    return json.loads((lake.root / "reports" / release / "report.json").read_text())["summary"]


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


def htrace(chart: dict[str, Any], name: str) -> dict[Any, Any]:
    """y -> x of the trace called `name` in a horizontal bar chart read from the page."""
    [found] = [t for t in chart["traces"] if t["name"] == name]
    return dict(zip(found["y"], found["x"], strict=True))


def test_the_page_renders_offline_without_errors_or_requests(page: Rendered) -> None:
    assert page.requests == [page.url]
    assert page.console_errors == []
    assert page.page_errors == []
    assert page.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_chart_is_present_and_drawn(page: Rendered, sample_lake: SampleLake) -> None:
    measured = "quality" in summary_of(sample_lake, page.release)  # marts built before it have none
    assert list(page.charts) == CHARTS + (QUALITY_CHARTS if measured else [])
    first_release = page.release == sample_lake.previous_release
    for chart_id, chart in page.charts.items():
        if chart_id == "quality-isbns":  # a table, not a plot
            continue
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
    assert htrace(chart, "curated table") == {
        table: len(sample_lake.rows("curated", table, page.release)) for table in tables
    }
    assert htrace(chart, "mart") == {
        name: len(sample_lake.rows("marts", name, page.release)) for name in MARTS
    }
    assert chart["y_ticks"] == sorted(tables) + sorted(MARTS)  # top to bottom: tables, then marts


def test_stage_seconds_are_the_manifests_and_metrics_durations(
    page: Rendered, sample_lake: SampleLake
) -> None:
    rows = {row["dump"]: row for row in page.tables["dumps"]}
    assert sorted(rows) == sorted(DUMPS)
    for dump in DUMPS:
        manifest = json.loads((sample_lake.root / "raw" / page.release / dump / "_MANIFEST.json").read_text())
        metrics_path = sample_lake.root / "curated" / page.release / "_metrics" / f"{dump}.json"
        transform = json.loads(metrics_path.read_text())["duration_s"]
        assert manifest["duration_s"] > 0
        assert float(rows[dump]["ingest s"]) == pytest.approx(manifest["duration_s"], abs=0.0005)
        assert float(rows[dump]["transform s"].replace(",", "")) == pytest.approx(transform, abs=0.05)


def overlap(a: list[float], b: list[float]) -> bool:
    """Whether two boxes [left, top, right, bottom] share more than a pixel's sliver."""
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def inside(inner: list[float], outer: list[float]) -> bool:
    return all(inner[i] >= outer[i] - 0.5 for i in (0, 1)) and all(inner[i] <= outer[i] + 0.5 for i in (2, 3))


def check_layout(geometry: dict[str, dict[str, Any]]) -> None:
    """Every plot: its toolbar above the plot area and over no bar; its tick labels inside its SVG and
    none over another."""
    assert geometry
    for chart_id, boxes in geometry.items():
        assert boxes["modebar"][3] <= boxes["plot_area"][1] + 0.5, chart_id
        assert not [bar for bar in boxes["bars"] if overlap(bar, boxes["modebar"])], chart_id
        for axis in ("x_ticks", "y_ticks"):
            ticks = boxes[axis]
            assert all(inside(tick, boxes["svg"]) for tick in ticks), (chart_id, axis)
            assert not [(a, b) for at, a in enumerate(ticks) for b in ticks[at + 1 :] if overlap(a, b)], (
                chart_id,
                axis,
            )


def test_the_toolbar_covers_no_bar_and_tick_labels_are_whole_and_apart(page: Rendered) -> None:
    check_layout(page.geometry)
    subjects = page.geometry["chart-top-subjects"]
    first_bar = min(subjects["bars"], key=lambda bar: bar[1])
    assert subjects["modebar"][3] <= first_bar[1]  # the toolbar ends above the top bar
    rows = page.geometry["chart-rows-per-table"]
    assert len(rows["y_ticks"]) == len(page.charts["chart-rows-per-table"]["y_ticks"]) > 10


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
    assert htrace(chart, "new") == new
    assert htrace(chart, "removed") == removed
    assert chart["y_ticks"] == sorted(new)  # top to bottom
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


FILLED = {
    "works.title": (40, 40),
    "works.subjects": (30, 40),
    "editions.isbn_13": (5, 20),
    "authors.bio": (0, 10),
}
ORPHANS = {  # reference -> (target, (orphans before, after redirects), rows with a reference)
    "editions.work_key": ("works", (4, 1), 20),
    "work_authors.author_key": ("authors", (3, 3), 30),
    "ratings.work_key": ("works", (2, 0), 8),
}
REFUSED = {("isbn_10", "bad_checksum"): 3, ("isbn_10", "bad_length"): 2, ("isbn_13", "bad_checksum"): 1}
CHOSEN_QUALITY = (
    [quality_entry("filled", name, None, count, total) for name, (count, total) in FILLED.items()]
    + [
        quality_entry(f"orphans_{when}_redirects", name, target, counts[at], total)
        for name, (target, counts, total) in ORPHANS.items()
        for at, when in enumerate(("before", "after"))
    ]
    + [
        quality_entry("isbns_refused", f"editions.{column}", reason, n, None)
        for (column, reason), n in REFUSED.items()
    ]
)


@pytest.fixture(scope="module")
def quality_page(sample_lake: SampleLake, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The sample release's page rendered again, its summary holding the quality measures chosen above."""
    folder = tmp_path_factory.mktemp("quality")
    report = json.loads((sample_lake.root / "reports" / sample_lake.release / "report.json").read_text())
    report["summary"]["quality"] = CHOSEN_QUALITY
    html = folder / "report.html"
    html.write_text(render_page(report), encoding="utf-8")
    return render(html, sample_lake.release, folder)


def test_the_quality_section_says_when_a_release_has_no_measures(
    page: Rendered, sample_lake: SampleLake
) -> None:
    if "quality" in summary_of(sample_lake, page.release):
        assert page.quality_note == ""
    else:
        assert page.quality_note == (
            f"Data-quality measures are not available for release {page.release}: its marts summary has no "
            '"quality" (the marts were built before they were measured).'
        )


def test_the_quality_charts_show_the_measures(quality_page: Rendered) -> None:
    assert (quality_page.console_errors, quality_page.page_errors, quality_page.quality_note) == ([], [], "")
    assert list(quality_page.charts) == CHARTS + QUALITY_CHARTS
    filled = quality_page.charts["chart-quality-filled"]
    assert filled["y_ticks"] == sorted(FILLED)  # grouped by table, top to bottom
    for table in {name.split(".")[0] for name in FILLED}:
        assert htrace(filled, table) == {
            name: pytest.approx(100 * count / total)
            for name, (count, total) in FILLED.items()
            if name.startswith(f"{table}.")
        }
    orphans = quality_page.charts["chart-quality-orphans"]
    labels = {f"{name} → {target}": counts for name, (target, counts, _) in ORPHANS.items()}
    assert orphans["y_ticks"] == sorted(labels)
    assert htrace(orphans, "before redirects") == {label: counts[0] for label, counts in labels.items()}
    assert htrace(orphans, "after redirects") == {label: counts[1] for label, counts in labels.items()}
    shown = {
        (row["column"], row["reason"]): int(row["ISBNs"]) for row in quality_page.tables["isbns-refused"]
    }
    assert shown == REFUSED
    check_layout(quality_page.geometry)
