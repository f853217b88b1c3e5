"""Re-chunking: the parts hold exactly the source lines, split on line boundaries; bad gzip is refused."""

import gzip
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from source.rechunk import CorruptDumpError, rechunk


class MemoryLake:
    """Parts written through open_part, published only when the writer closes cleanly."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    @contextmanager
    def open_part(self, name: str) -> Iterator[io.BytesIO]:
        buffer = io.BytesIO()
        yield buffer
        self.files[name] = buffer.getvalue()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


LINES = [f'/type/work\t/works/OL{i}W\t{i % 7 + 1}\t2020-01-01\t{{"n": {i}}}\n'.encode() for i in range(500)]


def test_parts_hold_exactly_the_source_lines_in_order() -> None:
    content = (
        b"".join(LINES[:200]) + b"x" * 5000 + b"\n" + b"".join(LINES[200:]) + b"last line without newline"
    )
    source = gzip.compress(content, mtime=0)
    lake = MemoryLake()
    result = rechunk(chunked(source, 7), lake.open_part, part_bytes=4096)
    parts = [gzip.decompress(lake.files[part.path]) for part in result.parts]
    assert b"".join(parts) == content + b"\n"
    assert [part.path for part in result.parts] == [f"part-{n:05d}.txt.gz" for n in range(len(parts))]
    assert all(len(part) >= 4096 and part.endswith(b"\n") for part in parts[:-1])
    assert [part.lines for part in result.parts] == [part.count(b"\n") for part in parts]
    assert result.lines == len(LINES) + 2
    assert result.md5 == hashlib.md5(source).hexdigest()
    assert result.source_bytes == len(source)
    assert [part.bytes for part in result.parts] == [len(lake.files[part.path]) for part in result.parts]


def test_multi_member_gzip_is_read_whole() -> None:
    source = gzip.compress(b"".join(LINES[:10]), mtime=0) + gzip.compress(b"".join(LINES[10:20]), mtime=0)
    lake = MemoryLake()
    result = rechunk(chunked(source, len(source) // 2 + 1), lake.open_part, part_bytes=1 << 20)
    assert result.lines == 20
    assert gzip.decompress(lake.files["part-00000.txt.gz"]) == b"".join(LINES[:20])


def test_a_truncated_dump_is_refused_and_publishes_nothing_after_the_cut() -> None:
    source = gzip.compress(b"".join(LINES), mtime=0)
    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match="truncated"):
        rechunk(
            chunked(source[: len(source) - 100], 1000), lake.open_part, part_bytes=1 << 20, name="works.gz"
        )
    assert lake.files == {}


def test_a_corrupted_byte_is_refused() -> None:
    source = bytearray(gzip.compress(b"".join(LINES), mtime=0))
    source[-6] ^= 0xFF  # inside the CRC32 trailer
    with pytest.raises(CorruptDumpError, match=r"works\.gz: corrupt"):
        rechunk([bytes(source)], MemoryLake().open_part, part_bytes=1 << 20, name="works.gz")


def test_an_empty_dump_holds_no_records() -> None:
    empty = gzip.compress(b"", mtime=0)
    assert len(empty) == 20
    with pytest.raises(CorruptDumpError, match="holds no records"):
        rechunk([empty], MemoryLake().open_part, part_bytes=1 << 20)


def test_not_gzip_at_all_is_refused() -> None:
    with pytest.raises(CorruptDumpError, match="corrupt gzip"):
        rechunk([b"<html>Service Unavailable</html>"], MemoryLake().open_part, part_bytes=1 << 20)


def test_progress_reports_bytes_and_lines() -> None:
    seen: list[tuple[int, int]] = []
    source = gzip.compress(b"".join(LINES), mtime=0)
    rechunk(
        chunked(source, 100),
        MemoryLake().open_part,
        part_bytes=1 << 20,
        progress=lambda b, n: seen.append((b, n)),
    )
    assert seen[-1] == (len(source), len(LINES))
