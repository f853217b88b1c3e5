"""The embedded default: the lake is a folder on this machine."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import luigi
import luigi.format
from luigi.local_target import LocalFileSystem

from lake.base import Lake, LakeError


def _file_mode() -> int:
    """The mode a plain open() would give a new file: 0666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


class _RecursiveLocalFileSystem(LocalFileSystem):
    """Luigi's local filesystem, with listdir returning the files below a folder as the GCS one does."""

    def listdir(self, path: str) -> list[str]:
        return sorted(os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names)


class LocalLake(Lake):
    """A lake in a local folder; relative roots are made absolute so spark-submit sees the same paths."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.fs = _RecursiveLocalFileSystem()

    def browser_url(self, *parts: str) -> str:
        """file:///absolute/path, percent-encoded."""
        return Path(self.url(*parts)).as_uri()

    def target(self, *parts: str) -> luigi.LocalTarget:
        return luigi.LocalTarget(self.url(*parts), format=luigi.format.Nop)

    def check_writable(self) -> None:
        """Create the root if need be and a temporary file in it, removed again."""
        fd, tmp_path = self._create_temporary(self.url("_write_check"))
        os.close(fd)
        os.unlink(tmp_path)

    def _create_temporary(self, path: str) -> tuple[int, str]:
        """A new hidden file beside `path`, its folders created: (fd, its path); LakeError if it can't be."""
        folder, name = os.path.split(path)
        try:
            os.makedirs(folder, exist_ok=True)
            return tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        except OSError as error:
            where = "" if error.filename in (None, self.root) else f" ({error.filename})"
            raise LakeError(
                f"can't write the lake {self.root}: {error.strerror or error}{where}; "
                "set [lake] root (LAKE_ROOT, --lake-root) to a folder this user can create and write"
            ) from error

    @contextmanager
    def open_write(self, *parts: str) -> Iterator[BinaryIO]:
        """Write beside the destination under a hidden temporary name; rename on success, delete on error."""
        path = self.url(*parts)
        fd, tmp_path = self._create_temporary(path)
        os.fchmod(fd, _FILE_MODE)  # mkstemp's 0600 would hide reports from other users of the lake
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.replace(tmp_path, path)
        except BaseException:
            os.unlink(tmp_path)
            raise
