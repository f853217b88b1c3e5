"""Release resolution and checks against a real HTTP server on 127.0.0.1 and a file:// folder."""

import gzip
from pathlib import Path

import pytest

from source.download import DownloadError, open_stream
from source.release import ReleaseError, check_release, dump_url, resolve_latest
from tests.dumpserver import DumpServer

RELEASE = "2026-10-31"


def release_folder(folder: Path, dumps: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for dump, content in dumps.items():
        (folder / f"ol_dump_{dump}_{RELEASE}.txt.gz").write_bytes(gzip.compress(content, mtime=0))
    return folder


def test_latest_follows_the_redirect_to_a_dated_dump(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"a\tb\n"})
    with DumpServer(folder, release=RELEASE, dumps=["works"]) as server:
        assert resolve_latest(server.url, "works") == RELEASE
        assert [r.method for r in server.requests] == ["HEAD"]


def test_latest_without_a_redirect_is_refused_naming_the_file(tmp_path: Path) -> None:
    with DumpServer(release_folder(tmp_path, {})) as server, pytest.raises(ReleaseError) as error:
        resolve_latest(server.url, "works")
    assert "ol_dump_works_latest.txt.gz" in str(error.value)


def test_latest_of_a_local_folder_is_the_link_target(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"x\n"})
    (folder / "ol_dump_works_latest.txt.gz").symlink_to(f"ol_dump_works_{RELEASE}.txt.gz")
    assert resolve_latest(f"file://{folder}", "works") == RELEASE


def test_a_whole_release_passes_with_its_sizes(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"w\n" * 10, "authors": b"a\n"})
    with DumpServer(folder) as server:
        sizes = check_release(server.url, RELEASE, ["works", "authors"])
    assert sizes == {
        d: (folder / f"ol_dump_{d}_{RELEASE}.txt.gz").stat().st_size for d in ("works", "authors")
    }


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_missing_and_empty_files_are_refused_together(tmp_path: Path, scheme: str) -> None:
    folder = release_folder(tmp_path, {"works": b"", "authors": b"a\n"})
    with DumpServer(folder) as server, pytest.raises(ReleaseError) as error:
        base = server.url if scheme == "http" else f"file://{folder}"
        check_release(base, RELEASE, ["works", "authors", "ratings"])
    message = str(error.value)
    assert f"ol_dump_works_{RELEASE}.txt.gz is empty (20 bytes)" in message
    assert f"ol_dump_ratings_{RELEASE}.txt.gz is missing" in message
    assert "authors" not in message


def test_a_stream_gives_the_exact_bytes_and_length(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"line\n" * 100_000})
    expected = (folder / f"ol_dump_works_{RELEASE}.txt.gz").read_bytes()
    with DumpServer(folder) as server:
        for base in (server.url, f"file://{folder}"):
            with open_stream(dump_url(base, "works", RELEASE), chunk_bytes=1000) as stream:
                assert stream.total_bytes == len(expected)
                assert b"".join(stream.chunks()) == expected


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with DumpServer(release_folder(tmp_path, {})) as server:
        url = dump_url(server.url, "works", RELEASE)
        with pytest.raises(DownloadError, match="HTTP 404"), open_stream(url):
            pass
