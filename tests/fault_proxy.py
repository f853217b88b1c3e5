"""An HTTP proxy on 127.0.0.1 that forwards to a real server and answers some requests with an error itself.

    with FaultProxy(emulator_url, fail=lambda request: ...) as proxy:
        os.environ["STORAGE_EMULATOR_HOST"] = proxy.url   # clients talk to the proxy
        ...
        proxy.log   # every request: (method, path, content_range, status it got)

`fail(request)` sees each request before it is forwarded and returns an HTTP status to answer with instead
(e.g. 503), or None to forward it. Location headers naming the upstream are rewritten to the proxy, so
resumable-upload sessions keep going through it.
"""

import http.client
import http.server
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    content_range: str | None
    status: int  # what the client got: the upstream's answer or the injected error


class FaultProxy:
    """A context manager: serving on entry, stopped on exit."""

    def __init__(self, upstream: str, fail: Callable[[ProxiedRequest], int | None]) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.fail = fail
        self._log: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def log(self) -> list[ProxiedRequest]:
        with self._lock:
            return list(self._log)

    def record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self._log.append(request)

    def __enter__(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server.server_close()


def _handler(proxy: FaultProxy) -> type[http.server.BaseHTTPRequestHandler]:
    upstream_origin = f"{proxy.upstream.scheme}://{proxy.upstream.netloc}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            probe = ProxiedRequest(self.command, self.path, self.headers.get("Content-Range"), 0)
            injected = proxy.fail(probe)
            if injected is not None:
                proxy.record(ProxiedRequest(probe.method, probe.path, probe.content_range, injected))
                self.send_response(injected)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Host"] = proxy.upstream.netloc
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            finally:
                connection.close()
            proxy.record(ProxiedRequest(probe.method, probe.path, probe.content_range, response.status))
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() in _HOP_BY_HOP or key.lower() == "content-length":
                    continue
                if key.lower() == "location":
                    value = value.replace(upstream_origin, proxy.url)
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _forward

        def do_HEAD(self) -> None:
            self._forward()

    return Handler
