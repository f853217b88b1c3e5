"""The bundled sample release (samples/) as an Open Library data folder, for `make demo` and tests."""

import argparse
import gzip
import os
from collections.abc import Sequence
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_RELEASE = "2026-10-31"


def build_sample_release(destination: Path, release: str = SAMPLE_RELEASE) -> list[Path]:
    """Write ol_dump_{dump}_{release}.txt.gz for every sample dump, and ol_dump_{dump}_latest.txt.gz links."""
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(SAMPLES.glob("ol_dump_*.txt")):
        dump = source.stem.removeprefix("ol_dump_")
        target = destination / f"ol_dump_{dump}_{release}.txt.gz"
        with gzip.GzipFile(target, "wb", mtime=0) as out:
            out.write(source.read_bytes())
        latest = destination / f"ol_dump_{dump}_latest.txt.gz"
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        os.symlink(target.name, latest)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=build_sample_release.__doc__)
    parser.add_argument("destination", type=Path)
    parser.add_argument("--release", default=SAMPLE_RELEASE)
    args = parser.parse_args(argv)
    for path in build_sample_release(args.destination, args.release):
        print(path)


if __name__ == "__main__":
    main()
