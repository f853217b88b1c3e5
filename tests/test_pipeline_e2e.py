"""The whole graph on the sample release, served over HTTP from 127.0.0.1, checked by value."""

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import luigi
import pytest
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from tasks import OpenLibraryPipeline
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    luigi_config,
    pipeline_settings,
    read_table,
    sample_release,
    source_lines,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# A language record: a real record type, but one that doesn't belong in the works dump.
LANGUAGE_LINE = (
    "/type/language\t/languages/eng\t1\t2008-04-01T03:28:50.625462\t"
    '{"key": "/languages/eng", "name": "English", "code": "eng", "type": {"key": "/type/language"}}\n'
)


def stale_copy(line: str) -> str:
    """The same work at a lower revision, with a title that must not win."""
    columns = line.rstrip("\n").split("\t")
    record = json.loads(columns[4])
    record["revision"] = int(columns[2]) - 1
    record["title"] = "STALE TITLE"
    return "\t".join([columns[0], columns[1], str(record["revision"]), columns[3], json.dumps(record)]) + "\n"


def bad_works_lines(first_work_line: str) -> list[str]:
    return [
        "/type/work\t/works/OL1W\t1\n",
        "/type/work\t/works/OL2W\t1\t2020-01-01T00:00:00\t{not json\n",
        LANGUAGE_LINE,
        '/type/work\t\t1\t2020-01-01T00:00:00\t{"title": "no key"}\n',
        stale_copy(first_work_line),
    ]


BAD_RATINGS_LINES = ["/works/OL54120W\t\\N\t7\t2024-01-01\n", "/works/OL54120W\t\\N\t5\n"]


@dataclass
class FinishedRun:
    source: Path
    lake: Path
    status: LuigiStatusCode


@contextmanager
def recording_runs() -> Iterator[list[str]]:
    """The task ids whose run() starts while the block is active."""
    started: list[str] = []

    def record(task: luigi.Task) -> None:
        started.append(task.task_id)

    luigi.Task.event_handler(luigi.Event.START)(record)
    try:
        yield started
    finally:
        luigi.Task._event_callbacks[luigi.Task][luigi.Event.START].discard(record)


def run_pipeline() -> luigi.execution_summary.LuigiRunResult:
    return luigi.build(
        [OpenLibraryPipeline(release="latest")], local_scheduler=True, detailed_summary=True, workers=1
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FinishedRun]:
    root = tmp_path_factory.mktemp("e2e")
    works_dump_first_line = (SAMPLES / "ol_dump_works.txt").read_text().splitlines(keepends=True)[0]
    source = sample_release(
        root / "source", {"works": bad_works_lines(works_dump_first_line), "ratings": BAD_RATINGS_LINES}
    )
    with (
        DumpServer(source, release=RELEASE, dumps=DUMPS) as server,
        luigi_config(pipeline_settings(server.url, root / "lake")),
    ):
        result = run_pipeline()
        yield FinishedRun(source=source, lake=root / "lake", status=result.status)


def curated(run: FinishedRun, table: str) -> list[dict]:
    return read_table(run.lake / "curated" / RELEASE / table)


def test_the_pipeline_succeeds_for_the_resolved_latest_release(finished: FinishedRun) -> None:
    assert finished.status == LuigiStatusCode.SUCCESS
    assert (finished.lake / "reports" / RELEASE / "report.json").exists()


def test_raw_parts_hold_exactly_the_source_lines(finished: FinishedRun) -> None:
    raw = finished.lake / "raw" / RELEASE / "works"
    manifest = json.loads((raw / "_MANIFEST.json").read_text())
    assert len(manifest["parts"]) > 1, "part_mb=0.1 must split the works dump"
    content = b"".join(gzip.decompress((raw / part["path"]).read_bytes()) for part in manifest["parts"])
    served = (finished.source / f"ol_dump_works_{RELEASE}.txt.gz").read_bytes()
    assert content == gzip.decompress(served)
    assert manifest["lines"] == len(source_lines(finished.source, "works"))
    assert manifest["bytes"] == len(served)
    assert manifest["source_url"].endswith(f"/ol_dump_works_{RELEASE}.txt.gz")


def test_every_line_is_a_row_or_quarantined_with_its_reason(finished: FinishedRun) -> None:
    report = json.loads((finished.lake / "reports" / RELEASE / "report.json").read_text())
    for dump in DUMPS:
        entry = report["dumps"][dump]
        assert entry["lines"] == len(source_lines(finished.source, dump)), dump
        assert entry["written"] + entry["quarantined_total"] == entry["lines"], dump
        assert entry["reconciled"] is True
    assert report["dumps"]["works"]["quarantined"] == {
        "wrong_column_count": 1,
        "invalid_json": 1,
        "unexpected_type": 1,
        "missing_key": 1,
        "superseded_revision": 1,
    }
    assert report["dumps"]["ratings"]["quarantined"] == {"wrong_column_count": 1, "invalid_value": 1}
    assert report["dumps"]["authors"]["quarantined_total"] == 0
    quarantined = read_table(finished.lake / "quarantine" / RELEASE / "works")
    by_reason = {row["reason"]: row["line"] for row in quarantined}
    assert by_reason["invalid_json"] == "/type/work\t/works/OL2W\t1\t2020-01-01T00:00:00\t{not json"
    assert by_reason["unexpected_type"] == LANGUAGE_LINE.rstrip("\n")
    assert "STALE TITLE" in by_reason["superseded_revision"]


def test_tables_hold_the_source_records(finished: FinishedRun) -> None:
    works_source = [
        json.loads(line.split("\t")[4]) for line in (SAMPLES / "ol_dump_works.txt").read_text().splitlines()
    ]
    works = {row["work_key"]: row for row in curated(finished, "works")}
    assert set(works) == {record["key"] for record in works_source}
    first = works_source[0]
    assert works[first["key"]]["title"] == first["title"] != "STALE TITLE"
    described = next(record for record in works_source if isinstance(record.get("description"), dict))
    assert works[described["key"]]["description"] == described["description"]["value"]
    named_authors = sum(
        1 for record in works_source for entry in record.get("authors", []) if "author" in entry
    )
    assert len(curated(finished, "work_authors")) == named_authors

    authors = {row["author_key"]: row for row in curated(finished, "authors")}
    assert len(authors) == len(source_lines(finished.source, "authors"))

    editions = {row["edition_key"]: row for row in curated(finished, "editions")}
    green_eggs = editions["/books/OL14065582M"]
    assert (green_eggs["work_key"], green_eggs["publish_year"], green_eggs["languages"]) == (
        "/works/OL1898308W",
        1960,
        ["eng"],
    )
    isbns = {(row["edition_key"], row["isbn13"]) for row in curated(finished, "edition_isbns")}
    assert {isbn for key, isbn in isbns if key == "/books/OL14065582M"} == {"9780394800165", "9780583324205"}

    assert len(curated(finished, "ratings")) == 62
    assert len(curated(finished, "reading_log")) == 81
    assert {(r["from_key"], r["to_key"]) for r in curated(finished, "redirects")} >= {
        ("/works/OL99990002W", "/works/OL99990001W"),
        ("/works/OL99990001W", "/works/OL54120W"),
    }


def test_marts_resolve_redirects_without_fan_out(finished: FinishedRun) -> None:
    marts = finished.lake / "marts" / RELEASE
    fct_ratings = read_table(marts / "fct_ratings")
    assert len(fct_ratings) == len(curated(finished, "ratings"))
    redirected = {"/works/OL99990001W", "/works/OL99990002W", "/works/OL54120W"}
    ratings_source = [line.split("\t") for line in source_lines(finished.source, "ratings")]
    expected = [
        int(row[2]) for row in ratings_source if len(row) == 4 and row[0] in redirected and row[2] in "12345"
    ]
    dim_work = {row["work_key"]: row for row in read_table(marts / "dim_work")}
    assert dim_work["/works/OL54120W"]["rating_count"] == len(expected)
    assert dim_work["/works/OL54120W"]["rating_avg"] == pytest.approx(sum(expected) / len(expected))
    assert "/works/OL99990001W" not in {row["work_key"] for row in fct_ratings}
    shelves = Counter(
        row.split("\t")[2]
        for row in source_lines(finished.source, "reading-log")
        if row.split("\t")[0] in redirected
    )
    assert dim_work["/works/OL54120W"]["want_to_read"] == shelves["Want to Read"]
    assert sum(row["work_count"] for row in read_table(marts / "dim_subject")) > 0


def test_rerunning_a_finished_release_runs_nothing(finished: FinishedRun) -> None:
    with recording_runs() as started:
        result = run_pipeline()
    assert result.status == LuigiStatusCode.SUCCESS
    assert started == []


def test_deleting_a_tables_flag_reruns_only_what_depends_on_it(finished: FinishedRun) -> None:
    (finished.lake / "curated" / RELEASE / "works" / "_SUCCESS").unlink()
    with recording_runs() as started:
        result = run_pipeline()
    assert result.status == LuigiStatusCode.SUCCESS
    families = sorted(task_id.split("_")[0] for task_id in started)
    assert families == ["BuildMarts", "OpenLibraryPipeline", "RunReport", "TransformDump"]
    assert any("works" in task_id for task_id in started if task_id.startswith("TransformDump"))
    assert (finished.lake / "curated" / RELEASE / "works" / "_SUCCESS").exists()
