"""Open a dump file as a stream of compressed chunks, from http(s):// or file://."""

import urllib.parse
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, Self

import requests


class DownloadError(OSError):
    """The dump could not be fetched; the message names the URL."""


class DumpStream:
    """A dump file being read: total_bytes (when known) and its bytes, chunk by chunk."""

    def __init__(self, url: str, timeout: float = 60, chunk_bytes: int = 1 << 20) -> None:
        self.url = url
        self.timeout = timeout
        self.chunk_bytes = chunk_bytes
        self.total_bytes: int | None = None
        self._response: requests.Response | None = None
        self._file: BinaryIO | None = None

    def __enter__(self) -> Self:
        if self.url.startswith("file://"):
            path = urllib.parse.unquote(urllib.parse.urlparse(self.url).path)
            try:
                self._file = open(path, "rb")
            except OSError as error:
                raise DownloadError(f"{self.url}: {error.strerror}") from error
            self.total_bytes = self._file.seek(0, 2)
            self._file.seek(0)
            return self
        try:
            self._response = requests.get(self.url, stream=True, timeout=self.timeout)
        except requests.RequestException as error:
            raise DownloadError(f"{self.url}: {error}") from error
        if self._response.status_code != 200:
            self._response.close()
            raise DownloadError(f"{self.url}: HTTP {self._response.status_code} {self._response.reason}")
        length = self._response.headers.get("Content-Length")
        self.total_bytes = int(length) if length else None
        return self

    def chunks(self) -> Iterator[bytes]:
        if self._file is not None:
            while chunk := self._file.read(self.chunk_bytes):
                yield chunk
            return
        assert self._response is not None, "use DumpStream as a context manager"
        try:
            yield from self._response.raw.stream(self.chunk_bytes, decode_content=False)
        except Exception as error:
            raise DownloadError(f"{self.url}: connection failed while reading: {error}") from error

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._file is not None:
            self._file.close()
        if self._response is not None:
            self._response.close()


def open_stream(url: str, timeout: float = 60, chunk_bytes: int = 1 << 20) -> DumpStream:
    return DumpStream(url, timeout, chunk_bytes)
