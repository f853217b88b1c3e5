"""Ingest checks the download against archive.org's published md5/size when there is one."""

import hashlib
import json
import re
import socket
from pathlib import Path

import luigi
import pytest

from bench.dumpserver import DumpServer
from source.checksums import published_checksum
from tasks.ingest import ChecksumMismatch, IngestDump
from tests.pipeline_helpers import DUMPS, RELEASE, luigi_config, pipeline_settings, sample_release

NAME = f"ol_dump_works_{RELEASE}.txt.gz"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return sample_release(tmp_path / "source")


def ingest(server: DumpServer, lake: Path, failures: list[Exception] | None = None) -> Path:
    """Run IngestDump(works); the manifest path (which exists only when the ingest succeeded). The errors
    the task failed with are appended to `failures`."""

    def record(task: luigi.Task, error: Exception) -> None:
        if failures is not None:
            failures.append(error)

    handler = IngestDump.event_handler(luigi.Event.FAILURE)(record)
    try:
        with luigi_config(pipeline_settings(server.url, lake)):
            luigi.build([IngestDump(release=RELEASE, dump="works")], local_scheduler=True, workers=1)
    finally:
        luigi.Task._event_callbacks[IngestDump][luigi.Event.FAILURE].discard(handler)
    return lake / "raw" / RELEASE / "works" / "_MANIFEST.json"


def item(name: str, md5: str, size: int) -> dict:
    return {"files": [{"name": "other.txt", "md5": "0" * 32}, {"name": name, "md5": md5, "size": str(size)}]}


def test_a_published_md5_is_checked_and_recorded(source: Path, tmp_path: Path) -> None:
    content = (source / NAME).read_bytes()
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        server.metadata[f"ol_dump_{RELEASE}"] = item(NAME, hashlib.md5(content).hexdigest(), len(content))
        manifest = json.loads(ingest(server, tmp_path / "lake").read_text())
    assert manifest["integrity"]["md5_verified"] is True
    assert manifest["md5"] == hashlib.md5(content).hexdigest()


@pytest.mark.parametrize(
    ("wrong", "said"), [("md5", r"md5 [0-9a-f]{32} but archive.org publishes f{32}"), ("size", "bytes but")]
)
def test_a_mismatch_fails_the_ingest_and_publishes_no_manifest(
    source: Path, tmp_path: Path, wrong: str, said: str
) -> None:
    content = (source / NAME).read_bytes()
    md5 = "f" * 32 if wrong == "md5" else hashlib.md5(content).hexdigest()
    size = len(content) + (1 if wrong == "size" else 0)
    failures: list[Exception] = []
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        server.metadata[f"ol_dump_{RELEASE}"] = item(NAME, md5, size)
        manifest = ingest(server, tmp_path / "lake", failures)
    assert not manifest.exists()
    assert [type(error) for error in failures] == [ChecksumMismatch]
    assert re.search(said, str(failures[0])), failures[0]


def test_without_metadata_the_ingest_goes_on_and_says_so(source: Path, tmp_path: Path) -> None:
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        manifest = json.loads(ingest(server, tmp_path / "lake").read_text())
    assert manifest["integrity"]["md5_verified"] is False
    assert "metadata unavailable" in manifest["integrity"]["note"]


def test_an_unreachable_metadata_service_is_not_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/metadata"
    published = published_checksum(url, RELEASE, NAME, timeout=2)
    assert (published.md5, published.size) == (None, None)
    assert published.note.startswith("metadata unavailable")
