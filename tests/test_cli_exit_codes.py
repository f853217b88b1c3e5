"""What cron sees: refused releases and failed tasks exit non-zero, naming the file, publishing nothing."""

import gzip
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from tests.pipeline_helpers import DUMPS, RELEASE, SCHEDULING_ERROR, TASK_FAILED, run_luigi, sample_release


def refusal(stderr: str) -> str:
    """The one line of luigi's output that gives the reason a release was refused (no traceback)."""
    assert "Traceback" not in stderr, stderr[-2000:]
    (line,) = [line for line in stderr.splitlines() if f"release {RELEASE} refused: " in line]
    return line.split(" due to error in complete() method: ", 1)[-1].strip()


@pytest.mark.reliability(8)
def test_a_release_missing_a_dump_is_refused_before_anything_runs(tmp_path: Path, fault) -> None:
    source = sample_release(tmp_path / "source")
    (source / f"ol_dump_ratings_{RELEASE}.txt.gz").unlink()
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, "OpenLibraryPipeline", "--release", RELEASE)
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert f"ol_dump_ratings_{RELEASE}.txt.gz" in refusal(completed.stderr)
    assert not (tmp_path / "lake").exists()
    fault(
        "A release missing one dump",
        injected="the served release lacks its ratings file (404)",
        result=f"exit {completed.returncode} before any task ran, nothing written; "
        f"'{refusal(completed.stderr)[-150:]}'",
    )


@pytest.mark.reliability(8)
def test_a_release_with_an_empty_dump_is_refused(tmp_path: Path, fault) -> None:
    source = sample_release(tmp_path / "source")
    empty = source / f"ol_dump_works_{RELEASE}.txt.gz"
    empty.write_bytes(gzip.compress(b"", mtime=0))
    assert empty.stat().st_size == 20
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, "OpenLibraryPipeline", "--release", "latest")
    assert completed.returncode == SCHEDULING_ERROR, completed.stderr[-2000:]
    assert f"ol_dump_works_{RELEASE}.txt.gz" in refusal(completed.stderr)
    assert not (tmp_path / "lake").exists()
    fault(
        "`latest` points at a 20-byte dump",
        injected="the works file of the release `latest` redirects to is an empty gzip (20 bytes)",
        result=f"exit {completed.returncode} before any task ran, nothing written; "
        f"'{refusal(completed.stderr)[-150:]}'",
    )


def test_a_truncated_dump_fails_the_ingest_and_publishes_no_manifest(tmp_path: Path) -> None:
    source = sample_release(tmp_path / "source")
    works = source / f"ol_dump_works_{RELEASE}.txt.gz"
    works.write_bytes(works.read_bytes()[: works.stat().st_size // 2])
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, "IngestDump", "--release", RELEASE, "--dump", "works")
    assert completed.returncode == TASK_FAILED, completed.stderr[-2000:]
    assert "truncated" in completed.stderr.lower()
    assert not (tmp_path / "lake" / "raw" / RELEASE / "works" / "_MANIFEST.json").exists()
