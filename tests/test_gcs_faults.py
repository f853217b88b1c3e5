"""GCS answering 503 to upload chunks, through a fault-injecting proxy in front of the real emulator."""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import luigi
import pytest
from google.cloud import storage
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from tasks.ingest import IngestDump
from tests.fault_proxy import FaultProxy, ProxiedRequest
from tests.pipeline_helpers import RELEASE, luigi_config, pipeline_settings, sample_release

_buckets = itertools.count()


def is_chunk(request: ProxiedRequest) -> bool:
    """A PUT carrying bytes of a resumable upload session."""
    return request.method == "PUT" and "upload_id=" in request.path and request.content_range is not None


@pytest.fixture
def works_source(tmp_path: Path) -> Path:
    """The sample works dump plus incompressible lines: its 1 MB parts span several 256 KiB chunks."""
    noise = [
        f'/type/work\t/works/OL{n}X\t1\t2020-01-01T00:00:00\t{{"title": "{os.urandom(100).hex()}"}}\n'
        for n in range(6000)
    ]
    return sample_release(tmp_path / "source", {"works": noise})


@pytest.fixture
def bucket(gcs: storage.Client) -> storage.Bucket:
    return gcs.create_bucket(f"gcs-faults-{next(_buckets)}")


@pytest.fixture
def through_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FaultProxy]]:
    """Start a FaultProxy in front of the session's emulator and point the lake's client at it."""
    proxies: list[FaultProxy] = []

    def start(fail: Callable[[ProxiedRequest], int | None]) -> FaultProxy:
        proxy = FaultProxy(os.environ["STORAGE_EMULATOR_HOST"], fail).__enter__()
        proxies.append(proxy)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        return proxy

    yield start
    for proxy in proxies:
        proxy.__exit__(None, None, None)


def ingest_works(source: Path, lake_root: str, tmp_path: Path) -> luigi.execution_summary.LuigiRunResult:
    with DumpServer(source) as server:
        settings = pipeline_settings(server.url, tmp_path / "unused")
        settings["lake"] = {"root": lake_root, "upload_chunk_kib": "256", "retry_s": "3"}
        settings["ingest"]["part_mb"] = "1"
        with luigi_config(settings):
            return luigi.build(
                [IngestDump(release=RELEASE, dump="works")], local_scheduler=True, detailed_summary=True
            )


@pytest.mark.reliability(6)
def test_upload_chunks_answered_503_are_retried_and_the_ingest_completes(
    works_source: Path, bucket: storage.Bucket, through_proxy, tmp_path: Path, fault
) -> None:
    clean = ingest_works(works_source, str(tmp_path / "local-lake"), tmp_path)
    assert clean.status == LuigiStatusCode.SUCCESS, clean.summary_text
    chunks = itertools.count()
    proxy = through_proxy(lambda request: 503 if is_chunk(request) and next(chunks) % 2 == 1 else None)

    result = ingest_works(works_source, f"gs://{bucket.name}/lake", tmp_path)

    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text
    failed = [request for request in proxy.log if request.status == 503]
    assert len(failed) >= 3
    for request in failed:  # each refused chunk was sent again and accepted
        assert any(
            later.content_range == request.content_range and later.status in (200, 201, 308)
            for later in proxy.log[proxy.log.index(request) + 1 :]
        ), request
    local = tmp_path / "local-lake" / "raw" / RELEASE / "works"
    parts = sorted(path.name for path in local.glob("part-*.txt.gz"))
    assert len(parts) >= 2
    for name in parts:
        uploaded = bucket.blob(f"lake/raw/{RELEASE}/works/{name}").download_as_bytes()
        assert uploaded == (local / name).read_bytes(), name
    assert bucket.get_blob(f"lake/raw/{RELEASE}/works/_MANIFEST.json") is not None
    fault(
        "GCS answers 503 to upload chunks",
        injected="a proxy in front of fake-gcs-server answers every second resumable-upload chunk PUT "
        f"with 503 ({len(failed)} chunks refused)",
        result=f"each refused chunk re-sent and accepted; the {len(parts)} parts in GCS are byte-identical "
        "to a local ingest; manifest written",
    )


@pytest.mark.reliability(6)
def test_a_persistent_upload_failure_fails_the_ingest_and_publishes_nothing(
    works_source: Path, bucket: storage.Bucket, through_proxy, tmp_path: Path, fault
) -> None:
    doomed = "part-00001.txt.gz"
    proxy = through_proxy(lambda request: 503 if is_chunk(request) and doomed in request.path else None)

    result = ingest_works(works_source, f"gs://{bucket.name}/lake", tmp_path)

    assert result.status == LuigiStatusCode.FAILED, result.summary_text
    refused = [request for request in proxy.log if request.status == 503]
    assert len(refused) >= 2  # retried before giving up
    names = sorted(blob.name for blob in bucket.list_blobs())
    assert f"lake/raw/{RELEASE}/works/_MANIFEST.json" not in names
    assert f"lake/raw/{RELEASE}/works/{doomed}" not in names
    with luigi_config({"lake": {"root": f"gs://{bucket.name}/lake"}}):
        assert not IngestDump(release=RELEASE, dump="works").complete()
    fault(
        "GCS keeps answering 503",
        injected=f"every chunk PUT of {doomed} answered 503 by the proxy ([lake] retry_s = 3)",
        result=f"{len(refused)} attempts, then the task FAILED; no {doomed} object and no _MANIFEST.json",
    )
