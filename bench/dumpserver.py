"""A real HTTP server on 127.0.0.1 serving a folder of dump files the way openlibrary.org does.

    with DumpServer(folder, release="2026-10-31", dumps=["works"]) as server:
        base_url = server.url  # http://127.0.0.1:PORT/data, as [openlibrary] base_url
        ...
        server.requests  # [Request(method="HEAD", path="/data/ol_dump_works_latest.txt.gz", headers={...})]

A file NAME of the folder is served at /data/NAME and at /download/ANYTHING/NAME (archive.org's shape).
`redirects` maps a request path to a 302 Location (a path on this server, made absolute, or a full URL);
`release` + `dumps` (or `link_latest`) fill it the way openlibrary.org answers for its `latest` links:
/data/ol_dump_{dump}_latest.txt.gz -> http://127.0.0.1:PORT/download/ol_dump_{release}/ol_dump_{dump}_{release}.txt.gz
HEAD and GET, Content-Length, single `Range` requests (206 / 416), 404 for anything else.
Faults for tests: `head_allowed=False` answers HEAD with 405; `drop_after[NAME] = n` sends the full
Content-Length but closes each response after n body bytes; `cuts[NAME] = [offsets]` closes a response
at the next of those absolute offsets past its start (each offset once); `ranges_allowed=False`
ignores `Range` (always 200, whole file); `busy[NAME] = k` answers the next k GETs with 503 and
`Retry-After: 1` (`busy_status` = 429 answers Too Many Requests instead); `rate[NAME] = bytes_per_second`
sends that file slowly (a long download to interrupt); `truncate_at[NAME] = n` never sends byte n or later
(every response ends early, short of its Content-Length). Bodies that are not paced are sent by the kernel
(sendfile), so the benchmarks (bench/) use this server too: the client side is what gets measured.
"""

import http.server
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

_DOWNLOAD = re.compile(r"^/download/[^/]+/(?P<name>[^/]+)$")
_RANGE = re.compile(r"^bytes=(?P<first>\d*)-(?P<last>\d*)$")
_COPY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as requested, with any query string
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived


class _Unsatisfiable(Exception):
    """A Range that lies wholly past the end of the file."""


class DumpServer:
    """Serves `folder` on 127.0.0.1 at a free port (or `port`); a context manager (started on entry, stopped
    on exit)."""

    def __init__(
        self,
        folder: Path,
        release: str | None = None,
        dumps: Sequence[str] = (),
        *,
        head_allowed: bool = True,
        port: int = 0,
    ) -> None:
        self.folder = Path(folder)
        self.redirects: dict[str, str] = {}
        self.head_allowed = head_allowed
        self.drop_after: dict[str, int] = {}
        self.cuts: dict[str, list[int]] = {}
        self.ranges_allowed = True
        self.busy: dict[str, int] = {}
        self.rate: dict[str, int] = {}
        self.busy_status = 503
        self.truncate_at: dict[str, int] = {}
        self.metadata: dict[str, object] = {}  # archive.org-style /metadata/{item} documents
        if release:
            self.link_latest(release, dumps)
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def metadata_url(self) -> str:
        """The value for [openlibrary] metadata_url."""
        return f"{self.origin}/metadata"

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The base URL of the dumps, as [openlibrary] base_url: http://127.0.0.1:PORT/data"""
        return f"{self.origin}/data"

    @property
    def requests(self) -> list[Request]:
        """The requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def link_latest(self, release: str, dumps: Sequence[str]) -> None:
        """Make /data/ol_dump_{dump}_latest.txt.gz redirect to the archive.org-like path of `release`."""
        for dump in dumps:
            self.redirects[f"/data/ol_dump_{dump}_latest.txt.gz"] = (
                f"/download/ol_dump_{release}/ol_dump_{dump}_{release}.txt.gz"
            )

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _file(self, path: str) -> Path | None:
        """The folder file a request path names, if it exists."""
        name = None
        if path.startswith("/data/"):
            name = path.removeprefix("/data/")
        elif match := _DOWNLOAD.match(path):
            name = match["name"]
        if not name or "/" in name or name.startswith("."):
            return None
        file = self.folder / name
        return file if file.is_file() else None


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `Range: bytes=…` header; None to ignore it and send the whole file."""
    match = _RANGE.match(header.strip())
    if not match or not (match["first"] or match["last"]):
        return None
    if not match["first"]:  # the last N bytes
        count = int(match["last"])
        if count == 0 or size == 0:
            raise _Unsatisfiable
        return max(size - count, 0), size - 1
    first = int(match["first"])
    last = int(match["last"]) if match["last"] else size - 1
    if match["last"] and last < first:
        return None
    if first >= size:
        raise _Unsatisfiable
    return first, min(last, size - 1)


def _handler(server: DumpServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            server._record(Request(self.command, self.path, dict(self.headers)))
            if not server.head_allowed:
                self._empty(405, Allow="GET")
                return
            self._answer(body=False)

        def do_GET(self) -> None:
            server._record(Request(self.command, self.path, dict(self.headers)))
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path.startswith("/metadata/"):
                document = server.metadata.get(path.removeprefix("/metadata/"))
                if document is None:
                    self.send_error(404)
                    return
                data = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)
                return
            if path in server.redirects:
                location = server.redirects[path]
                if not location.startswith(("http://", "https://")):
                    location = server.origin + location
                self._empty(302, Location=location)
                return
            file = server._file(path)
            if file is None:
                self.send_error(404)
                return
            size = file.stat().st_size
            if body and server.busy.get(file.name, 0) > 0:
                server.busy[file.name] -= 1
                self._empty(server.busy_status, **{"Retry-After": "1"})
                return
            try:
                byte_range = _byte_range(self.headers.get("Range", "") if server.ranges_allowed else "", size)
            except _Unsatisfiable:
                self._empty(416, **{"Content-Range": f"bytes */{size}"})
                return
            first, last = byte_range or (0, size - 1)
            if byte_range:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if body:
                with file.open("rb") as source:
                    source.seek(first)
                    cut = next((c for c in sorted(server.cuts.get(file.name, [])) if c > first), None)
                    count = min(last - first + 1, server.drop_after.get(file.name, size))
                    count = max(min(count, server.truncate_at.get(file.name, size) - first), 0)
                    if cut is not None and cut - first < count:
                        count = cut - first
                        server.cuts[file.name].remove(cut)  # each cut happens once
                    self._copy(source, count, server.rate.get(file.name))

        def _copy(self, source: BinaryIO, count: int, rate: int | None = None) -> None:
            """Send `count` bytes of `source` from where it stands: paced in Python at `rate` bytes per
            second, or else by the kernel (sendfile), so the server costs next to no CPU (benchmarks)."""
            try:
                if rate:
                    block = min(_COPY_BYTES, max(rate // 10, 1))
                    while count > 0 and (data := source.read(min(count, block))):
                        self.wfile.write(data)
                        count -= len(data)
                        time.sleep(len(data) / rate)
                elif count > 0:
                    self.wfile.flush()
                    self.connection.sendfile(source, source.tell(), count)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: normal for a GET closed early
            self.close_connection = True

        def _empty(self, status: int, **headers: str) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
