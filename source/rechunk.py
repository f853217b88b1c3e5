"""Re-chunk a gzip dump: gunzip as it streams in, split on line boundaries, gzip each part.

Memory stays flat whatever the dump's size: one compressed chunk, at most one block of decompressed
bytes, and the compressor state of the part being written. Lines are never held whole, so even a
line longer than a part streams through.
"""

import contextlib
import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO

BLOCK_BYTES = 1 << 20  # most decompressed bytes held at once
PROGRESS_EVERY_BYTES = 4 << 20  # compressed bytes between two progress calls

OpenPart = Callable[[str], AbstractContextManager[BinaryIO]]


class CorruptDumpError(ValueError):
    """The dump is not a complete, valid gzip stream of records; the message names the dump."""


@dataclass
class Part:
    path: str
    lines: int
    bytes: int  # compressed size written


@dataclass
class RechunkResult:
    source_bytes: int  # compressed bytes read
    md5: str  # of the compressed bytes read
    lines: int
    uncompressed_bytes: int  # of the source, as gunzip gives it (no newline added)
    parts: list[Part]


def rechunk(
    chunks: Iterable[bytes],
    open_part: OpenPart,
    part_bytes: int,
    compress_level: int = 1,
    progress: Callable[[int, int], None] | None = None,
    name: str = "dump",
) -> RechunkResult:
    """Stream a gzip dump into gzip parts part-NNNNN.txt.gz of about `part_bytes` uncompressed bytes.

    A part ends at the first line end at or after `part_bytes`; a line is never split, and a final
    line without a newline gets one. Each part is written through `open_part(part_name)`, published by
    leaving its context cleanly; on any error the open part's context is left with that error.
    `progress(compressed_bytes, lines)` is called every PROGRESS_EVERY_BYTES and once at the end.
    Raises CorruptDumpError for a truncated or corrupt gzip stream, and for a dump holding no records.
    """
    if part_bytes < 1:
        raise ValueError(f"part_bytes must be at least 1, got {part_bytes}")
    md5 = hashlib.md5(usedforsecurity=False)
    source_bytes = 0
    next_progress = PROGRESS_EVERY_BYTES
    gunzip = _Gunzip(name)
    parts = _PartWriter(open_part, part_bytes, compress_level)
    try:
        for chunk in chunks:
            md5.update(chunk)
            source_bytes += len(chunk)
            for block in gunzip.feed(chunk):
                parts.write(block)
            if progress is not None and source_bytes >= next_progress:
                progress(source_bytes, parts.lines)
                next_progress = source_bytes + PROGRESS_EVERY_BYTES
        gunzip.finish(source_bytes)
        if parts.lines == 0 and not parts.pending_line:
            raise CorruptDumpError(f"{name}: the dump holds no records")
        parts.finish()
    except BaseException as error:
        parts.abort(error)
        raise
    if progress is not None:
        progress(source_bytes, parts.lines)
    return RechunkResult(
        source_bytes=source_bytes,
        md5=md5.hexdigest(),
        lines=parts.lines,
        uncompressed_bytes=gunzip.bytes_out,
        parts=parts.parts,
    )


class _Gunzip:
    """Decompresses a gzip stream fed in arbitrary pieces, member after member, in bounded blocks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bytes_out = 0
        self.members = 0
        self._member: zlib._Decompress | None = None  # the member being read

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decompressed bytes of `data`, in blocks of at most BLOCK_BYTES."""
        while data:
            if self._member is None:
                if self.members:  # between members: zero padding after a member is allowed, as gzip does
                    data = data.lstrip(b"\0")
                    if not data:
                        return
                self._member = zlib.decompressobj(wbits=31)
            while True:
                try:
                    block = self._member.decompress(data, BLOCK_BYTES)
                except zlib.error as error:
                    raise CorruptDumpError(f"{self.name}: corrupt gzip data ({error})") from error
                if block:
                    self.bytes_out += len(block)
                    yield block
                if self._member.eof:
                    data = self._member.unused_data
                    self._member = None
                    self.members += 1
                    break
                data = self._member.unconsumed_tail
                if not data and len(block) < BLOCK_BYTES:
                    return  # all input consumed and all output drained

    def finish(self, source_bytes: int) -> None:
        """Refuse a stream that ends inside a member (or has none at all)."""
        if self._member is not None or not self.members:
            raise CorruptDumpError(
                f"{self.name}: truncated gzip stream (it ends after {source_bytes} bytes, inside a member)"
            )


class _CountingWriter:
    """Passes a part's compressed bytes to the lake's writer, counting them."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return self.sink.write(data)

    def flush(self) -> None:
        self.sink.flush()


class _PartWriter:
    """Writes decompressed bytes into numbered gzip parts; each ends at the first line end past the size."""

    def __init__(self, open_part: OpenPart, part_bytes: int, level: int) -> None:
        self.open_part = open_part
        self.part_bytes = part_bytes
        self.level = level
        self.parts: list[Part] = []
        self.lines = 0
        self.pending_line = False  # the last byte written was not a line end
        self._context: AbstractContextManager[BinaryIO] | None = None
        self._counter: _CountingWriter | None = None
        self._gzip: gzip.GzipFile | None = None
        self._written = 0
        self._part_lines = 0

    def write(self, block: bytes) -> None:
        view = memoryview(block)
        start = 0
        while start < len(block):
            if self._gzip is None:
                self._open()
            assert self._gzip is not None
            # a line end at index >= search_from brings this part to part_bytes or more
            search_from = start + max(self.part_bytes - self._written - 1, 0)
            cut = block.find(b"\n", search_from)
            end = len(block) if cut < 0 else cut + 1
            lines = block.count(b"\n", start, end)
            self._gzip.write(view[start:end])
            self._written += end - start
            self._part_lines += lines
            self.lines += lines
            start = end
            if cut >= 0:
                self._close()
        if block:
            self.pending_line = not block.endswith(b"\n")

    def finish(self) -> None:
        """End a final line that has no newline, and publish the last part."""
        if self.pending_line:
            self.write(b"\n")
        if self._gzip is not None:
            self._close()

    def abort(self, error: BaseException) -> None:
        """Leave the open part's context with `error`, so its writer discards it."""
        context, gzip_file = self._context, self._gzip
        self._context = self._counter = self._gzip = None
        if gzip_file is not None:
            with contextlib.suppress(Exception):
                gzip_file.close()
        if context is not None:
            context.__exit__(type(error), error, error.__traceback__)

    def _open(self) -> None:
        path = f"part-{len(self.parts):05d}.txt.gz"
        context = self.open_part(path)
        sink = context.__enter__()
        self._context, self._counter = context, _CountingWriter(sink)
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", compresslevel=self.level, fileobj=self._counter, mtime=0
        )
        self._written = self._part_lines = 0
        self.parts.append(Part(path=path, lines=0, bytes=0))

    def _close(self) -> None:
        assert self._gzip is not None and self._counter is not None and self._context is not None
        self._gzip.close()
        context, counter = self._context, self._counter
        self._context = self._counter = self._gzip = None
        self.parts[-1].lines, self.parts[-1].bytes = self._part_lines, counter.bytes
        context.__exit__(None, None, None)  # publishes the part
