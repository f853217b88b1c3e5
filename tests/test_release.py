"""Release resolution and checks against a real HTTP server on 127.0.0.1 and a file:// folder."""

import gzip
import os
import socket
from pathlib import Path

import pytest

from bench.dumpserver import DumpServer
from source.release import ReleaseError, check_release, dump_url, is_release_date, resolve_latest

RELEASE = "2026-10-31"


def release_folder(folder: Path, dumps: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for dump, content in dumps.items():
        (folder / f"ol_dump_{dump}_{RELEASE}.txt.gz").write_bytes(gzip.compress(content, mtime=0))
    return folder


def size_of(folder: Path, dump: str) -> int:
    return (folder / f"ol_dump_{dump}_{RELEASE}.txt.gz").stat().st_size


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/data"


def test_dump_url() -> None:
    assert dump_url("https://openlibrary.org/data", "reading-log", RELEASE) == (
        f"https://openlibrary.org/data/ol_dump_reading-log_{RELEASE}.txt.gz"
    )
    assert dump_url("file:///srv/ol/", "works", "latest") == "file:///srv/ol/ol_dump_works_latest.txt.gz"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-10-31", True), ("2024-02-29", True), ("2026-02-29", False), ("2026-13-01", False),
     ("20261031", False), ("2026-1-31", False), ("latest", False), (" 2026-10-31", False), ("", False)],
)  # fmt: skip
def test_is_release_date(value: str, expected: bool) -> None:
    assert is_release_date(value) is expected


def test_latest_follows_the_redirect_to_a_dated_dump(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"reading-log": b"a\tb\n"})
    with DumpServer(folder, release=RELEASE, dumps=["reading-log"]) as server:
        assert resolve_latest(server.url, "reading-log") == RELEASE
        requests = server.requests
    assert [(r.method, r.path) for r in requests] == [("HEAD", "/data/ol_dump_reading-log_latest.txt.gz")]


def test_latest_follows_a_chain_until_a_location_names_a_date(tmp_path: Path) -> None:
    with DumpServer(tmp_path) as server:
        server.redirects["/data/ol_dump_works_latest.txt.gz"] = "/hop/1"
        server.redirects["/hop/1"] = "/download/ol_dump_2025-01-31/ol_dump_works_2025-01-31.txt.gz"
        server.redirects["/download/ol_dump_2025-01-31/ol_dump_works_2025-01-31.txt.gz"] = "/data-server/x"
        assert resolve_latest(server.url, "works") == "2025-01-31"
        assert [r.path for r in server.requests] == ["/data/ol_dump_works_latest.txt.gz", "/hop/1"]


def test_latest_falls_back_to_get_when_head_is_refused(tmp_path: Path) -> None:
    with DumpServer(tmp_path, release=RELEASE, dumps=["works"], head_allowed=False) as server:
        assert resolve_latest(server.url, "works") == RELEASE
        assert [r.method for r in server.requests] == ["HEAD", "GET"]


def test_latest_without_a_redirect_is_refused_naming_the_file(tmp_path: Path) -> None:
    with DumpServer(release_folder(tmp_path, {})) as server, pytest.raises(ReleaseError) as error:
        resolve_latest(server.url, "works")
    assert f"{server.url}/ol_dump_works_latest.txt.gz" in str(error.value)
    assert "HTTP 404" in str(error.value)


def test_latest_redirecting_forever_is_refused(tmp_path: Path) -> None:
    with DumpServer(tmp_path) as server:
        server.redirects["/data/ol_dump_works_latest.txt.gz"] = "/loop"
        server.redirects["/loop"] = "/loop"
        with pytest.raises(ReleaseError, match=r"ol_dump_works_latest\.txt\.gz: no dated dump file within 5"):
            resolve_latest(server.url, "works")
        assert len(server.requests) == 5


def test_latest_pointing_at_an_impossible_date_is_refused(tmp_path: Path) -> None:
    with (
        DumpServer(tmp_path, release="2026-02-30", dumps=["works"]) as server,
        pytest.raises(ReleaseError, match=r"ol_dump_works_latest\.txt\.gz points at \S*2026-02-30"),
    ):
        resolve_latest(server.url, "works")


def test_latest_on_an_unreachable_server_is_refused_naming_the_file() -> None:
    base = closed_port_url()
    with pytest.raises(ReleaseError) as error:
        resolve_latest(base, "works", timeout=5)
    assert str(error.value).startswith(f"{base}/ol_dump_works_latest.txt.gz: ")


def test_latest_of_a_local_folder_is_the_link_target(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"x\n", "authors": b"y\n"})
    (folder / "ol_dump_works_latest.txt.gz").symlink_to(f"ol_dump_works_{RELEASE}.txt.gz")
    (folder / "ol_dump_authors_latest.txt.gz").symlink_to(folder / f"ol_dump_authors_{RELEASE}.txt.gz")
    assert resolve_latest(f"file://{folder}", "works") == RELEASE
    assert resolve_latest(f"file://{folder}/", "authors") == RELEASE


def test_latest_of_a_local_folder_follows_a_chain_of_links(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"x\n"})
    (folder / "current.txt.gz").symlink_to(f"ol_dump_works_{RELEASE}.txt.gz")
    (folder / "ol_dump_works_latest.txt.gz").symlink_to("current.txt.gz")
    assert resolve_latest(f"file://{folder}", "works") == RELEASE


def test_latest_of_a_local_folder_must_be_a_link(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"x\n"})
    with pytest.raises(ReleaseError, match=r"ol_dump_works_latest\.txt\.gz: no such file"):
        resolve_latest(f"file://{folder}", "works")
    (folder / "ol_dump_works_latest.txt.gz").write_bytes(b"")
    with pytest.raises(ReleaseError, match=r"ol_dump_works_latest\.txt\.gz is not a symlink"):
        resolve_latest(f"file://{folder}", "works")
    os.unlink(folder / "ol_dump_works_latest.txt.gz")
    (folder / "ol_dump_works_latest.txt.gz").symlink_to("ol_dump_works_current.txt.gz")
    with pytest.raises(ReleaseError, match=r"points at ol_dump_works_current\.txt\.gz, which is not a dated"):
        resolve_latest(f"file://{folder}", "works")


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_a_whole_release_passes_with_its_sizes(tmp_path: Path, scheme: str) -> None:
    folder = release_folder(tmp_path, {"works": b"w\n" * 10, "authors": b"a\n"})
    with DumpServer(folder) as server:
        base = server.url if scheme == "http" else f"file://{folder}"
        sizes = check_release(base, RELEASE, ["works", "authors"])
    assert sizes == {"works": size_of(folder, "works"), "authors": size_of(folder, "authors")}
    assert all(size > 20 for size in sizes.values())


def test_check_release_follows_redirects_to_the_file(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"w\n" * 10})
    with DumpServer(folder) as server:
        server.redirects[f"/data/ol_dump_works_{RELEASE}.txt.gz"] = (
            f"/download/ol_dump_{RELEASE}/ol_dump_works_{RELEASE}.txt.gz"
        )
        assert check_release(server.url, RELEASE, ["works"]) == {"works": size_of(folder, "works")}
        assert [r.method for r in server.requests] == ["HEAD", "HEAD"]


def test_check_release_falls_back_to_get_when_head_is_refused(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, {"works": b"w\n" * 10})
    with DumpServer(folder, head_allowed=False) as server:
        assert check_release(server.url, RELEASE, ["works"]) == {"works": size_of(folder, "works")}


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_missing_and_empty_files_are_refused_together(tmp_path: Path, scheme: str) -> None:
    folder = release_folder(tmp_path, {"works": b"", "authors": b"a\n"})
    assert size_of(folder, "works") == 20
    with DumpServer(folder) as server:
        base = server.url if scheme == "http" else f"file://{folder}"
        with pytest.raises(ReleaseError) as error:
            check_release(base, RELEASE, ["works", "authors", "ratings"])
    message = str(error.value)
    assert message.startswith(f"release {RELEASE} refused: ")
    assert f"{base}/ol_dump_works_{RELEASE}.txt.gz is empty (20 bytes)" in message
    assert f"{base}/ol_dump_ratings_{RELEASE}.txt.gz is missing" in message
    assert "authors" not in message


def test_an_unreachable_server_is_a_problem_naming_each_file() -> None:
    base = closed_port_url()
    with pytest.raises(ReleaseError) as error:
        check_release(base, RELEASE, ["works", "authors"], timeout=5)
    for dump in ("works", "authors"):
        assert f"{base}/ol_dump_{dump}_{RELEASE}.txt.gz could not be checked" in str(error.value)
