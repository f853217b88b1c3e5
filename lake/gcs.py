"""The lake on Google Cloud Storage: gs://BUCKET/PREFIX, through google-cloud-storage.

Credentials are Application Default Credentials (on GCE: the VM's service account). When
STORAGE_EMULATOR_HOST is set (tests, local emulators) the client talks to that endpoint anonymously.
Writes stream through resumable uploads: an object appears only once its upload is finalised, nothing is
staged on local disk, and each open writer holds at most one chunk in memory.
"""

import io
import logging
import mimetypes
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

import luigi.target
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.fileio import BlobWriter
from google.cloud.storage.retry import DEFAULT_RETRY

from lake.base import Lake

logger = logging.getLogger(__name__)

CHUNK_MULTIPLE = 256 * 1024  # resumable uploads send chunks of a multiple of 256 KiB
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024  # resumable-upload chunk: memory per open writer
DEFAULT_RETRY_S = 300.0  # how long a write keeps retrying 429/5xx answers and dropped connections
BROWSER_ORIGIN = "https://storage.cloud.google.com"  # serves objects to a signed-in browser


def emulated() -> bool:
    """True when STORAGE_EMULATOR_HOST points the clients at an emulator (tests, local emulators)."""
    return bool(os.environ.get("STORAGE_EMULATOR_HOST"))


def storage_client() -> storage.Client:
    """A client with Application Default Credentials, or an anonymous one when an emulator is configured."""
    if emulated():
        return storage.Client(credentials=AnonymousCredentials(), project="emulator")
    return storage.Client()


def split_url(url: str) -> tuple[str, str]:
    """gs://bucket/some/name -> ("bucket", "some/name")."""
    if not url.startswith("gs://"):
        raise ValueError(f"not a gs:// URL: {url!r}")
    bucket, _, name = url.removeprefix("gs://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, name


def content_type(url: str) -> str:
    """The Content-Type an object is stored with, from its name (a browser then shows report.html as a page).

    Compressed files (part-00000.txt.gz) and unknown names stay application/octet-stream.
    """
    kind, encoding = mimetypes.guess_type(url)
    return kind if kind and not encoding else "application/octet-stream"


class GcsWriter(io.BufferedIOBase):
    """A binary writer for one object, through a resumable upload.

    close() (or leaving a `with` block cleanly) finalises the upload and publishes the object. Leaving the
    `with` block on an exception, or dropping the writer unclosed, cancels the upload: nothing is published.
    """

    def __init__(self, blob: storage.Blob, chunk_bytes: int, **upload_kwargs: Any) -> None:
        super().__init__()
        self.name = f"gs://{blob.bucket.name}/{blob.name}"
        # ignore_flush: a flush() (io wrappers call it) must not finalise the upload, the only flush GCS has.
        self._writer = BlobWriter(blob, chunk_size=chunk_bytes, ignore_flush=True, **upload_kwargs)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._checkClosed()
        return self._writer.write(data)

    def tell(self) -> int:
        return self._writer.tell()

    def flush(self) -> None:
        """Nothing to do: bytes reach GCS a chunk at a time and become visible on close()."""

    def close(self) -> None:
        """Finalise the upload; if that fails, cancel it so that nothing is published later."""
        if self.closed:
            return
        try:
            self._writer.close()
        except BaseException:
            self._cancel()
            raise
        finally:
            super().close()

    def abort(self) -> None:
        """Cancel the upload: the object is not created (an existing one is left as it was)."""
        if not self.closed:
            try:
                self._cancel()
            finally:
                super().close()

    def _cancel(self) -> None:
        try:
            self._writer.terminate()
        except Exception:  # the session expires on its own; the caller's error matters more
            logger.warning("could not cancel the upload of %s", self.name, exc_info=True)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        self.abort()


class GcsFileSystem(luigi.target.FileSystem):
    """Luigi's FileSystem over GCS objects; a "folder" is the set of objects below a prefix."""

    def __init__(
        self, client: storage.Client, chunk_bytes: int = DEFAULT_CHUNK_BYTES, retry_s: float = DEFAULT_RETRY_S
    ) -> None:
        if chunk_bytes <= 0 or chunk_bytes % CHUNK_MULTIPLE:
            raise ValueError(
                f"chunk_bytes must be a positive multiple of {CHUNK_MULTIPLE}, got {chunk_bytes}"
            )
        self.client = client
        self.chunk_bytes = chunk_bytes
        # Each upload chunk is retried (exponential backoff) until this deadline, then the write fails.
        self.retry = DEFAULT_RETRY.with_timeout(retry_s)

    def _blob(self, url: str) -> storage.Blob:
        bucket, name = split_url(url)
        return self.client.bucket(bucket).blob(name)

    def _get(self, url: str) -> storage.Blob | None:
        """The object at `url` with its current generation, or None (also for a bucket root)."""
        bucket, name = split_url(url)
        return self.client.bucket(bucket).get_blob(name) if name else None

    def _below(self, url: str, max_results: int | None = None) -> Iterator[storage.Blob]:
        """Objects whose names start with `url` + "/" (all objects for a bucket root)."""
        bucket, name = split_url(url)
        prefix = name.rstrip("/") + "/" if name.rstrip("/") else ""
        return iter(self.client.list_blobs(bucket, prefix=prefix, max_results=max_results))

    def exists(self, path: str) -> bool:
        """True for an object, and for a "folder" prefix with objects below it."""
        _, name = split_url(path)
        return (bool(name) and self._blob(path).exists()) or self.isdir(path)

    def isdir(self, path: str) -> bool:
        return next(self._below(path, max_results=1), None) is not None

    def listdir(self, path: str) -> list[str]:
        """Full gs:// URLs of the objects below a folder (recursive), sorted; folder placeholders skipped."""
        bucket, _ = split_url(path)
        return sorted(
            f"gs://{bucket}/{blob.name}" for blob in self._below(path) if not blob.name.endswith("/")
        )

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        """Delete an object, or (recursive) every object below a folder; absent objects are skipped.

        A bucket root is refused, as luigi's GCSClient refuses it: that would empty the whole bucket."""
        bucket, name = split_url(path)
        if not name.strip("/"):
            raise luigi.target.FileSystemException(f"refusing to remove the root of bucket {bucket}: {path}")
        below = list(self._below(path))
        if below and not recursive:
            raise luigi.target.FileSystemException(f"{path} is a folder: remove it with recursive=True")
        blob = self._blob(path)
        blob.bucket.delete_blobs([blob, *below], on_error=lambda _: None)

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Folders do not exist on GCS: nothing to create."""

    def open_read(self, path: str) -> BinaryIO:
        """A binary stream of the object's current generation, fetched a chunk at a time."""
        blob = self._get(path)
        if blob is None:
            raise FileNotFoundError(path)
        # The blob carries its generation: an overwrite during the read fails it instead of mixing versions.
        return blob.open("rb", chunk_size=self.chunk_bytes)

    def open_write(self, path: str, create_only: bool = False) -> GcsWriter:
        """An atomic writer (see GcsWriter).

        create_only adds if_generation_match=0: on real GCS the upload fails with HTTP 412 if the object
        exists (fake-gcs-server ignores this precondition on resumable uploads)."""
        preconditions = {"if_generation_match": 0} if create_only else {}
        return GcsWriter(
            self._blob(path),
            self.chunk_bytes,
            content_type=content_type(path),
            retry=self.retry,
            **preconditions,
        )


class GcsTarget(luigi.target.FileSystemTarget):
    """One object in the lake (binary contents): open("r") streams it, open("w") writes it atomically."""

    def __init__(self, path: str, fs: GcsFileSystem) -> None:
        super().__init__(path)
        self._fs = fs

    @property
    def fs(self) -> GcsFileSystem:
        return self._fs

    def open(self, mode: str = "r") -> BinaryIO:
        if mode in ("r", "rb"):
            return self._fs.open_read(self.path)
        if mode in ("w", "wb"):
            return self._fs.open_write(self.path)
        raise ValueError(f"mode must be 'r' or 'w' (binary), got {mode!r}")


class GcsLake(Lake):
    """A lake under gs://BUCKET/PREFIX; `chunk_bytes` (a multiple of 256 KiB) bounds each writer's memory,
    `retry_s` is how long a write keeps retrying transient errors before it fails."""

    spark_connector = "gcs-connector"  # built into Dataproc; a local Spark needs it in spark.jars.packages

    def __init__(
        self,
        root: str,
        chunk_bytes: int | None = None,
        client: storage.Client | None = None,
        retry_s: float = DEFAULT_RETRY_S,
    ) -> None:
        split_url(root)
        self.root = root.rstrip("/")
        self.fs = GcsFileSystem(client or storage_client(), chunk_bytes or DEFAULT_CHUNK_BYTES, retry_s)

    @property
    def bucket(self) -> str:
        """The name of the lake's bucket (what Dataproc's staging_bucket takes, not a gs:// URI)."""
        return split_url(self.root)[0]

    def browser_url(self, *parts: str) -> str:
        """https://storage.cloud.google.com/BUCKET/NAME: opens the object for a signed-in user."""
        bucket, name = split_url(self.url(*parts))
        return f"{BROWSER_ORIGIN}/{bucket}/{urllib.parse.quote(name)}"

    def fsspec(self) -> Any:
        """gcsfs, with the same credentials as the lake (see lake/gcs_fsspec.py)."""
        from lake.gcs_fsspec import gcs_fsspec  # lazily: only readers such as DuckDB need gcsfs

        return gcs_fsspec()

    def target(self, *parts: str) -> GcsTarget:
        return GcsTarget(self.url(*parts), self.fs)

    def open_write(self, *parts: str) -> AbstractContextManager[BinaryIO]:
        return self.fs.open_write(self.url(*parts))
