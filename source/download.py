"""Open a dump file as a stream of its compressed bytes, chunk by chunk, from http(s):// or file://."""

import logging
import urllib.parse
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, Self

import requests
import tenacity
import urllib3.exceptions

logger = logging.getLogger("luigi-interface")

MAX_RESUMES = 50  # connection drops survived per file, each resumed from the byte reached
GET_ATTEMPTS = 6  # tries per request on 429/503/connection errors, with backoff
_RETRY_AFTER_CAP_S = 120.0
_STREAM_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


class DownloadError(OSError):
    """The dump could not be fetched or was cut short; the message names the URL."""


class _Transient(DownloadError):
    """A failure worth retrying (429, 503, a dropped connection); carries the server's Retry-After."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("Retry-After", "")
    return min(float(value), _RETRY_AFTER_CAP_S) if value.isdigit() else None


def _backoff(state: tenacity.RetryCallState) -> float:
    """Wait what the server asked for (Retry-After), else exponentially longer: 1, 2, 4 … 30 s."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return error.retry_after
    return tenacity.wait_exponential(multiplier=1, max=30)(state)


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

    def __init__(
        self,
        url: str,
        timeout: float = 60,
        chunk_bytes: int = 1 << 20,
        max_resumes: int = MAX_RESUMES,
        attempts: int = GET_ATTEMPTS,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.timeout = timeout
        self.chunk_bytes = chunk_bytes
        self.max_resumes = max_resumes
        self.resumes = 0
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

    def _get(self, start: int = 0) -> requests.Response:
        """GET the file from byte `start` (a `Range` request when resuming), retrying 429/503 and dropped
        connections with backoff that honours Retry-After."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=_backoff,
            stop=tenacity.stop_after_attempt(self.attempts),
            reraise=True,
        )
        return retrying(self._get_once, start)

    def _get_once(self, start: int) -> requests.Response:
        assert self._session is not None
        headers = {"Accept-Encoding": "identity"}
        if start:
            headers["Range"] = f"bytes={start}-"
        try:
            response = self._session.get(self.url, stream=True, timeout=self.timeout, headers=headers)
        except requests.RequestException as error:
            raise _Transient(f"{self.url}: {error}") from error
        if response.status_code in (429, 500, 502, 503, 504):
            response.close()
            raise _Transient(f"{self.url}: HTTP {response.status_code}", _retry_after(response.headers))
        expected = (200, 206) if start else (200,)
        if response.status_code not in expected:
            response.close()
            where = f" (at {response.url})" if response.url != self.url else ""
            raise DownloadError(f"{self.url}: HTTP {response.status_code} {response.reason}{where}")
        if response.status_code == 206 and not response.headers.get("Content-Range", "").startswith(
            f"bytes {start}-"
        ):
            response.close()
            raise DownloadError(
                f"{self.url}: asked for bytes from {start}, got {response.headers.get('Content-Range')}"
            )
        return response

    def _read_http(self) -> Iterator[bytes]:
        """Stream the body; when the connection drops, resume from the byte reached (Range), or re-read and
        skip what we have when the server ignores Range, up to max_resumes times."""
        while True:
            assert self._response is not None
            skip = self.bytes_read if self._response.status_code == 200 else 0
            try:
                for chunk in self._response.raw.stream(self.chunk_bytes, decode_content=False):
                    if skip:
                        dropped, skip = min(skip, len(chunk)), skip - min(skip, len(chunk))
                        chunk = chunk[dropped:]
                    if chunk:
                        yield chunk
                if self.total_bytes is None or self.bytes_read >= self.total_bytes:
                    return
                failure: str = "the body ended early"
            except _STREAM_ERRORS as error:
                failure = str(error)
            if self.resumes >= self.max_resumes:
                raise DownloadError(
                    f"{self.url}: connection failed after {self.bytes_read} bytes ({failure}); "
                    f"gave up after {self.resumes} resumes"
                )
            self.resumes += 1
            logger.warning("%s: dropped after %d bytes (%s); resuming", self.url, self.bytes_read, failure)
            self._response.close()
            self._response = self._get(start=self.bytes_read)


def open_stream(
    url: str,
    timeout: float = 60,
    chunk_bytes: int = 1 << 20,
    max_resumes: int = MAX_RESUMES,
    attempts: int = GET_ATTEMPTS,
) -> DumpStream:
    """A DumpStream for `url` (http(s):// or file://); open it with `with open_stream(url) as stream:`."""
    return DumpStream(url, timeout, chunk_bytes, max_resumes, attempts)
