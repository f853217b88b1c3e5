"""The stage protocol (tasks/stage.py): the marker is removed before building and written last, and the
outputs are the catalog's."""

import json
from pathlib import Path

import pytest

from lake import Lake
from spark import catalog
from spark.catalog import Location
from tasks import BuildMarts, IngestDump, RunReport, TransformDump
from tasks.stage import LakeStage
from tests.pipeline_helpers import luigi_config

RELEASE = "2026-10-31"


class PageStage(LakeStage):
    """A stage like RunReport: a page, then the document as its marker."""

    marker = "document"
    seen: list[str]

    def locations(self) -> dict[str, Location]:
        return {
            "page": catalog.REPORT_PAGE.at(release=RELEASE),
            "document": catalog.REPORT.at(release=RELEASE),
        }

    def build(self, lake: Lake) -> dict | None:
        document = catalog.REPORT.path(release=RELEASE)
        self.seen.append(f"marker there: {lake.exists(*document)}")
        with lake.open_write(*catalog.REPORT_PAGE.path(release=RELEASE)) as page:
            page.write(b"<html>")
        self.seen.append(f"marker there after the page: {lake.exists(*document)}")
        if self.seen[0] == "fail":
            raise RuntimeError("build failed")
        return None if self.seen[0] == "forget" else {"pages": 1}


def stage(tmp_path: Path, first: str = "") -> PageStage:
    task = PageStage(lake=str(tmp_path))
    task.seen = [first] if first else []
    return task


def test_the_marker_goes_before_the_build_and_comes_back_last(tmp_path: Path) -> None:
    document = tmp_path / "reports" / RELEASE / "report.json"
    document.parent.mkdir(parents=True)
    document.write_text('{"old": true}')
    task = stage(tmp_path)
    assert task.complete() is False  # the page is not there yet
    task.run()
    assert task.seen == ["marker there: False", "marker there after the page: False"]
    assert json.loads(document.read_text()) == {"pages": 1}
    assert task.complete()


def test_a_failed_build_leaves_no_marker(tmp_path: Path) -> None:
    document = tmp_path / "reports" / RELEASE / "report.json"
    document.parent.mkdir(parents=True)
    document.write_text("{}")
    with pytest.raises(RuntimeError, match="build failed"):
        stage(tmp_path, "fail").run()
    assert not document.exists()


def test_a_build_that_writes_no_marker_fails_the_run(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"ended without writing .*report\.json"):
        stage(tmp_path, "forget").run()


def test_the_pipelines_outputs_are_the_catalogs_markers(tmp_path: Path) -> None:
    with luigi_config({"lake": {"root": str(tmp_path)}}):
        outputs = {
            task.get_task_family(): sorted(target.path for target in task.output().values())
            for task in (
                IngestDump(release=RELEASE, dump="works"),
                TransformDump(release=RELEASE, dump="works"),
                BuildMarts(release=RELEASE),
                RunReport(release=RELEASE),
            )
        }
    lake = f"{tmp_path}/"
    assert {family: [path.removeprefix(lake) for path in paths] for family, paths in outputs.items()} == {
        "IngestDump": [f"raw/{RELEASE}/works/_MANIFEST.json"],
        "TransformDump": [
            f"curated/{RELEASE}/_metrics/works.json",
            f"curated/{RELEASE}/work_authors/_SUCCESS",
            f"curated/{RELEASE}/works/_SUCCESS",
            f"quarantine/{RELEASE}/works/_SUCCESS",
        ],
        "BuildMarts": sorted(
            [f"marts/{RELEASE}/{mart}/_SUCCESS" for mart in catalog.MARTS]
            + [f"marts/{RELEASE}/_metrics.json", f"marts/{RELEASE}/_summary.json"]
        ),
        "RunReport": [f"reports/{RELEASE}/report.html", f"reports/{RELEASE}/report.json"],
    }
