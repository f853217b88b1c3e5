"""Re-chunk a gzip dump: gunzip as it streams in, split on line boundaries, gzip each part.

Four threads overlap the work, each handing the next a bounded queue: the caller's thread reads the
source (and hashes it), one thread gunzips and splits the lines into parts, one compresses them, one
writes them to the lake. Decompression and compression use ISA-L (python-isal), which, like hashing and
socket and file I/O, releases the GIL, so on two cores the stages really run side by side; and a lake
write that waits (an upload chunk on its way to GCS) no longer holds up the compression behind it.

Memory stays flat whatever the dump's size: a few compressed chunks and decompressed segments in the
queues, up to about an upload chunk of compressed bytes waiting for the lake, and the compressor state of
the part being written. Lines are never held whole, so even a line
longer than a part streams through. Each part is compressed in segments cut at fixed offsets of its own
content (ISA-L's output depends on how its input is split), so the same dump always gives byte-identical
parts, however the source's bytes arrive.
"""

import enum
import hashlib
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Generic, Protocol, TypeVar

from isal import igzip_lib, isal_zlib

SEGMENT_BYTES = 1 << 20  # a part is compressed in pieces of this many bytes (the last one shorter)
PROGRESS_EVERY_BYTES = 4 << 20  # compressed bytes between two progress calls
QUEUE_DEPTH = 4  # chunks or segments waiting between two threads
# compressed pieces (one per segment, ~0.3 MB at level 1) waiting for the lake: about one 8 MiB GCS upload
# chunk, so the compression goes on while the writer waits for the upload of the one before
WRITE_QUEUE_DEPTH = 32
ISAL_LEVELS = range(1, 4)  # compress_level 1-3: ISA-L's levels (fast); 4-9: zlib's
_POLL_S = 0.05  # how often a blocked producer checks whether its consumer has stopped

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
    `compress_level` 1-3 compresses with ISA-L, 4-9 with zlib. `progress(compressed_bytes, lines)` is
    called (in the caller's thread) every PROGRESS_EVERY_BYTES and once at the end.
    Raises CorruptDumpError for a truncated or corrupt gzip stream, and for a dump holding no records.
    """
    if part_bytes < 1:
        raise ValueError(f"part_bytes must be at least 1, got {part_bytes}")
    gzip_compressor(compress_level)  # refuse a bad level before anything is opened
    md5 = hashlib.md5(usedforsecurity=False)
    source_bytes = 0
    next_progress = PROGRESS_EVERY_BYTES
    gunzip = _Gunzip(name)
    splitter = _Splitter(part_bytes)
    compressor = _PartCompressor(compress_level)
    parts = _PartWriter(open_part)
    compressed: _Channel[bytes | _Signal] = _Channel()
    segments: _Channel[_Segment | _Signal] = _Channel()
    pieces: _Channel[_Piece | _Signal] = _Channel(WRITE_QUEUE_DEPTH)
    errors: list[BaseException] = []  # the caller's own first, then the stages'; the first one is raised
    stages = [
        threading.Thread(
            target=_split_stage,
            args=(compressed, segments, gunzip, splitter, errors),
            name="rechunk-split",
            daemon=True,
        ),
        threading.Thread(
            target=_compress_stage,
            args=(segments, pieces, compressor, errors),
            name="rechunk-compress",
            daemon=True,
        ),
        threading.Thread(
            target=_write_stage, args=(pieces, parts, errors), name="rechunk-write", daemon=True
        ),
    ]
    for stage in stages:
        stage.start()
    try:
        for chunk in chunks:
            md5.update(chunk)
            source_bytes += len(chunk)
            if not compressed.put(chunk):
                break  # a stage failed: its error is raised below
            if progress is not None and source_bytes >= next_progress:
                progress(source_bytes, compressor.lines)
                next_progress = source_bytes + PROGRESS_EVERY_BYTES
        else:
            compressed.put(_Signal.END)
    except BaseException as error:
        errors.insert(0, error)
        compressed.put(_Signal.ABORT)  # the stages handle what they have, then stop
    finally:
        for stage in stages:
            stage.join()
    if errors:
        parts.abort(errors[0])
        raise errors[0]
    if progress is not None:
        progress(source_bytes, parts.lines)
    return RechunkResult(
        source_bytes=source_bytes,
        md5=md5.hexdigest(),
        lines=parts.lines,
        uncompressed_bytes=gunzip.bytes_out,
        parts=parts.parts,
    )


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


def gzip_compressor(level: int) -> _Compressor:
    """A compressor writing one gzip member (mtime 0, no file name): ISA-L for levels 1-3, zlib for 4-9."""
    if level in ISAL_LEVELS:
        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, 31)
    if 4 <= level <= 9:
        return zlib.compressobj(level, zlib.DEFLATED, 31)
    raise ValueError(f"compress_level must be 1-9 (1-3 use ISA-L, 4-9 zlib), got {level}")


# ------------------------------------------------------------------------------------------ the stages


class _Signal(enum.Enum):
    """In-band markers sent after the last chunk: the source ended (END) or failed (ABORT)."""

    END = "end"
    ABORT = "abort"


T = TypeVar("T")


class _Channel(Generic[T]):
    """A bounded queue from one thread to the next; put() gives up once the reading thread has stopped."""

    def __init__(self, depth: int = QUEUE_DEPTH) -> None:
        self._queue: queue.Queue[T] = queue.Queue(depth)
        self.reader_stopped = threading.Event()

    def put(self, item: T) -> bool:
        """Hand `item` to the reader, waiting for room; False when the reader has stopped."""
        while not self.reader_stopped.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self) -> T:
        return self._queue.get()


@dataclass
class _Segment:
    data: bytes
    ends_part: bool


def _split_stage(
    inbox: "_Channel[bytes | _Signal]",
    outbox: "_Channel[_Segment | _Signal]",
    gunzip: "_Gunzip",
    splitter: "_Splitter",
    errors: list[BaseException],
) -> None:
    """Gunzip the chunks and cut the lines into part segments, until END (checked) or ABORT.

    When the stream fails, the bytes of the current part that came before the failure are still sent on,
    so the part they belong to is open (and then discarded) exactly as if nothing were buffered.
    """
    try:
        while not isinstance(chunk := inbox.get(), _Signal):
            for block in gunzip.feed(chunk, splitter.room):
                for segment in splitter.split(block):
                    if not outbox.put(segment):
                        return  # the writer failed
        if chunk is _Signal.ABORT:
            outbox.put(splitter.rest())
            return
        gunzip.finish()
        if gunzip.bytes_out == 0:
            raise CorruptDumpError(f"{gunzip.name}: the dump holds no records")
        for segment in splitter.finish():
            if not outbox.put(segment):
                return
    except BaseException as error:
        errors.append(error)
        outbox.put(splitter.rest())
    finally:
        inbox.reader_stopped.set()
        outbox.put(_Signal.END)  # the writer writes what it was given, then stops


def _compress_stage(
    inbox: "_Channel[_Segment | _Signal]",
    outbox: "_Channel[_Piece | _Signal]",
    compressor: "_PartCompressor",
    errors: list[BaseException],
) -> None:
    """Compress segments into the pieces of numbered parts until END (or the writer stops)."""
    try:
        while not isinstance(segment := inbox.get(), _Signal):
            piece = compressor.compress(segment)
            if piece is not None and not outbox.put(piece):
                return  # the writer failed
    except BaseException as error:
        errors.append(error)
    finally:
        inbox.reader_stopped.set()
        outbox.put(_Signal.END)  # the writer writes what it was given, then stops


def _write_stage(
    inbox: "_Channel[_Piece | _Signal]", parts: "_PartWriter", errors: list[BaseException]
) -> None:
    """Write pieces into parts until END; the part still open then is the caller's to abort."""
    try:
        while not isinstance(piece := inbox.get(), _Signal):
            parts.write(piece)
    except BaseException as error:
        errors.append(error)
    finally:
        inbox.reader_stopped.set()


# ---------------------------------------------------------------------------------------- the workers


class _Gunzip:
    """Decompresses a gzip stream fed in arbitrary pieces, member after member, in bounded blocks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bytes_out = 0
        self.members = 0
        self.bytes_in = 0
        self._member: igzip_lib.IgzipDecompressor | None = None  # the member being read

    def feed(self, data: bytes, room: Callable[[], int]) -> Iterator[bytes]:
        """The decompressed bytes of `data`, in blocks of at most `room()` bytes, asked before each block,
        so the blocks can fill a consumer's buffer exactly."""
        self.bytes_in += len(data)
        while True:
            if self._member is None:
                if self.members:  # between members: zero padding after a member is allowed, as gzip does
                    data = data.lstrip(b"\0")
                if not data:
                    return
                self._member = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
            try:
                block = self._member.decompress(data, room())
            except igzip_lib.IsalError as error:
                raise CorruptDumpError(f"{self.name}: corrupt gzip data ({error})") from error
            data = b""
            if block:
                self.bytes_out += len(block)
                yield block
            if self._member.eof:
                data = self._member.unused_data
                self._member = None
                self.members += 1
            elif self._member.needs_input:
                return

    def finish(self) -> None:
        """Refuse a stream that ends inside a member (or has none at all)."""
        if self._member is not None or not self.members:
            raise CorruptDumpError(
                f"{self.name}: truncated gzip stream (it ends after {self.bytes_in} bytes, inside a member)"
            )


class _Splitter:
    """Cuts decompressed bytes into part segments: a part ends at the first line end at or after
    `part_bytes`, and within a part a segment ends every SEGMENT_BYTES, so the cuts depend on the content
    only, never on how it arrived. Blocks sized by room() are passed on without copying."""

    def __init__(self, part_bytes: int) -> None:
        self.part_bytes = part_bytes
        self.pending_line = False  # the last byte seen was not a line end
        self._pieces: list[bytes | memoryview] = []  # the current segment's bytes so far
        self._filled = 0  # bytes in _pieces
        self._in_part = 0  # bytes of the current part seen so far

    def room(self) -> int:
        """Bytes that complete the current segment (at least 1)."""
        return SEGMENT_BYTES - self._filled

    def split(self, block: bytes) -> Iterator[_Segment]:
        """Segments completed by `block`, which must be at most room() bytes long."""
        start = 0
        while start < len(block):
            # a line end at index >= search_from brings this part to part_bytes or more
            search_from = start + max(self.part_bytes - self._in_part - 1, 0)
            cut = block.find(b"\n", search_from)
            end = len(block) if cut < 0 else cut + 1
            self._pieces.append(block if start == 0 and end == len(block) else memoryview(block)[start:end])
            self._filled += end - start
            self._in_part += end - start
            start = end
            if cut >= 0:
                yield self._take(ends_part=True)
                self._in_part = 0
            elif self._filled >= SEGMENT_BYTES:
                yield self._take(ends_part=False)
        if block:
            self.pending_line = not block.endswith(b"\n")

    def finish(self) -> Iterator[_Segment]:
        """End a final line that has no newline, and end the last part."""
        if self.pending_line:
            yield from self.split(b"\n")
        if self._in_part:
            yield self._take(ends_part=True)

    def rest(self) -> _Segment:
        """The current part's bytes not sent on yet, as a segment that does not end it (for failures)."""
        return self._take(ends_part=False)

    def _take(self, ends_part: bool) -> _Segment:
        pieces = self._pieces
        data = pieces[0] if len(pieces) == 1 and isinstance(pieces[0], bytes) else b"".join(pieces)
        self._pieces, self._filled = [], 0
        return _Segment(data, ends_part)


class _CountingWriter:
    """Passes a part's compressed bytes to the lake's writer, counting them."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.bytes = 0

    def write(self, data: bytes) -> None:
        if data:
            self.bytes += len(data)
            self.sink.write(data)


@dataclass
class _Piece:
    """Compressed bytes of part number `part`; the last piece of a part ends it and says its lines."""

    part: int
    data: bytes
    ends_part: bool
    lines: int  # the part's lines when ends_part, else 0


class _PartCompressor:
    """Compresses segments into gzip members, one per part: a part starts with the first segment after the
    previous part ended, and its last piece carries the compressor's flush and the part's line count."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.parts = 0  # parts started
        self.lines = 0  # lines compressed so far (what progress reports)
        self._compressor: _Compressor | None = None
        self._part_lines = 0

    def compress(self, segment: _Segment) -> _Piece | None:
        """The compressed piece of `segment` (None for an empty segment that ends nothing)."""
        if not segment.data and not segment.ends_part:
            return None
        if self._compressor is None:
            self._compressor = gzip_compressor(self.level)
            self._part_lines = 0
            self.parts += 1
        data = self._compressor.compress(segment.data)
        lines = segment.data.count(b"\n")
        self._part_lines += lines
        self.lines += lines
        if not segment.ends_part:
            return _Piece(self.parts - 1, data, ends_part=False, lines=0)
        data += self._compressor.flush()
        self._compressor = None
        return _Piece(self.parts - 1, data, ends_part=True, lines=self._part_lines)


class _PartWriter:
    """Writes compressed pieces into numbered parts part-NNNNN.txt.gz, opening a part for its first piece
    and publishing it after its last."""

    def __init__(self, open_part: OpenPart) -> None:
        self.open_part = open_part
        self.parts: list[Part] = []  # opened so far; the last is still open while _context is set
        self.lines = 0  # in published parts
        self._context: AbstractContextManager[BinaryIO] | None = None
        self._counter: _CountingWriter | None = None

    def write(self, piece: _Piece) -> None:
        if self._context is None:
            self._open(piece.part)
        assert self._counter is not None
        self._counter.write(piece.data)
        if piece.ends_part:
            self._close(piece.lines)

    def abort(self, error: BaseException) -> None:
        """Leave the open part's context with `error`, so its writer discards it."""
        context = self._context
        self._context = self._counter = None
        if context is not None:
            context.__exit__(type(error), error, error.__traceback__)

    def _open(self, number: int) -> None:
        if number != len(self.parts):
            raise RuntimeError(f"part {number} arrived after {len(self.parts)} parts")
        path = f"part-{number:05d}.txt.gz"
        context = self.open_part(path)
        sink = context.__enter__()
        self._context, self._counter = context, _CountingWriter(sink)
        self.parts.append(Part(path=path, lines=0, bytes=0))

    def _close(self, lines: int) -> None:
        assert self._counter is not None and self._context is not None
        context, counter = self._context, self._counter
        self._context = self._counter = None
        self.parts[-1].lines, self.parts[-1].bytes = lines, counter.bytes
        self.lines += lines
        context.__exit__(None, None, None)  # publishes the part
