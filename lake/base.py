"""What every lake offers the graph: URLs for Spark, targets for Luigi, atomic writes, JSON documents."""

import abc
import json
import posixpath
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

import luigi
import luigi.target

FLAG = "_SUCCESS"


class LakeError(OSError):
    """The lake can't be used as configured (its root can't be created or written); the message says which
    root and what to set instead."""


class Lake(abc.ABC):
    """A data lake rooted at one URL. Paths below the root are given as parts: lake.url("raw", release)."""

    root: str
    fs: luigi.target.FileSystem
    # Name of the connector jar Spark needs on its classpath to read and write this lake (None: built in).
    spark_connector: str | None = None

    def url(self, *parts: str) -> str:
        """The full URL (or absolute path) of a location in the lake, as Spark and users see it."""
        return "/".join([self.root.rstrip("/"), *(p.strip("/") for p in parts if p)])

    @abc.abstractmethod
    def browser_url(self, *parts: str) -> str:
        """The address at which a person opens a file of the lake in a web browser (a report page)."""

    def fsspec(self) -> Any | None:
        """An fsspec filesystem that reads this lake's URLs, for readers that need one (DuckDB for gs://);
        None when plain paths do."""
        return None

    @abc.abstractmethod
    def target(self, *parts: str) -> luigi.target.FileSystemTarget:
        """A Luigi target for one file (binary contents)."""

    def flag(self, *parts: str) -> luigi.target.FileSystemTarget:
        """The completion flag of a folder output: it exists only once the folder is complete."""
        return self.target(*parts, FLAG)

    def exists(self, *parts: str) -> bool:
        return bool(self.fs.exists(self.url(*parts)))

    def listdir(self, *parts: str) -> list[str]:
        """Full URLs of the files below a folder (recursive), sorted; empty when the folder is absent."""
        if not self.exists(*parts):
            return []
        return sorted(self.fs.listdir(self.url(*parts)))

    def list_below(self, *parts: str) -> list[tuple[str, ...]]:
        """The files below a folder (recursive) as path parts relative to it, sorted; one listing call."""
        prefix = self.url(*parts) + "/"
        return [tuple(url.removeprefix(prefix).split("/")) for url in self.listdir(*parts)]

    def remove(self, *parts: str) -> None:
        """Delete a file or a whole folder below the root; absent is fine. The root itself is refused."""
        below = posixpath.normpath("/".join(part.strip("/") for part in parts if part.strip("/")) or ".")
        if below.split("/")[0] in (".", ".."):
            raise ValueError(f"refusing to remove the lake root {self.root} or what is above it: {parts}")
        if self.exists(*parts):
            self.fs.remove(self.url(*parts), recursive=True)

    def check_writable(self) -> None:
        """Raise LakeError unless this process can write below the root. A lake without a cheap check
        (GCS) reports a refused write at the first write instead."""
        return None

    @abc.abstractmethod
    def open_write(self, *parts: str) -> AbstractContextManager[BinaryIO]:
        """A binary writer that publishes the file only when the `with` block ends without error."""

    def open_read(self, *parts: str) -> AbstractContextManager[BinaryIO]:
        return self.target(*parts).open("r")

    def write_json(self, document: Any, *parts: str) -> None:
        """Atomically write a small JSON document."""
        with self.open_write(*parts) as out:
            out.write(json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))

    def read_json(self, *parts: str) -> Any:
        with self.open_read(*parts) as stream:
            return json.loads(stream.read().decode("utf-8"))
