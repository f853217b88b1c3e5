"""One contract every lake implementation passes: the graph relies on exactly these behaviours."""

import itertools
import os

import pytest
from google.cloud import storage

from lake import Lake, open_lake
from lake.gcs import GcsLake
from lake.local import LocalLake

_buckets = itertools.count()


@pytest.fixture(params=["local", "gcs"])
def lake(request: pytest.FixtureRequest, tmp_path) -> Lake:
    """Every contract test runs against each implementation: a local folder and a bucket in the emulator."""
    if request.param == "local":
        return open_lake(str(tmp_path / "lake"))
    client: storage.Client = request.getfixturevalue("gcs")
    bucket = client.create_bucket(f"lake-{next(_buckets)}")
    return GcsLake(f"gs://{bucket.name}/prefix", chunk_bytes=256 * 1024, client=client)


def test_written_file_is_readable_and_listed(lake: Lake) -> None:
    with lake.open_write("raw", "2026-10-31", "works", "part-00000.txt.gz") as out:
        out.write(b"\x1f\x8bpayload")
    assert lake.exists("raw", "2026-10-31", "works", "part-00000.txt.gz")
    with lake.open_read("raw", "2026-10-31", "works", "part-00000.txt.gz") as stream:
        assert stream.read() == b"\x1f\x8bpayload"
    assert lake.listdir("raw", "2026-10-31") == [lake.url("raw", "2026-10-31", "works", "part-00000.txt.gz")]


def test_failed_write_publishes_nothing(lake: Lake) -> None:
    with pytest.raises(RuntimeError), lake.open_write("raw", "r", "part-00000.txt.gz") as out:
        out.write(b"half a part")
        raise RuntimeError("connection dropped")
    assert not lake.exists("raw", "r", "part-00000.txt.gz")
    assert lake.listdir("raw", "r") == []


def test_json_documents_round_trip(lake: Lake) -> None:
    lake.write_json({"lines": 3, "parts": [{"path": "part-00000.txt.gz"}]}, "raw", "r", "_MANIFEST.json")
    assert lake.read_json("raw", "r", "_MANIFEST.json") == {
        "lines": 3,
        "parts": [{"path": "part-00000.txt.gz"}],
    }
    assert lake.target("raw", "r", "_MANIFEST.json").exists()


def test_flag_marks_a_folder_complete(lake: Lake) -> None:
    flag = lake.flag("curated", "r", "works")
    assert not flag.exists()
    with lake.open_write("curated", "r", "works", "_SUCCESS"):
        pass
    assert flag.exists()


def test_remove_deletes_a_folder_and_tolerates_absence(lake: Lake) -> None:
    for name in ("a", "b/c"):
        with lake.open_write("raw", "r", name) as out:
            out.write(b"x")
    lake.remove("raw", "r")
    assert not lake.exists("raw", "r")
    assert lake.listdir("raw", "r") == []
    lake.remove("raw", "r")


@pytest.mark.parametrize("parts", [(), ("",), ("/",), ("raw", ".."), ("raw", "..", "..", "other")])
def test_remove_of_the_root_or_above_is_refused(lake: Lake, parts: tuple[str, ...]) -> None:
    lake.write_json({}, "raw", "r", "_MANIFEST.json")
    with pytest.raises(ValueError, match="refusing to remove the lake root"):
        lake.remove(*parts)
    assert lake.listdir() == [lake.url("raw", "r", "_MANIFEST.json")]


def test_urls_join_parts_below_the_root(lake: Lake) -> None:
    assert lake.url("curated", "2026-10-31", "works") == lake.root.rstrip("/") + "/curated/2026-10-31/works"


def test_relative_local_root_becomes_absolute(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalLake("./data").root == str(tmp_path / "data")
    assert open_lake("file://" + str(tmp_path / "x")).root == str(tmp_path / "x")


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="s3://bucket"):
        open_lake("s3://bucket/lake")


def test_local_files_get_the_usual_permissions(tmp_path) -> None:
    """A local lake's files are readable as any file this process writes (not mkstemp's private 0600)."""
    lake = open_lake(str(tmp_path / "lake"))
    lake.write_json({"ok": True}, "reports", "r", "report.json")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "lake" / "reports" / "r" / "report.json").stat().st_mode & 0o777 == 0o666 & ~umask
