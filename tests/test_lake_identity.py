"""The lake is part of a task's identity: runs into two lakes are two tasks, in luigid too."""

import json
from pathlib import Path

import luigi

from spark import catalog
from tasks import BuildMarts, IngestDump, OpenLibraryPipeline
from tests.luigid_server import scheduler_api
from tests.pipeline_helpers import luigi_config

RELEASE = "2026-10-31"


def test_the_lake_defaults_to_the_configured_root_and_changes_the_task_id(tmp_path: Path) -> None:
    with luigi_config({"lake": {"root": str(tmp_path / "a")}}):
        default = IngestDump(release=RELEASE, dump="works")
        other = IngestDump(release=RELEASE, dump="works", lake=str(tmp_path / "b"))
        assert default.lake == str(tmp_path / "a")
        assert default.task_id == IngestDump(release=RELEASE, dump="works", lake=str(tmp_path / "a")).task_id
        assert default.task_id != other.task_id
        assert repr(default) == f"IngestDump(release={RELEASE}, dump=works)"  # as before, for the usual lake
        assert repr(other) == f"IngestDump(release={RELEASE}, dump=works, lake={tmp_path / 'b'})"


def test_the_lake_flows_down_the_graph(tmp_path: Path) -> None:
    with luigi_config({"lake": {"root": str(tmp_path / "a")}, "openlibrary": {"dumps": '["works"]'}}):
        (marts,) = BuildMarts(release=RELEASE, lake=str(tmp_path / "b")).requires().values()
        assert marts.lake == str(tmp_path / "b")
        assert marts.requires().lake == str(tmp_path / "b")
        assert marts.requires().output()["manifest"].path.startswith(str(tmp_path / "b"))
        manifest = tmp_path.joinpath("b", *catalog.MANIFEST.path(release=RELEASE, dump="works"))
        manifest.parent.mkdir(parents=True)
        manifest.write_text("{}")  # ingested already: the pipeline checks no source
        pipeline = OpenLibraryPipeline(release=RELEASE, lake=str(tmp_path / "b"))
        assert pipeline.requires().lake == str(tmp_path / "b")


def test_two_lakes_are_two_tasks_in_luigid(tmp_path: Path, luigid: int) -> None:
    lakes = [tmp_path / "lake-a", tmp_path / "lake-b"]
    for lake in lakes:  # each ingest complete already: luigid records them DONE without running anything
        manifest = lake / "raw" / RELEASE / "works" / "_MANIFEST.json"
        manifest.parent.mkdir(parents=True)
        manifest.write_text(json.dumps({"lines": 0, "parts": []}))
    with luigi_config({"lake": {"root": str(lakes[0])}}):
        for lake in lakes:
            assert luigi.build(
                [IngestDump(release=RELEASE, dump="works", lake=str(lake))],
                scheduler_host="127.0.0.1", scheduler_port=luigid, workers=1,
            )  # fmt: skip
    done = scheduler_api(luigid, "task_list", status="DONE")
    assert sorted(task["params"]["lake"] for task in done.values()) == [str(lake) for lake in lakes]
    assert len(done) == 2
