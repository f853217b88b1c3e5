"""The lake on Google Cloud Storage: gs://BUCKET/PREFIX, through google-cloud-storage.

Credentials are Application Default Credentials (on GCE: the VM's service account). When
STORAGE_EMULATOR_HOST is set (tests, local emulators) the client talks to that endpoint anonymously.
"""

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO

import luigi.target
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from lake.base import Lake

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024  # resumable-upload chunk: memory per open writer


def storage_client() -> storage.Client:
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return storage.Client(credentials=AnonymousCredentials(), project="emulator")
    return storage.Client()


def split_url(url: str) -> tuple[str, str]:
    """gs://bucket/some/name -> ("bucket", "some/name")."""
    if not url.startswith("gs://"):
        raise ValueError(f"not a gs:// URL: {url!r}")
    bucket, _, name = url.removeprefix("gs://").partition("/")
    return bucket, name


class GcsFileSystem(luigi.target.FileSystem):
    """Luigi's FileSystem over GCS objects; a "folder" is the set of objects below a prefix."""

    def __init__(self, client: storage.Client, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.client = client
        self.chunk_bytes = chunk_bytes

    def _blob(self, url: str) -> storage.Blob:
        bucket, name = split_url(url)
        return self.client.bucket(bucket).blob(name)

    def _below(self, url: str) -> Iterator[storage.Blob]:
        bucket, name = split_url(url)
        prefix = name.rstrip("/") + "/" if name else ""
        return iter(self.client.list_blobs(bucket, prefix=prefix))

    def exists(self, path: str) -> bool:
        return self._blob(path).exists() or self.isdir(path)

    def isdir(self, path: str) -> bool:
        return next(self._below(path), None) is not None

    def listdir(self, path: str) -> list[str]:
        bucket, _ = split_url(path)
        return sorted(f"gs://{bucket}/{blob.name}" for blob in self._below(path))

    def remove(self, path: str, recursive: bool = True, skip_trash: bool = True) -> None:
        blob = self._blob(path)
        if blob.exists():
            blob.delete()
        if recursive:
            for below in self._below(path):
                below.delete()

    def mkdir(self, path: str, parents: bool = True, raise_if_exists: bool = False) -> None:
        """Folders do not exist on GCS: nothing to create."""

    def copy(self, path: str, dest: str) -> None:
        source = self._blob(path)
        bucket, name = split_url(dest)
        source.bucket.copy_blob(source, self.client.bucket(bucket), name)

    def move(self, path: str, dest: str) -> None:
        self.copy(path, dest)
        self._blob(path).delete()

    def open_read(self, path: str) -> BinaryIO:
        return self._blob(path).open("rb")

    @contextmanager
    def open_write(self, path: str) -> Iterator[BinaryIO]:
        """A resumable upload: the object appears once the block ends cleanly; an error cancels it."""
        with self._blob(path).open("wb", chunk_size=self.chunk_bytes, ignore_flush=True) as writer:
            yield writer


class GcsTarget(luigi.target.FileSystemTarget):
    """One object in the lake (binary contents)."""

    def __init__(self, path: str, fs: GcsFileSystem) -> None:
        super().__init__(path)
        self._fs = fs

    @property
    def fs(self) -> GcsFileSystem:
        return self._fs

    def open(self, mode: str = "r") -> AbstractContextManager[BinaryIO]:
        if mode.replace("b", "") == "r":
            return self._fs.open_read(self.path)
        if mode.replace("b", "") == "w":
            return self._fs.open_write(self.path)
        raise ValueError(f"mode must be 'r' or 'w', got {mode!r}")


class GcsLake(Lake):
    """A lake under gs://BUCKET/PREFIX."""

    spark_connector = "gcs-connector"  # built into Dataproc; a local Spark needs it in spark.jars.packages

    def __init__(
        self, root: str, chunk_bytes: int = DEFAULT_CHUNK_BYTES, client: storage.Client | None = None
    ) -> None:
        split_url(root)
        self.root = root.rstrip("/")
        self.fs = GcsFileSystem(client or storage_client(), chunk_bytes)

    def target(self, *parts: str) -> GcsTarget:
        return GcsTarget(self.url(*parts), self.fs)

    def open_write(self, *parts: str) -> AbstractContextManager[BinaryIO]:
        return self.fs.open_write(self.url(*parts))
