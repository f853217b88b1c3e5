"""IngestDump against a dump server that misbehaves the way archive.org and the internet do."""

import gzip
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

import luigi
import pytest
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from source.download import MAX_RESUMES
from tasks.ingest import IngestDump
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    comparable_ingest,
    luigi_config,
    pipeline_settings,
    raw_files,
    sample_release,
)

NAME = f"ol_dump_works_{RELEASE}.txt.gz"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return sample_release(tmp_path / "source")


def ingest(server: DumpServer, lake: Path) -> tuple[luigi.execution_summary.LuigiRunResult, list[str]]:
    """Run IngestDump(works) into `lake`: the run's result and the errors its failures raised."""
    errors: list[str] = []

    def record(task: luigi.Task, error: Exception) -> None:
        errors.append(str(error))

    handler = IngestDump.event_handler(luigi.Event.FAILURE)(record)
    try:
        with luigi_config(pipeline_settings(server.url, lake)):
            result = luigi.build(
                [IngestDump(release=RELEASE, dump="works")], local_scheduler=True, detailed_summary=True
            )
    finally:
        luigi.Task._event_callbacks[IngestDump][luigi.Event.FAILURE].discard(handler)
    return result, errors


@pytest.mark.reliability(1)
@pytest.mark.parametrize("ranges", ["honoured", "ignored"])
def test_a_connection_cut_again_and_again_gives_parts_identical_to_an_undisturbed_run(
    source: Path, tmp_path: Path, ranges: str, fault: Callable[..., None]
) -> None:
    size = (source / NAME).stat().st_size
    cuts = sorted(random.Random(2026).sample(range(1, size), 7))
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        clean, _ = ingest(server, tmp_path / "clean")
        server.ranges_allowed = ranges == "honoured"
        server.cuts[NAME] = list(cuts)
        server.clear_requests()
        resumed, _ = ingest(server, tmp_path / "cut")
        gets = [
            r.headers.get("Range") for r in server.requests if r.method == "GET" and r.path.endswith(NAME)
        ]
    assert clean.status == resumed.status == LuigiStatusCode.SUCCESS, resumed.summary_text
    assert gets == [None, *(f"bytes={cut}-" for cut in cuts)]
    assert len(raw_files(tmp_path / "cut")) > 2
    assert comparable_ingest(raw_files(tmp_path / "cut")) == comparable_ingest(raw_files(tmp_path / "clean"))
    fault(
        f"Connection drops (server {ranges} Range)",
        injected=f"the test server closes the connection at {len(cuts)} random offsets of a {size}-byte dump"
        + ("" if ranges == "honoured" else " and answers every Range request with 200 and the whole file"),
        result=f"{len(cuts)} resumes, each asking `Range: bytes=N-` from the byte reached"
        + ("" if ranges == "honoured" else " (the bytes already had were skipped)")
        + "; parts and manifest byte-identical to an undisturbed run",
    )


@pytest.mark.reliability(1)
@pytest.mark.parametrize("status", [429, 503])
def test_busy_answers_are_retried_after_the_time_the_server_asks(
    source: Path, tmp_path: Path, status: int, fault: Callable[..., None]
) -> None:
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        ingest(server, tmp_path / "clean")
        server.busy[NAME], server.busy_status = 2, status
        server.clear_requests()
        result, _ = ingest(server, tmp_path / "busy")
        gets = [r.at for r in server.requests if r.method == "GET" and r.path.endswith(NAME)]
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text
    assert len(gets) == 3
    waits = [later - earlier for earlier, later in itertools.pairwise(gets)]
    assert min(waits) >= 1.0  # Retry-After: 1
    assert comparable_ingest(raw_files(tmp_path / "busy")) == comparable_ingest(raw_files(tmp_path / "clean"))
    fault(
        f"HTTP {status} with Retry-After",
        injected=f"the first 2 GETs of the dump answered {status} with `Retry-After: 1`",
        result=f"retried after {waits[0]:.1f} s and {waits[1]:.1f} s (tenacity, honouring Retry-After); "
        "the ingest equals an undisturbed one",
    )


def corrupt_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.reliability(2)
@pytest.mark.parametrize("defect", ["truncated gzip", "corrupted byte", "body shorter than Content-Length"])
def test_a_damaged_download_fails_the_ingest_and_publishes_nothing(
    source: Path, tmp_path: Path, defect: str, fault: Callable[..., None]
) -> None:
    dump = source / NAME
    size = dump.stat().st_size
    if defect == "truncated gzip":
        dump.write_bytes(dump.read_bytes()[: size // 2])
    elif defect == "corrupted byte":
        corrupt_middle_byte(dump)
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        if defect == "body shorter than Content-Length":
            server.truncate_at[NAME] = size - 1000
        result, errors = ingest(server, tmp_path / "lake")
    assert result.status == LuigiStatusCode.FAILED, result.summary_text
    (error,) = errors
    expected = {
        "truncated gzip": "truncated gzip stream",
        "corrupted byte": "corrupt gzip data",
        "body shorter than Content-Length": f"gave up after {MAX_RESUMES} resumes",
    }[defect]
    assert expected in error and NAME in error, error
    left = raw_files(tmp_path / "lake")
    assert "_MANIFEST.json" not in left
    for name, content in left.items():  # whatever is there is a whole part, never a half-written one
        assert name.startswith("part-") and gzip.decompress(content).endswith(b"\n"), name
    with luigi_config(pipeline_settings("http://unused", tmp_path / "lake")):
        assert not IngestDump(release=RELEASE, dump="works").complete()
    fault(
        defect[0].upper() + defect[1:],
        injected={
            "truncated gzip": f"the served .gz cut to half its {size} bytes",
            "corrupted byte": "one byte in the middle of the served .gz inverted",
            "body shorter than Content-Length": "every response stops 1000 bytes before the Content-Length "
            "it announced",
        }[defect],
        result=f"task FAILED: '{error[error.index(NAME) :][:110]}'; no _MANIFEST.json, "
        f"{len(left)} whole earlier part(s) left unpublished",
    )


@pytest.mark.reliability(2)
def test_a_published_md5_that_differs_fails_the_ingest(
    source: Path, tmp_path: Path, fault: Callable[..., None]
) -> None:
    content = (source / NAME).read_bytes()
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        server.metadata[f"ol_dump_{RELEASE}"] = {
            "files": [{"name": NAME, "md5": "f" * 32, "size": len(content)}]
        }
        result, errors = ingest(server, tmp_path / "lake")
    assert result.status == LuigiStatusCode.FAILED
    (error,) = errors
    assert f"but archive.org publishes {'f' * 32}" in error
    assert "_MANIFEST.json" not in raw_files(tmp_path / "lake")
    fault(
        "md5 differs from archive.org's",
        injected="the metadata endpoint ([openlibrary] metadata_url, served from 127.0.0.1) lists another "
        "md5",
        result=f"task FAILED: '{error[error.index('md5') :][:100]}'; no _MANIFEST.json",
    )


@pytest.mark.reliability(2)
def test_without_a_published_md5_the_ingest_goes_on_and_says_so(
    source: Path, tmp_path: Path, fault: Callable[..., None]
) -> None:
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        result, _ = ingest(server, tmp_path / "lake")
    assert result.status == LuigiStatusCode.SUCCESS
    integrity = json.loads(raw_files(tmp_path / "lake")["_MANIFEST.json"])["integrity"]
    assert integrity["md5_verified"] is False and "metadata unavailable" in integrity["note"]
    fault(
        "No md5 published",
        injected="the metadata endpoint answers 404 for the release",
        result=f"ingest completed on size and gzip CRC checks; manifest says {json.dumps(integrity)[:120]}",
    )
