"""Re-chunking: the parts hold exactly the source lines, split on line boundaries; bad gzip is refused."""

import base64
import gzip
import hashlib
import io
import itertools
import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import pytest

from source import rechunk as rechunk_module
from source.rechunk import CorruptDumpError, RechunkResult, rechunk


class MemoryLake:
    """Parts written through open_part: published when the writer's block ends cleanly, else discarded."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.discarded: list[str] = []

    @contextmanager
    def open_part(self, name: str) -> Iterator[io.BytesIO]:
        assert name not in self.files, f"{name} written twice"
        buffer = io.BytesIO()
        try:
            yield buffer
        except BaseException:
            self.discarded.append(name)
            raise
        self.files[name] = buffer.getvalue()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def work_line(i: int) -> bytes:
    return f'/type/work\t/works/OL{i}W\t{i % 7 + 1}\t2020-01-01T00:00:00\t{{"n": {i}}}\n'.encode()


LINES = [work_line(i) for i in range(500)]
# Bytes that must pass through untouched: invalid UTF-8, NUL, \x1a, a CR before the LF, an empty line.
ODD_LINES = [b"\xff\xfe not utf-8 \xc3\x28\n", b'{"x": "a\x00b\x1ac"}\r\n', b"\n"]
PART_BYTES = 4096
CONTENT = (
    b"".join(LINES[:200])
    + b"x" * (3 * PART_BYTES)  # a line longer than a part
    + b"\n"
    + b"".join(ODD_LINES)
    + b"".join(LINES[200:])
    + b"last line without newline"
)
CONTENT_LINES = len(LINES) + 1 + len(ODD_LINES) + 1


def multi_member(content: bytes, pieces: int = 3) -> bytes:
    """`content` as a gzip file of several members (as `cat a.gz b.gz` makes), cut mid-line."""
    step = len(content) // pieces + 1
    return b"".join(gzip.compress(content[i : i + step], mtime=0) for i in range(0, len(content), step))


def run(
    source: Iterable[bytes],
    part_bytes: int = PART_BYTES,
    compress_level: int = 1,
    progress: Callable[[int, int], None] | None = None,
    name: str = "dump",
) -> tuple[RechunkResult, MemoryLake]:
    lake = MemoryLake()
    result = rechunk(source, lake.open_part, part_bytes, compress_level, progress, name)
    return result, lake


def part_contents(result: RechunkResult, lake: MemoryLake) -> list[bytes]:
    return [gzip.decompress(lake.files[part.path]) for part in result.parts]


@pytest.mark.parametrize(
    ("source", "chunk_size"),
    [
        (gzip.compress(CONTENT, mtime=0), 7),
        (gzip.compress(CONTENT, mtime=0), 65_536),
        (multi_member(CONTENT), 7),
        (multi_member(CONTENT), 1000),
        (gzip.compress(CONTENT, compresslevel=9, mtime=0), 10**9),
    ],
    ids=["7-byte-chunks", "64k-chunks", "multi-member-7", "multi-member-1000", "one-chunk"],
)
def test_parts_hold_exactly_the_source_lines_in_order(source: bytes, chunk_size: int) -> None:
    result, lake = run(chunked(source, chunk_size))
    parts = part_contents(result, lake)

    assert b"".join(parts) == CONTENT + b"\n"
    assert sorted(lake.files) == [part.path for part in result.parts]
    assert [part.path for part in result.parts] == [f"part-{n:05d}.txt.gz" for n in range(len(parts))]
    assert len(parts) > 5
    for part in parts[:-1]:
        assert len(part) >= PART_BYTES
        assert part.endswith(b"\n")  # so the next part begins at a line start
        assert b"\n" not in part[PART_BYTES - 1 : -1]  # closed at the first line end at or after the size
    assert [part.lines for part in result.parts] == [part.count(b"\n") for part in parts]
    assert sum(part.lines for part in result.parts) == result.lines == CONTENT_LINES
    assert [part.bytes for part in result.parts] == [len(lake.files[part.path]) for part in result.parts]
    assert result.md5 == hashlib.md5(source).hexdigest()
    assert result.source_bytes == len(source)
    assert result.uncompressed_bytes == len(CONTENT)
    assert lake.discarded == []


def test_parts_end_at_the_first_line_end_at_or_after_the_size() -> None:
    content = b"12345\n1234\n1\n123456789012345\n12\n123456789\n" + b"last"
    result, lake = run([gzip.compress(content, mtime=0)], part_bytes=10)
    assert part_contents(result, lake) == [
        b"12345\n1234\n",  # 11 bytes: the first line end at or after 10
        b"1\n123456789012345\n",  # a line longer than a part stays whole
        b"12\n123456789\n",
        b"last\n",  # the final line gets its newline
    ]
    assert [part.lines for part in result.parts] == [2, 2, 2, 1]
    assert result.lines == 7


def test_a_line_ending_exactly_at_the_size_closes_the_part() -> None:
    result, lake = run([gzip.compress(b"123456789\n" * 3, mtime=0)], part_bytes=10)
    assert part_contents(result, lake) == [b"123456789\n"] * 3


def test_parts_are_gzip_members_with_a_fixed_header() -> None:
    """mtime=0 and no file name: the same dump always gives byte-identical parts."""
    source = gzip.compress(CONTENT, mtime=0)
    _, first_lake = run(chunked(source, 1000), compress_level=6)
    _, second_lake = run(chunked(source, 333), compress_level=6)
    assert first_lake.files == second_lake.files
    header = first_lake.files["part-00000.txt.gz"][:10]
    assert header[:4] == b"\x1f\x8b\x08\x00" and header[4:8] == b"\0\0\0\0"  # no FNAME flag, mtime 0


def test_zero_padding_after_the_last_member_is_ignored_as_gzip_does() -> None:
    source = multi_member(b"".join(LINES[:20]), pieces=2) + b"\0" * 100
    assert gzip.decompress(source) == b"".join(LINES[:20])
    result, lake = run(chunked(source, 50), part_bytes=1 << 20)
    assert result.lines == 20
    assert gzip.decompress(lake.files["part-00000.txt.gz"]) == b"".join(LINES[:20])


@pytest.mark.parametrize("keep", [5, 11, 500, -100, -8, -1], ids=lambda k: f"keep{k}")
def test_a_truncated_dump_is_refused(keep: int) -> None:
    source = gzip.compress(b"".join(LINES), mtime=0)
    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match=r"^works\.gz: truncated gzip stream"):
        rechunk(chunked(source[:keep], 64), lake.open_part, part_bytes=1 << 20, name="works.gz")
    assert lake.files == {}


def test_a_truncated_member_after_a_whole_one_is_refused() -> None:
    source = multi_member(b"".join(LINES), pieces=2)
    with pytest.raises(CorruptDumpError, match="truncated"):
        run([source[:-10]], part_bytes=1 << 20)


def test_a_truncated_dump_keeps_earlier_parts_and_discards_the_open_one() -> None:
    source = gzip.compress(b"".join(LINES), mtime=0)
    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match="truncated"):
        rechunk(chunked(source[:-50], 100), lake.open_part, part_bytes=PART_BYTES)
    assert lake.files, "parts closed before the cut were published (the manifest is what marks completion)"
    assert lake.discarded == [f"part-{len(lake.files):05d}.txt.gz"]


def test_a_flipped_byte_in_the_deflate_data_is_refused() -> None:
    source = bytearray(gzip.compress(b"".join(LINES), mtime=0))
    source[len(source) // 2] ^= 0x01
    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match=r"^works\.gz: "):
        rechunk(chunked(bytes(source), 7), lake.open_part, part_bytes=1 << 20, name="works.gz")
    assert lake.files == {}


@pytest.mark.parametrize("offset", [-8, -4], ids=["crc32", "length"])
def test_a_wrong_trailer_is_refused(offset: int) -> None:
    source = bytearray(gzip.compress(b"".join(LINES), mtime=0))
    source[offset] ^= 0xFF
    with pytest.raises(CorruptDumpError, match=r"^works\.gz: corrupt gzip data"):
        run([bytes(source)], part_bytes=1 << 20, name="works.gz")


def test_an_empty_dump_holds_no_records() -> None:
    empty = gzip.compress(b"", mtime=0)
    assert len(empty) == 20
    lake = MemoryLake()
    with pytest.raises(CorruptDumpError, match=r"^ol_dump_works_x\.txt\.gz: the dump holds no records"):
        rechunk([empty], lake.open_part, part_bytes=1 << 20, name="ol_dump_works_x.txt.gz")
    assert lake.files == {} and lake.discarded == []


def test_a_single_line_without_newline_is_one_record() -> None:
    result, lake = run([gzip.compress(b"only", mtime=0)])
    assert result.lines == 1
    assert part_contents(result, lake) == [b"only\n"]
    assert result.uncompressed_bytes == 4


@pytest.mark.parametrize("data", [b"<html>Service Unavailable</html>", b"\0" * 30, b""], ids=str)
def test_not_gzip_at_all_is_refused(data: bytes) -> None:
    with pytest.raises(CorruptDumpError, match=r"corrupt gzip data|truncated gzip stream"):
        run([data], part_bytes=1 << 20)


def test_an_error_from_the_source_discards_the_open_part_and_propagates() -> None:
    source = gzip.compress(b"".join(LINES), mtime=0)

    def failing() -> Iterator[bytes]:
        yield source[: len(source) // 2]
        raise ConnectionError("connection reset")

    lake = MemoryLake()
    with pytest.raises(ConnectionError, match="connection reset"):
        rechunk(failing(), lake.open_part, part_bytes=1 << 20)
    assert lake.files == {} and lake.discarded == ["part-00000.txt.gz"]


def test_part_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="part_bytes"):
        run([gzip.compress(b"a\n")], part_bytes=0)


def test_progress_reports_bytes_and_lines_every_few_megabytes() -> None:
    rng = random.Random(7)
    lines = [base64.b64encode(rng.randbytes(300)) + b"\n" for _ in range(40_000)]  # ~16 MB
    source = gzip.compress(b"".join(lines), compresslevel=1, mtime=0)
    assert len(source) > 10 << 20  # base64 of random bytes barely compresses
    seen: list[tuple[int, int]] = []
    result, _ = run(
        chunked(source, 1 << 20), part_bytes=4 << 20, progress=lambda done, n: seen.append((done, n))
    )
    assert seen[-1] == (len(source), len(lines)) == (result.source_bytes, result.lines)
    assert 2 <= len(seen) <= len(source) // (4 << 20) + 1
    periodic = seen[:-1]
    assert all(later[0] - earlier[0] >= 4 << 20 for earlier, later in itertools.pairwise(periodic))
    assert all(earlier[1] <= later[1] for earlier, later in itertools.pairwise(seen))


def test_a_chunk_inflating_to_many_blocks_round_trips() -> None:
    """20 MB compressed to about 20 KB arrives in one chunk: its output is drained block by block."""
    content = (b"a" * 1000 + b"\n") * 20_000
    source = gzip.compress(content, mtime=0)
    assert len(source) < 100_000
    result, lake = run([source], part_bytes=8 << 20)
    assert b"".join(part_contents(result, lake)) == content
    lines_per_part = -(-(8 << 20) // 1001)  # the first line end at or after 8 MiB
    assert [part.lines for part in result.parts] == [
        lines_per_part,
        lines_per_part,
        20_000 - 2 * lines_per_part,
    ]


def test_a_zlib_stream_is_not_gzip() -> None:
    with pytest.raises(CorruptDumpError, match="corrupt gzip data"):
        run([zlib.compress(b"a\n")])


@pytest.mark.parametrize("chunk_size", [1, 3, 64, 10**9])
def test_output_held_back_by_the_block_limit_is_all_delivered(
    monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    """With tiny segments (a gunzip step gives at most what the segment has room for), one input byte
    inflates to more than a block: nothing may be left behind."""
    monkeypatch.setattr(rechunk_module, "SEGMENT_BYTES", 100)
    content = b"".join(b"a" * (i % 3000) + b"\n" for i in range(300))
    source = multi_member(content, pieces=2)
    result, lake = run(chunked(source, chunk_size), part_bytes=50_000)
    assert b"".join(part_contents(result, lake)) == content
    assert result.uncompressed_bytes == len(content)
