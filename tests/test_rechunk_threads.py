"""The threaded, ISA-L re-chunking: parts identical however the source arrives, bounded read-ahead, failures
in any thread stop every thread, discard the open part and reach the caller."""

import gzip
import io
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest

from source import rechunk as rechunk_module
from source.rechunk import CorruptDumpError, rechunk
from tests.test_rechunk import MemoryLake, chunked, part_contents, run

RNG = random.Random(11)
# ~750 KB of varied lines: enough for many parts and, with small segments, many segments per part
CONTENT = b"".join(
    b'/type/edition\t/books/OL%dM\t1\t{"title": "%s"}\n'
    % (i, RNG.randbytes(RNG.randint(0, 200)).hex().encode())
    for i in range(3000)
)


def rechunk_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("rechunk-")]


class Counted:
    """The chunks of a source, counting how many have been read (`read`) as they are iterated."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = list(chunks)
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk


@pytest.fixture(autouse=True)
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of 5,000 bytes, so a part of the test content is compressed in many pieces."""
    monkeypatch.setattr(rechunk_module, "SEGMENT_BYTES", 5000)


@pytest.mark.parametrize("level", [1, 2, 3, 6])
def test_parts_are_byte_identical_however_the_source_is_chunked(level: int) -> None:
    """ISA-L's output depends on how its input is split: the parts are cut and compressed at fixed
    offsets of the content, so a resumed download (other chunk boundaries) gives the same bytes."""
    source = gzip.compress(CONTENT, mtime=0)
    runs = []
    for size in (7, 777, 65_536, len(source)):
        result, lake = run(chunked(source, size), part_bytes=100_000, compress_level=level)
        runs.append(lake.files)
        assert b"".join(part_contents(result, lake)) == CONTENT
    assert len(runs[0]) == 8  # about 750 KB in parts of 100 KB
    assert all(files == runs[0] for files in runs[1:])
    assert all(part[:4] == b"\x1f\x8b\x08\x00" and part[4:8] == b"\0\0\0\0" for part in runs[0].values())


@pytest.mark.parametrize("level", [0, 10, -1])
def test_a_compress_level_outside_1_to_9_is_refused_before_anything_is_written(level: int) -> None:
    lake = MemoryLake()
    with pytest.raises(ValueError, match="compress_level must be 1-9"):
        rechunk([gzip.compress(CONTENT)], lake.open_part, part_bytes=100_000, compress_level=level)
    assert lake.files == {} and lake.discarded == []
    assert rechunk_threads() == []


class _WatchedChannel(rechunk_module._Channel):
    """The rechunk stages' queue, noting in `waiting_for_room` the threads whose put() found it full and has
    not returned yet."""

    def __init__(self, depth: int = rechunk_module.QUEUE_DEPTH) -> None:
        super().__init__(depth)
        self._queue = _WatchedQueue(depth)


class _WatchedQueue(queue.Queue):
    def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
        name = threading.current_thread().name
        try:
            super().put(item, block, timeout)
        except queue.Full:
            waiting_for_room.add(name)
            raise
        waiting_for_room.discard(name)


waiting_for_room: set[str] = set()


def test_the_source_is_read_at_most_a_few_chunks_ahead_of_a_stalled_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays flat: when the lake stops taking bytes, the reading stops too (bounded queues)."""
    monkeypatch.setattr(rechunk_module, "_Channel", _WatchedChannel)
    waiting_for_room.clear()
    source = gzip.compress(CONTENT, compresslevel=1, mtime=0)
    chunks = Counted(chunked(source, 1000))
    stalled, release = threading.Event(), threading.Event()

    class StalledSink(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            stalled.set()
            assert release.wait(30), "the test never released the writer"
            return super().write(data)

    @contextmanager
    def open_part(name: str) -> Iterator[io.BytesIO]:
        yield StalledSink()

    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(rechunk(chunks, open_part, part_bytes=20_000, compress_level=1)),
        name="reader",
    )
    worker.start()
    assert stalled.wait(30), "the writer never wrote"
    # The writer holds its piece; once the compressor waits for room in the full piece queue, the splitter
    # in the full segment queue and the reader in the full chunk queue, nothing moves until the writer is
    # released: reading stopped.
    deadline = time.monotonic() + 30
    while not {"rechunk-compress", "rechunk-split", "reader"} <= waiting_for_room:
        assert worker.is_alive() and time.monotonic() < deadline, f"the reading never stopped: {chunks.read}"
        time.sleep(0.01)
    stalled_at = chunks.read
    release.set()
    worker.join(30)
    # Held back when reading stopped: the pieces and segments in the queues and in the stages' hands (one
    # segment of content each), the chunks in their queue and the first 20 KB part (the writer stalls at
    # its first write, at the latest when that part is closed); in source chunks, about 2 KB of content each.
    content_per_chunk = len(CONTENT) / len(chunks.chunks)
    segments = rechunk_module.WRITE_QUEUE_DEPTH + rechunk_module.QUEUE_DEPTH + 3
    held = (segments * rechunk_module.SEGMENT_BYTES + 20_000) / content_per_chunk + rechunk_module.QUEUE_DEPTH
    assert stalled_at <= held + 2 < len(chunks.chunks) / 2
    assert outcome and outcome[0].lines == 3000  # type: ignore[attr-defined]


def test_a_failing_lake_write_stops_the_reading_and_reaches_the_caller() -> None:
    source = gzip.compress(CONTENT, mtime=0)
    chunks = Counted(chunked(source, 500))

    class FullDisk(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            raise OSError(28, "No space left on device")

    lake = MemoryLake()

    @contextmanager
    def open_part(name: str) -> Iterator[io.BytesIO]:
        if name != "part-00002.txt.gz":
            with lake.open_part(name) as sink:
                yield sink
            return
        try:
            yield FullDisk()
        except BaseException:
            lake.discarded.append(name)
            raise
        lake.files[name] = b"published by mistake"

    with pytest.raises(OSError, match="No space left on device"):
        rechunk(chunks, open_part, part_bytes=100_000, compress_level=1)
    assert sorted(lake.files) == ["part-00000.txt.gz", "part-00001.txt.gz"]
    assert lake.discarded == ["part-00002.txt.gz"]
    assert chunks.read < len(chunks.chunks)
    assert rechunk_threads() == []


def test_corrupt_data_mid_stream_stops_the_reading_and_keeps_what_came_before() -> None:
    half = len(CONTENT) // 2
    junk = b"<html>Service Unavailable</html>"  # not a gzip member: refused as soon as it arrives
    source = gzip.compress(CONTENT[:half], mtime=0) + junk + gzip.compress(CONTENT[half:], mtime=0)
    chunks = Counted(chunked(source, 300))

    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match=r"^works\.gz: corrupt gzip data"):
        rechunk(chunks, lake.open_part, part_bytes=100_000, name="works.gz")
    assert chunks.read < len(chunks.chunks) * 3 // 4  # the second member is never read through
    assert lake.files and lake.discarded == [f"part-{len(lake.files):05d}.txt.gz"]
    for name, data in lake.files.items():  # published parts are whole, valid gzip files of whole lines
        assert gzip.decompress(data).endswith(b"\n"), name
    assert rechunk_threads() == []


def test_progress_is_reported_from_the_callers_thread() -> None:
    source = gzip.compress(RNG.randbytes(6 << 20).hex().encode()[: 9 << 20] + b"\n", compresslevel=1, mtime=0)
    threads: set[str] = set()
    rechunk(
        chunked(source, 1 << 20),
        MemoryLake().open_part,
        part_bytes=4 << 20,
        progress=lambda done, lines: threads.add(threading.current_thread().name),
    )
    assert threads == {threading.current_thread().name}
