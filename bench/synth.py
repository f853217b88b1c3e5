"""Synthetic Open Library editions dumps of any size, built from the real sample records in samples/.

Each line is a real sample edition with a fresh, unique key and varied values (titles, works and author
keys, ISBNs, page counts, dates), so the JSON shapes are Open Library's and the file compresses about as
much as the real dump. Written as data/bench/input/ol_dump_editions_{MB}mb.txt.gz by GNU `gzip -6 -n`
(what a dump made with gzip looks like), with a sidecar .json holding its line and byte counts.
"""

import argparse
import json
import os
import random
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from source.sample import SAMPLES

MB = 1_000_000
GENERATOR_VERSION = 1  # bump when the records change, so cached inputs are rebuilt


@dataclass(frozen=True)
class SyntheticDump:
    path: Path
    lines: int
    uncompressed_bytes: int
    compressed_bytes: int


def _samples(name: str) -> list[dict]:
    lines = (SAMPLES / f"ol_dump_{name}.txt").read_text(encoding="utf-8").splitlines()
    return [json.loads(line.split("\t")[4]) for line in lines]


class EditionFactory:
    """Makes edition records n = 0, 1, 2 … from the sample editions, each with key /books/OL{n + 1}M."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.templates = _samples("editions")
        works = _samples("works")
        authors = _samples("authors")
        self.titles = [w["title"] for w in works if isinstance(w.get("title"), str)]
        self.titles += [e["title"] for e in self.templates if isinstance(e.get("title"), str)]
        self.publishers = sorted({p for e in self.templates for p in e.get("publishers", [])})
        self.publishers += sorted({a["name"] + " Press" for a in authors if isinstance(a.get("name"), str)})

    def _digits(self, count: int) -> str:
        return "".join(self.rng.choices("0123456789", k=count))

    def _stamp(self) -> str:
        rng = self.rng
        return (
            f"{rng.randint(2008, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{self._digits(6)}"
        )

    def line(self, n: int) -> str:
        """The n-th dump line: /type/edition, key, revision, last_modified, JSON."""
        rng = self.rng
        record = dict(self.templates[n % len(self.templates)])
        key = f"/books/OL{n + 1}M"
        revision = rng.randint(1, 12)
        modified = self._stamp()
        record.update(
            key=key,
            revision=revision,
            latest_revision=revision,
            title=rng.choice(self.titles),
            works=[{"key": f"/works/OL{rng.randint(1, 40_000_000)}W"}],
            created={"type": "/type/datetime", "value": self._stamp()},
            last_modified={"type": "/type/datetime", "value": modified},
        )
        if "publishers" in record:
            record["publishers"] = [rng.choice(self.publishers)]
        if "authors" in record or rng.random() < 0.8:
            record["authors"] = [{"key": f"/authors/OL{rng.randint(1, 14_000_000)}A"}]
        if "number_of_pages" in record:
            record["number_of_pages"] = rng.randint(16, 900)
        if "publish_date" in record:
            record["publish_date"] = str(rng.randint(1850, 2025))
        if "isbn_10" in record:
            record["isbn_10"] = [self._digits(9) + rng.choice("0123456789X")]
        if "isbn_13" in record:
            record["isbn_13"] = ["978" + self._digits(10)]
        if "oclc_numbers" in record:
            record["oclc_numbers"] = [str(rng.randint(1000, 999_999_999))]
        if "lccn" in record:
            record["lccn"] = [self._digits(8)]
        payload = json.dumps(record, ensure_ascii=False)
        return f"/type/edition\t{key}\t{revision}\t{modified}\t{payload}\n"


def build(folder: Path, megabytes: int, seed: int = 2026) -> SyntheticDump:
    """Write (or reuse) a dump of at least `megabytes` MB (10^6 bytes) uncompressed under `folder`."""
    path = folder / f"ol_dump_editions_{megabytes}mb.txt.gz"
    sidecar = path.with_suffix(".json")
    if path.exists() and sidecar.exists():
        info = json.loads(sidecar.read_text())
        if info.get("version") == GENERATOR_VERSION and info.get("compressed_bytes") == path.stat().st_size:
            return SyntheticDump(path, info["lines"], info["uncompressed_bytes"], info["compressed_bytes"])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    factory = EditionFactory(seed)
    lines = written = 0
    with tmp.open("wb") as out:
        gzip = subprocess.Popen(["gzip", "-6", "-n", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert gzip.stdin is not None
        batch: list[bytes] = []
        while written < megabytes * MB:
            line = factory.line(lines).encode("utf-8")
            batch.append(line)
            lines += 1
            written += len(line)
            if len(batch) == 2000:
                gzip.stdin.write(b"".join(batch))
                batch.clear()
        gzip.stdin.write(b"".join(batch))
        gzip.stdin.close()
        if gzip.wait() != 0:
            raise RuntimeError(f"gzip failed writing {path}")
    os.replace(tmp, path)
    dump = SyntheticDump(path, lines, written, path.stat().st_size)
    info = {**asdict(dump), "path": str(path), "version": GENERATOR_VERSION}
    sidecar.write_text(json.dumps(info, indent=2))
    return dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("megabytes", type=int, nargs="+")
    parser.add_argument("--folder", type=Path, default=Path("data/bench/input"))
    args = parser.parse_args()
    for megabytes in args.megabytes:
        dump = build(args.folder, megabytes)
        print(
            f"{dump.path}: {dump.lines:,} lines, {dump.uncompressed_bytes / MB:,.0f} MB, "
            f"{dump.compressed_bytes / MB:,.1f} MB compressed"
        )


if __name__ == "__main__":
    main()
