"""A dump full of defects, ingested over HTTP and transformed by the real job: every line is accounted for."""

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import luigi
import pyarrow.parquet as pq
import pytest
from luigi.execution_summary import LuigiStatusCode

from bench.dumpserver import DumpServer
from spark import tables
from tasks import TransformDump
from tests.pipeline_helpers import RELEASE, luigi_config, pipeline_settings, read_table

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TEN_MB = 10 * 1024 * 1024
PREFIX = "/type/author\t/authors/OL9{n}A\t1\t2020-01-01T00:00:00\t"


def author(n: int, revision: int = 1, **fields: object) -> bytes:
    key = f"/authors/OL9{n}A"
    record = {"key": key, "type": {"key": "/type/author"}, "revision": revision, **fields}
    return f"/type/author\t{key}\t{revision}\t2020-01-01T00:00:00\t{json.dumps(record)}".encode()


def defective_lines() -> tuple[list[bytes], dict[bytes, str], list[bytes]]:
    """(every line in dump order, {bad line: reason}, lines kept despite a defect)."""
    good = [line.encode() for line in (SAMPLES / "ol_dump_authors.txt").read_text().splitlines()[:40]]
    quarantined = {
        b"/type/author\t/authors/OL91A\t1": tables.WRONG_COLUMN_COUNT,
        author(92)[:-20] + b"\t1\t2": tables.WRONG_COLUMN_COUNT,
        PREFIX.format(n=3).encode() + b'{"name": "unterminated': tables.INVALID_JSON,
        PREFIX.format(n=4).encode() + b'{"name": "raw \x00 NUL"}': tables.INVALID_JSON,
        PREFIX.format(n=5).encode() + b'{"name": "bell \x07 and escape \x1b"}': tables.INVALID_JSON,
        PREFIX.format(n=6).encode() + b'{"name": "carriage \r return"}': tables.INVALID_JSON,
        author(7, name="BAD").replace(b"BAD", b"caf\xe9 \xc3\x28"): tables.INVALID_UTF8,
        PREFIX.format(n=8).encode() + b'{"name": "' + b"x" * TEN_MB: tables.INVALID_JSON,
        b"/type/work\t/works/OL99W\t1\t2020-01-01T00:00:00\t"
        + b'{"key": "/works/OL99W", "title": "Wrong dump"}': (tables.UNEXPECTED_TYPE),
        b'/type/author\t\t1\t2020-01-01T00:00:00\t{"name": "nobody"}': tables.MISSING_KEY,
        author(10, revision=1, name="Old name"): tables.SUPERSEDED_REVISION,
    }
    kept = [
        author(10, revision=2, name="New name"),
        author(11, name="Nul\\u0000 escaped".replace("\\u0000", "\u0000")),
        author(12, name="Long bio", bio="y" * TEN_MB),
    ]
    ordered = [*good[:20], *list(quarantined)[:6], *kept, *list(quarantined)[6:], *good[20:]]
    return ordered, quarantined, good + kept


def served_dump(folder: Path, lines: list[bytes]) -> Path:
    folder.mkdir()
    path = folder / f"ol_dump_authors_{RELEASE}.txt.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1, mtime=0))
    return folder


@pytest.mark.reliability(3)
def test_every_defective_line_is_quarantined_with_its_reason_and_the_rest_kept(
    tmp_path: Path, fault: Callable[..., None]
) -> None:
    lines, quarantined, kept = defective_lines()
    source = served_dump(tmp_path / "source", lines)
    lake = tmp_path / "lake"
    with DumpServer(source) as server, luigi_config(pipeline_settings(server.url, lake)):
        result = luigi.build(
            [TransformDump(release=RELEASE, dump="authors")],
            local_scheduler=True,
            detailed_summary=True,
        )
    assert result.status == LuigiStatusCode.SUCCESS, result.summary_text

    metrics = json.loads((lake / "curated" / RELEASE / "_metrics" / "authors.json").read_text())
    assert metrics["lines"] == len(lines)
    assert metrics["written"] + metrics["quarantined_total"] == len(lines)
    assert metrics["written"] == len(kept)
    assert metrics["cleaned"] == {"nul_removed": 1}

    rows = {row["author_key"]: row for row in read_table(lake / "curated" / RELEASE / "authors")}
    kept_keys = [line.split(b"\t")[1].decode() for line in kept]
    assert sorted(rows) == sorted(kept_keys)
    assert rows["/authors/OL910A"]["name"] == "New name"
    assert rows["/authors/OL911A"]["name"] == "Nul escaped"
    assert len(rows["/authors/OL912A"]["bio"]) == TEN_MB

    quarantine = pq.read_table(lake / "quarantine" / RELEASE / "authors").to_pylist()
    found = {row["line"]: row["reason"] for row in quarantine}
    expected = {line.decode("utf-8", errors="replace"): reason for line, reason in quarantined.items()}
    assert found == expected
    assert all(row["source_file"].endswith(".txt.gz") for row in quarantine)

    by_reason = {reason: list(expected.values()).count(reason) for reason in set(expected.values())}
    assert metrics["quarantined"] == by_reason
    fault(
        "Defective lines in one dump",
        injected=(
            f"{len(lines)} lines served over HTTP: wrong column counts, unterminated JSON, raw NUL, "
            "BEL/ESC and CR inside JSON, invalid UTF-8 bytes, a 10 MB invalid line, a record of another "
            "type, a missing key, a lower revision of a key, an escaped \\u0000, a 10 MB valid record"
        ),
        result=(
            f"{metrics['written']} rows + {metrics['quarantined_total']} quarantined = "
            f"{metrics['lines']} lines; quarantined by reason "
            f"{json.dumps(metrics['quarantined'], sort_keys=True)}; escaped NULs removed from "
            f"{metrics['cleaned']['nul_removed']} kept record; the 10 MB record kept whole"
        ),
    )
