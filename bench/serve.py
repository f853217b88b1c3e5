"""A lean HTTP server on 127.0.0.1 for the benchmarks: files of one folder at /data/NAME, sent with sendfile.

The kernel copies the bytes, so the server costs almost no CPU and the client side is what gets measured
(the tests' DumpServer, with its fault injection, copies through Python). GET and HEAD, Content-Length,
404 for anything else; no Range (the benchmarks never drop connections).

    with FileServer(folder) as server:
        server.url  # http://127.0.0.1:PORT/data
"""

import contextlib
import http.server
import threading
from pathlib import Path
from types import TracebackType
from typing import Self


class FileServer:
    """Serves `folder` on a free port of 127.0.0.1 while the `with` block runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.folder))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/data"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def _handler(folder: Path) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            name = self.path.removeprefix("/data/")
            file = folder / name
            if (
                not self.path.startswith("/data/")
                or "/" in name
                or name.startswith(".")
                or not file.is_file()
            ):
                self.send_error(404)
                return
            size = file.stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if body:
                self.wfile.flush()
                with file.open("rb") as source, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.connection.sendfile(source)  # a client that stops reading ends it early

    return Handler
