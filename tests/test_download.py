"""Streaming a dump file from a real HTTP server on 127.0.0.1 and from file://; the test server's Range."""

import gzip
import random
import socket
from pathlib import Path

import pytest
import requests

from bench.dumpserver import DumpServer
from source.download import DownloadError, local_path, open_stream
from source.release import dump_url

RELEASE = "2026-10-31"
NAME = f"ol_dump_works_{RELEASE}.txt.gz"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A release folder holding one ~300 KB works dump (random-ish, so it barely compresses)."""
    rng = random.Random(3)
    content = b"".join(f"/type/work\t/works/OL{rng.getrandbits(64)}W\t1\n".encode() for _ in range(10_000))
    (tmp_path / NAME).write_bytes(gzip.compress(content, mtime=0))
    return tmp_path


def test_a_stream_gives_the_exact_bytes_and_length(folder: Path) -> None:
    expected = (folder / NAME).read_bytes()
    with DumpServer(folder) as server:
        for base in (server.url, f"file://{folder}"):
            with open_stream(dump_url(base, "works", RELEASE), chunk_bytes=1000) as stream:
                assert stream.total_bytes == len(expected)
                chunks = list(stream.chunks())
            assert b"".join(chunks) == expected
            assert max(len(chunk) for chunk in chunks) <= 1000
            assert stream.bytes_read == len(expected)
        (get,) = server.requests
    assert (get.method, get.path) == ("GET", f"/data/{NAME}")
    assert get.headers["Accept-Encoding"] == "identity"  # the .gz bytes as stored, never transfer-decoded


def test_a_stream_follows_the_latest_redirect(folder: Path) -> None:
    with DumpServer(folder, release=RELEASE, dumps=["works"]) as server:
        with open_stream(dump_url(server.url, "works", "latest")) as stream:
            data = b"".join(stream.chunks())
        assert [r.path for r in server.requests] == [
            "/data/ol_dump_works_latest.txt.gz",
            f"/download/ol_dump_{RELEASE}/{NAME}",
        ]
    assert data == (folder / NAME).read_bytes()


def test_a_missing_file_is_a_clear_error_naming_the_url(folder: Path) -> None:
    with DumpServer(folder) as server:
        url = dump_url(server.url, "authors", RELEASE)
        with pytest.raises(DownloadError) as error, open_stream(url):
            pass
    assert str(error.value) == f"{url}: HTTP 404 Not Found"


def test_a_missing_redirect_target_names_the_requested_url_and_where_it_failed(folder: Path) -> None:
    with DumpServer(folder, release="2020-01-31", dumps=["works"]) as server:
        url = dump_url(server.url, "works", "latest")
        with pytest.raises(DownloadError) as error, open_stream(url):
            pass
    assert str(error.value).startswith(f"{url}: HTTP 404 Not Found (at {server.origin}/download/")


def test_a_missing_local_file_is_a_clear_error_naming_the_url(folder: Path) -> None:
    url = f"file://{folder}/ol_dump_authors_{RELEASE}.txt.gz"
    with pytest.raises(DownloadError, match=f"^{url}: No such file or directory$"), open_stream(url):
        pass


def test_an_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/data/x.txt.gz"
    with pytest.raises(DownloadError, match=f"^{url}: "), open_stream(url, timeout=5, attempts=1):
        pass


def test_a_connection_dropped_too_often_is_an_error_not_a_short_file(folder: Path) -> None:
    with DumpServer(folder) as server:
        server.drop_after[NAME] = 20_000
        url = dump_url(server.url, "works", RELEASE)
        received = bytearray()
        with (
            pytest.raises(DownloadError, match=f"^{url}: connection failed after .* gave up after 2 resumes"),
            open_stream(url, max_resumes=2) as stream,
        ):
            for chunk in stream.chunks():
                received += chunk
    assert bytes(received) == (folder / NAME).read_bytes()[: len(received)]
    assert len(received) == 60_000 < len((folder / NAME).read_bytes())


def test_drops_at_random_offsets_resume_from_the_byte_reached(folder: Path) -> None:
    expected = (folder / NAME).read_bytes()
    cuts = sorted(random.Random(7).sample(range(1, len(expected)), 6))
    with DumpServer(folder) as server:
        server.cuts[NAME] = list(cuts)
        with open_stream(dump_url(server.url, "works", RELEASE), chunk_bytes=4096) as stream:
            received = b"".join(stream.chunks())
        ranges = [request.headers.get("Range") for request in server.requests]
    assert received == expected
    assert stream.resumes == 6
    assert ranges == [None, *(f"bytes={cut}-" for cut in cuts)]


def test_a_server_ignoring_range_is_reread_and_skipped(folder: Path) -> None:
    expected = (folder / NAME).read_bytes()
    with DumpServer(folder) as server:
        server.ranges_allowed = False
        server.drop_after[NAME] = 30_000  # every answer is the whole file from byte 0, cut at 30,000
        with (
            open_stream(dump_url(server.url, "works", RELEASE), max_resumes=3) as stream,
            pytest.raises(DownloadError, match="gave up after 3 resumes"),
        ):
            b"".join(stream.chunks())
        assert stream.bytes_read == 30_000  # re-reading from 0 never moves past the cut: no duplicate bytes
        server.drop_after.pop(NAME)
        server.cuts[NAME] = [len(expected) // 3]  # one cut, then the whole file again from byte 0
        with open_stream(dump_url(server.url, "works", RELEASE)) as stream:
            assert b"".join(stream.chunks()) == expected
        assert [request.headers.get("Range") for request in server.requests][-2:] == [
            None,
            f"bytes={len(expected) // 3}-",
        ]


def test_busy_answers_are_retried_after_the_time_asked(folder: Path) -> None:
    with DumpServer(folder) as server:
        server.busy[NAME] = 2
        with open_stream(dump_url(server.url, "works", RELEASE)) as stream:
            assert b"".join(stream.chunks()) == (folder / NAME).read_bytes()
        assert [request.method for request in server.requests] == ["GET", "GET", "GET"]


def test_chunks_need_an_open_stream(folder: Path) -> None:
    stream = open_stream(f"file://{folder}/{NAME}")
    with pytest.raises(RuntimeError, match="with"):
        next(stream.chunks())


def test_local_path() -> None:
    assert local_path("file:///srv/ol/a%20b.gz") == "/srv/ol/a b.gz"
    assert local_path("file://localhost/srv/ol") == "/srv/ol"
    with pytest.raises(ValueError, match="file:///absolute/path"):
        local_path("file://srv/ol")


@pytest.mark.parametrize(
    ("header", "status", "first", "last"),
    [
        ("bytes=100-", 206, 100, None),
        ("bytes=100-199", 206, 100, 199),
        ("bytes=-10", 206, -10, None),
        ("bytes=0-10000000", 206, 0, None),
        ("bytes=200-100", 200, 0, None),  # invalid: ignored, the whole file
        ("bytes=0-1,5-9", 200, 0, None),  # several ranges: not supported, the whole file
    ],
)
def test_the_server_answers_range_requests(
    folder: Path, header: str, status: int, first: int, last: int | None
) -> None:
    content = (folder / NAME).read_bytes()
    expected = content[first : None if last is None else last + 1]
    with DumpServer(folder) as server:
        response = requests.get(f"{server.url}/{NAME}", headers={"Range": header}, timeout=10)
    assert response.status_code == status
    assert response.content == expected
    assert response.headers["Content-Length"] == str(len(expected))
    if status == 206:
        start = first % len(content)
        assert (
            response.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(content)}"
        )


def test_the_server_refuses_a_range_past_the_end(folder: Path) -> None:
    size = (folder / NAME).stat().st_size
    with DumpServer(folder) as server:
        response = requests.get(f"{server.url}/{NAME}", headers={"Range": f"bytes={size}-"}, timeout=10)
        head = requests.head(f"{server.url}/{NAME}", timeout=10)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert (head.status_code, head.headers["Content-Length"], head.content) == (200, str(size), b"")


def test_the_server_stops_on_exit(folder: Path) -> None:
    with DumpServer(folder) as server:
        url = f"{server.url}/{NAME}"
        assert requests.head(url, timeout=10).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.head(url, timeout=2)
