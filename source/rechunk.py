"""Re-chunk a gzip dump: gunzip as it streams in, split on line boundaries, gzip each part."""

import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import BinaryIO

_PROGRESS_EVERY_BYTES = 4 << 20


class CorruptDumpError(ValueError):
    """The dump is not a complete, valid gzip stream of records."""


@dataclass
class Part:
    path: str
    lines: int
    bytes: int


@dataclass
class RechunkResult:
    source_bytes: int
    md5: str
    lines: int
    uncompressed_bytes: int
    parts: list[Part] = field(default_factory=list)


class _CountingWriter:
    """Counts the compressed bytes of a part on their way to the lake."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return self.sink.write(data)

    def flush(self) -> None:
        self.sink.flush()


class _PartWriter:
    """Writes lines into numbered gzip parts, opening the next part once the current one is full."""

    def __init__(
        self, open_part: Callable[[str], AbstractContextManager[BinaryIO]], part_bytes: int, level: int
    ) -> None:
        self.open_part = open_part
        self.part_bytes = part_bytes
        self.level = level
        self.parts: list[Part] = []
        self._stack: ExitStack | None = None
        self._gzip: gzip.GzipFile | None = None
        self._counter: _CountingWriter | None = None
        self._written = 0
        self._lines = 0

    def write(self, data: bytes, lines: int) -> None:
        if self._gzip is None:
            self._open()
        assert self._gzip is not None
        self._gzip.write(data)
        self._written += len(data)
        self._lines += lines

    @property
    def full(self) -> bool:
        return self._written >= self.part_bytes

    def _open(self) -> None:
        name = f"part-{len(self.parts):05d}.txt.gz"
        self._stack = ExitStack()
        sink = self._stack.enter_context(self.open_part(name))
        self._counter = _CountingWriter(sink)
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", compresslevel=self.level, fileobj=self._counter, mtime=0
        )
        self.parts.append(Part(path=name, lines=0, bytes=0))

    def close_part(self) -> None:
        if self._gzip is None:
            return
        assert self._stack is not None and self._counter is not None
        self._gzip.close()
        self._stack.close()  # publishes the part
        self.parts[-1].lines, self.parts[-1].bytes = self._lines, self._counter.bytes
        self._gzip, self._stack, self._counter = None, None, None
        self._written, self._lines = 0, 0

    def abort(self) -> None:
        """Leave the current part unpublished (its writer discards it on error)."""
        if self._stack is not None:
            self._stack.__exit__(CorruptDumpError, CorruptDumpError("aborted"), None)
            self._gzip, self._stack, self._counter = None, None, None


def rechunk(
    chunks: Iterable[bytes],
    open_part: Callable[[str], AbstractContextManager[BinaryIO]],
    part_bytes: int,
    compress_level: int = 1,
    progress: Callable[[int, int], None] | None = None,
    name: str = "dump",
) -> RechunkResult:
    """Stream a gzip dump into gzip parts of about `part_bytes` uncompressed bytes, never splitting a line.

    Memory stays flat: one compressed chunk, its decompressed output and the tail of an unfinished line.
    Raises CorruptDumpError for a truncated or corrupt gzip stream, and for a dump holding no records.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    source_bytes = uncompressed = lines = 0
    next_progress = _PROGRESS_EVERY_BYTES
    decompressor = zlib.decompressobj(wbits=31)
    writer = _PartWriter(open_part, part_bytes, compress_level)
    pending = b""  # the start of a line whose end has not arrived yet
    try:
        for chunk in chunks:
            md5.update(chunk)
            source_bytes += len(chunk)
            data = b""
            while chunk:
                if decompressor.eof:  # the next member of a multi-member gzip
                    decompressor = zlib.decompressobj(wbits=31)
                try:
                    data += decompressor.decompress(chunk)
                except zlib.error as error:
                    raise CorruptDumpError(f"{name}: corrupt gzip data ({error})") from error
                chunk = decompressor.unused_data if decompressor.eof else b""
            if not data:
                continue
            uncompressed += len(data)
            pending += data
            cut = pending.rfind(b"\n") + 1
            if cut:
                complete, pending = pending[:cut], pending[cut:]
                lines += _write_lines(writer, complete)
            if progress and source_bytes >= next_progress:
                progress(source_bytes, lines)
                next_progress = source_bytes + _PROGRESS_EVERY_BYTES
        if not decompressor.eof:
            raise CorruptDumpError(f"{name}: truncated gzip stream (ended after {source_bytes} bytes)")
        if pending:
            lines += _write_lines(writer, pending + b"\n")
            uncompressed += 1
        if lines == 0:
            raise CorruptDumpError(f"{name}: the dump holds no records")
        writer.close_part()
    except BaseException:
        writer.abort()
        raise
    if progress:
        progress(source_bytes, lines)
    return RechunkResult(
        source_bytes=source_bytes, md5=md5.hexdigest(), lines=lines, uncompressed_bytes=uncompressed,
        parts=writer.parts,
    )  # fmt: skip


def _write_lines(writer: _PartWriter, block: bytes) -> int:
    """Write complete lines, closing parts at the first line end at or after the part size. Returns lines."""
    written = 0
    while block:
        room = max(writer.part_bytes - writer._written, 0)
        end = block.find(b"\n", max(room - 1, 0)) + 1 or len(block)
        piece, block = block[:end], block[end:]
        count = piece.count(b"\n")
        writer.write(piece, count)
        written += count
        if writer.full:
            writer.close_part()
    return written
