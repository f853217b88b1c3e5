"""A real HTTP server on 127.0.0.1 serving a folder of dump files the way openlibrary.org does.

`ol_dump_{dump}_latest.txt.gz` answers 302 with an archive.org-like location
(/download/ol_dump_{release}/ol_dump_{dump}_{release}.txt.gz), which is served from the folder.
HEAD, GET and single-range `Range: bytes=N-` requests are supported; every request is recorded.
"""

import http.server
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

_DOWNLOAD = re.compile(r"^/download/[^/]+/(?P<name>[^/]+)$")
_RANGE = re.compile(r"^bytes=(?P<start>\d+)-$")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


class DumpServer:
    """Serve `folder` at http://127.0.0.1:PORT/data/…; use as a context manager (the server stops on exit)."""

    def __init__(self, folder: Path, release: str | None = None, dumps: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        self.redirects: dict[str, str] = {
            f"/data/ol_dump_{dump}_latest.txt.gz": (
                f"/download/ol_dump_{release}/ol_dump_{dump}_{release}.txt.gz"
            )
            for dump in dumps
            if release
        }
        self.requests: list[Request] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, as [openlibrary] base_url."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/data"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                server.requests.append(Request(self.command, self.path, dict(self.headers)))
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{server._server.server_address[1]}"
                                     + server.redirects[self.path])  # fmt: skip
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = self._file()
                if path is None:
                    self.send_error(404)
                    return
                content = path.read_bytes()
                start = 0
                match = _RANGE.match(self.headers.get("Range", ""))
                if match and int(match["start"]) < len(content):
                    start = int(match["start"])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(content) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if body:
                    self.wfile.write(content[start:])

            def _file(self) -> Path | None:
                name = None
                if self.path.startswith("/data/"):
                    name = self.path.removeprefix("/data/")
                elif match := _DOWNLOAD.match(self.path):
                    name = match["name"]
                if not name or "/" in name:
                    return None
                path = server.folder / name
                return path if path.is_file() else None

        return Handler
