"""Open a report page in Debian's headless Chromium, offline, and read back what it drew.

Playwright drives /usr/bin/chromium (never a browser of its own) with a fresh profile; the browser context
is offline and every request that is not file:// is aborted, so a page that needs the network shows it
as a failed request and a console error.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Per chart section: its title and note, and for its plotly graph (if any) the SVG drawn, the data and the
# tick labels as drawn (top to bottom, left to right).
READ_CHARTS = """() => Array.from(document.querySelectorAll("section.chart")).map(section => {
  const plot = section.querySelector(".js-plotly-plot");
  const texts = (selector, side) => plot ? Array.from(plot.querySelectorAll(selector))
    .sort((a, b) => a.getBoundingClientRect()[side] - b.getBoundingClientRect()[side])
    .map(t => t.textContent) : [];
  return {
    id: section.id,
    title: section.querySelector("h2").textContent,
    note: section.querySelector(".note") ? section.querySelector(".note").textContent : "",
    svg: plot ? plot.querySelectorAll("svg.main-svg").length : 0,
    bars: plot ? plot.querySelectorAll(".barlayer .trace .point path").length : 0,
    traces: plot ? plot.data.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)})) : [],
    y_ticks: texts(".yaxislayer-above .ytick text", "top"),
    x_ticks: texts(".xaxislayer-above .xtick text", "left"),
  };
})"""


# Per plotly graph (by the id of its chart section): the bounding boxes, as [left, top, right, bottom], of its
# SVG, its plot area, its toolbar (the modebar, laid out while hidden), every bar, and every tick label.
READ_GEOMETRY = """() => Object.fromEntries(Array.from(document.querySelectorAll("section.chart"))
  .filter(section => section.querySelector(".js-plotly-plot"))
  .map(section => {
    const plot = section.querySelector(".js-plotly-plot");
    const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const boxes = selector => Array.from(plot.querySelectorAll(selector)).map(box);
    return [section.id, {
      svg: box(plot.querySelector("svg.main-svg")),
      plot_area: box(plot.querySelector(".draglayer .nsewdrag")),
      modebar: box(plot.querySelector(".modebar")),
      bars: boxes(".barlayer .point path"),
      x_ticks: boxes(".xaxislayer-above .xtick text"),
      y_ticks: boxes(".yaxislayer-above .ytick text"),
    }];
  }))"""


@dataclass
class Visit:
    """What happened while a page was open: requests made, console errors, uncaught page errors."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def charts(self) -> dict[str, dict[str, Any]]:
        """Every chart section by id, as READ_CHARTS reads it."""
        return {chart["id"]: chart for chart in self.page.evaluate(READ_CHARTS)}

    def geometry(self) -> dict[str, dict[str, Any]]:
        """Every plotted chart's boxes by section id, as READ_GEOMETRY reads them."""
        return self.page.evaluate(READ_GEOMETRY)

    def table(self, selector: str) -> list[dict[str, str]]:
        """The rows of a table of the page, each as its header's names -> the cells' text."""
        rows = self.page.evaluate(
            "selector => Array.from(document.querySelectorAll(selector + ' tr'))"
            ".map(row => Array.from(row.querySelectorAll('th, td')).map(cell => cell.textContent))",
            selector,
        )
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]] if rows else []


def _only_files(route: Route) -> None:
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort("internetdisconnected")


@contextmanager
def open_offline(path: Path, profile: Path, width: int = 1280) -> Iterator[Visit]:
    """`path` opened from its file:// URL with the network blocked; yields once the page has loaded and
    every plotly graph has finished drawing."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package (make test-deps does)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            offline=True,
            viewport={"width": width, "height": 900},
        )
        try:
            context.route("**/*", _only_files)
            page = context.pages[0] if context.pages else context.new_page()
            visit = Visit(page)
            page.on("request", lambda request: visit.requests.append(request.url))
            page.on("console", lambda message: _keep_errors(message, visit.console_errors))
            page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".every(div => div._fullLayout && div.querySelector('svg.main-svg'))"
            )
            yield visit
        finally:
            context.close()


def _keep_errors(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def screenshot(visit: Visit, destination: Path) -> Path:
    """The whole page as a PNG."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(destination), full_page=True)
    return destination
