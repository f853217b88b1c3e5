"""Open a dump file as a stream of its compressed bytes, chunk by chunk, from http(s):// or file://."""

import urllib.parse
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, Self

import requests
import urllib3.exceptions


class DownloadError(OSError):
    """The dump could not be fetched or was cut short; the message names the URL."""


def local_path(url: str) -> str:
    """The path of a file:// URL (file:///abs/path or file://localhost/abs/path)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise ValueError(f"{url} is not a local file URL: write it as file:///absolute/path")
    return urllib.parse.unquote(parts.path)


class DumpStream:
    """One dump file being read: `total_bytes` (Content-Length or file size; None if unknown), `chunks()`.

    Use it as a context manager: the file or connection is opened on entry (errors name the URL) and
    closed on exit. The bytes are exactly the file's: no transfer decoding, no gunzip.
    `bytes_read` counts what `chunks()` has yielded (the offset a resume with `Range` would start from).
    """

    def __init__(self, url: str, timeout: float = 60, chunk_bytes: int = 1 << 20) -> None:
        self.url = url
        self.timeout = timeout
        self.chunk_bytes = chunk_bytes
        self.total_bytes: int | None = None
        self.bytes_read = 0
        self._file: BinaryIO | None = None
        self._session: requests.Session | None = None
        self._response: requests.Response | None = None

    def __enter__(self) -> Self:
        try:
            if self.url.startswith("file:"):
                self._open_file()
            else:
                self._open_http()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, at most `chunk_bytes` at a time; DownloadError if the data stops short."""
        if self._file is None and self._response is None:
            raise RuntimeError("open the DumpStream with `with` before reading its chunks")
        for chunk in self._read_file() if self._file is not None else self._read_http():
            self.bytes_read += len(chunk)
            yield chunk
        if self.total_bytes is not None and self.bytes_read != self.total_bytes:
            raise DownloadError(f"{self.url}: received {self.bytes_read} of {self.total_bytes} bytes")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._response is not None:
            self._response.close()
        if self._session is not None:
            self._session.close()

    def _open_file(self) -> None:
        try:
            self._file = open(local_path(self.url), "rb")  # noqa: SIM115 -- closed by close()
        except ValueError as error:
            raise DownloadError(str(error)) from error
        except OSError as error:
            raise DownloadError(f"{self.url}: {error.strerror or error}") from error
        self.total_bytes = self._file.seek(0, 2)
        self._file.seek(0)

    def _read_file(self) -> Iterator[bytes]:
        assert self._file is not None
        while chunk := self._file.read(self.chunk_bytes):
            yield chunk

    def _open_http(self) -> None:
        self._session = requests.Session()
        self._response = self._get()
        length = self._response.headers.get("Content-Length")
        self.total_bytes = int(length) if length and length.isdigit() else None

    def _get(self) -> requests.Response:
        """One GET of the whole file, following redirects: the place a `Range` resume or retry would go."""
        assert self._session is not None
        try:
            response = self._session.get(
                self.url, stream=True, timeout=self.timeout, headers={"Accept-Encoding": "identity"}
            )
        except requests.RequestException as error:
            raise DownloadError(f"{self.url}: {error}") from error
        if response.status_code != 200:
            response.close()
            where = f" (at {response.url})" if response.url != self.url else ""
            raise DownloadError(f"{self.url}: HTTP {response.status_code} {response.reason}{where}")
        return response

    def _read_http(self) -> Iterator[bytes]:
        assert self._response is not None
        try:
            yield from self._response.raw.stream(self.chunk_bytes, decode_content=False)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise DownloadError(
                f"{self.url}: connection failed after {self.bytes_read} bytes: {error}"
            ) from error


def open_stream(url: str, timeout: float = 60, chunk_bytes: int = 1 << 20) -> DumpStream:
    """A DumpStream for `url` (http(s):// or file://); open it with `with open_stream(url) as stream:`."""
    return DumpStream(url, timeout, chunk_bytes)
