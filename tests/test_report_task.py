"""RunReport and where its page is linked: the visualiser's tracking URL (a real luigid), a GCS lake (the
emulator), the line `make run` / `make demo` print, and how BuildMarts picks the release to compare with.

RunReport runs on copies of the `sample_lake` fixture, so only the report is rebuilt, with no Spark.
"""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import luigi
import luigi.scheduler
import luigi.worker
from google.cloud import storage
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from bench.gcs_emulator import upload_folder
from lake import open_lake
from lake.gcs import GcsLake
from spark.catalog import DUMPS as SPECS
from spark.catalog import MARTS
from tasks.marts import previous_release
from tasks.report import RunReport
from tests.conftest import SampleLake
from tests.luigid_server import scheduler_api
from tests.pipeline_helpers import DUMPS, child_environment, child_folder, luigi_config, pipeline_settings

UNUSED_SOURCE = "http://127.0.0.1:9/data"  # RunReport never reads the source: every input is in the lake
REPORT_KEYS = {"release", "generated_at", "lake", "dumps", "marts", "durations_s"}  # the public keys


def lines_shown_per_dump(page: str) -> dict[str, int]:
    """The "lines" column of the page's per-dump table (its second number), read from the HTML."""
    shown = {}
    for dump, cells in re.findall(r'<tr data-dump="([^"]+)">(.*?)</tr>', page):
        numbers = re.findall(r"<td>([0-9][0-9,.]*)</td>", cells)
        shown[dump] = int(numbers[1].replace(",", ""))
    return shown


def lines_ingested(read_manifest: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """What each dump's ingest manifest counted: the page must show the same."""
    return {dump: read_manifest(dump)["lines"] for dump in DUMPS}


def lake_without_report(sample_lake: SampleLake, destination: Path) -> Path:
    """A copy of the sample lake whose sample release has no report yet."""
    shutil.copytree(sample_lake.root, destination)
    shutil.rmtree(destination / "reports" / sample_lake.release)
    return destination


def print_report_url(release: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m tasks.report_url --release RELEASE` in child_folder(folder), with child_environment(env)."""
    return subprocess.run(
        [sys.executable, "-m", "tasks.report_url", "--release", release],
        cwd=child_folder(folder), env=child_environment(env), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_visualiser_links_the_report_page(sample_lake: SampleLake, tmp_path: Path, luigid: int) -> None:
    lake = lake_without_report(sample_lake, tmp_path / "lake")
    with luigi_config(pipeline_settings(UNUSED_SOURCE, lake)):
        result = luigi.build(
            [RunReport(release=sample_lake.release)],
            scheduler_host="127.0.0.1",
            scheduler_port=luigid,
            detailed_summary=True,
        )
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text
    [task] = [
        t for t in scheduler_api(luigid, "task_list", status="DONE").values() if t["name"] == "RunReport"
    ]
    page = lake / "reports" / sample_lake.release / "report.html"
    assert task["tracking_url"] == page.resolve().as_uri()
    assert task["tracking_url"].startswith("file:///")
    report = json.loads((lake / "reports" / sample_lake.release / "report.json").read_text())
    assert REPORT_KEYS | {"summary"} == set(report)
    assert report["summary"] == json.loads(
        (lake / "marts" / sample_lake.release / "_summary.json").read_text()
    )
    manifests = lake / "raw" / sample_lake.release
    expected = lines_ingested(lambda dump: json.loads((manifests / dump / "_MANIFEST.json").read_text()))
    assert lines_shown_per_dump(page.read_text(encoding="utf-8")) == expected


def test_a_report_without_its_page_is_not_complete(sample_lake: SampleLake, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(sample_lake.root, lake)
    with luigi_config(pipeline_settings(UNUSED_SOURCE, lake)):
        assert RunReport(release=sample_lake.release).complete()
        (lake / "reports" / sample_lake.release / "report.html").unlink()
        assert not RunReport(release=sample_lake.release).complete()


def run_report_in_process(task: RunReport) -> dict[str, Any]:
    """Run one task with luigi's own scheduler in this process; that scheduler's record of the task."""
    scheduler = luigi.scheduler.Scheduler()
    with luigi.worker.Worker(scheduler=scheduler, no_install_shutdown_handler=True) as worker:
        worker.add(task)
        assert worker.run()
    return scheduler.task_list("DONE", "")[task.task_id]


def test_a_gcs_lake_links_the_page_in_the_cloud_console(
    sample_lake: SampleLake, tmp_path: Path, gcs: storage.Client
) -> None:
    bucket = gcs.create_bucket("report-lake")
    upload_folder(bucket, lake_without_report(sample_lake, tmp_path / "lake"), "lake")
    root = f"gs://{bucket.name}/lake"
    with luigi_config(pipeline_settings(UNUSED_SOURCE, root) | {"lake": {"root": root}}):
        task = run_report_in_process(RunReport(release=sample_lake.release))
    name = f"lake/reports/{sample_lake.release}/report.html"
    assert task["tracking_url"] == f"https://storage.cloud.google.com/report-lake/{name}"
    page = bucket.get_blob(name)
    assert page.content_type == "text/html"
    report = json.loads(bucket.blob(f"lake/reports/{sample_lake.release}/report.json").download_as_bytes())
    assert report["lake"] == root
    raw = f"lake/raw/{sample_lake.release}"
    expected = lines_ingested(
        lambda dump: json.loads(bucket.blob(f"{raw}/{dump}/_MANIFEST.json").download_as_bytes())
    )
    assert lines_shown_per_dump(page.download_as_bytes().decode("utf-8")) == expected

    printed = print_report_url(sample_lake.release, tmp_path, {"LAKE_ROOT": root})
    assert (printed.returncode, printed.stdout) == (0, f"report: {task['tracking_url']}\n"), printed.stderr


def test_make_demo_prints_the_latest_releases_page(sample_lake: SampleLake, tmp_path: Path) -> None:
    with DumpServer(sample_lake.source, release=sample_lake.release, dumps=DUMPS) as server:
        env = {"LAKE_ROOT": str(sample_lake.root), "OPENLIBRARY_BASE_URL": server.url}
        printed = print_report_url("latest", tmp_path, env)
    page = sample_lake.root / "reports" / sample_lake.release / "report.html"
    assert (printed.returncode, printed.stdout) == (0, f"report: {page.resolve().as_uri()}\n"), printed.stderr


def test_a_missing_page_is_said_and_fails(tmp_path: Path) -> None:
    printed = print_report_url("2026-10-31", tmp_path, {"LAKE_ROOT": str(tmp_path)})
    assert printed.returncode == 1
    assert printed.stdout == ""
    assert (
        f"no run report for 2026-10-31: {tmp_path}/reports/2026-10-31/report.html is missing"
        in printed.stderr
    )


def test_browser_urls_are_escaped_for_each_lake(tmp_path: Path, gcs: storage.Client) -> None:
    local = open_lake(str(tmp_path / "my lake"))
    assert (
        local.browser_url("reports", "r", "report.html")
        == f"file://{tmp_path}/my%20lake/reports/r/report.html"
    )
    remote = GcsLake("gs://bucket/my lake", client=gcs)
    assert remote.browser_url("reports", "r#1", "report.html") == (
        "https://storage.cloud.google.com/bucket/my%20lake/reports/r%231/report.html"
    )


def finished_release(lake: Path, release: str, dumps: tuple[str, ...] = DUMPS) -> None:
    """The files that make `release` complete for the comparison: its marts' flags and its primary tables'."""
    folders = [("marts", mart) for mart in MARTS] + [("curated", SPECS[dump].primary) for dump in dumps]
    for area, name in folders:
        flag = lake / area / release / name / "_SUCCESS"
        flag.parent.mkdir(parents=True)
        flag.touch()


def test_the_release_compared_with_is_the_latest_complete_earlier_one(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    finished_release(lake, "2026-07-31")
    finished_release(lake, "2026-08-31", dumps=DUMPS[:-1])  # one primary table missing: not complete
    finished_release(lake, "2026-11-30")  # later: never the previous one
    finished_release(lake, "2026-09-30")
    (lake / "marts" / "2026-09-30" / MARTS[0] / "_SUCCESS").unlink()  # one mart missing: not complete
    (lake / "marts" / "notes" / MARTS[0]).mkdir(parents=True)
    (lake / "marts" / "notes" / MARTS[0] / "_SUCCESS").touch()
    opened = open_lake(str(lake))
    assert previous_release(opened, "2026-10-31", list(DUMPS)) == "2026-07-31"
    assert previous_release(opened, "2026-10-31", list(DUMPS[:-1])) == "2026-08-31"
    assert previous_release(opened, "2026-07-31", list(DUMPS)) is None
    assert previous_release(open_lake(str(tmp_path / "empty")), "2026-10-31", list(DUMPS)) is None
