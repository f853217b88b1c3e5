"""An earlier release built from the bundled sample, so that one lake holds two releases to compare."""

import gzip
from pathlib import Path

from source.sample import build_sample_release

EARLIER_RELEASE = "2026-09-30"
GONE_AUTHOR = "/authors/OL1EARLIERONLYA"  # an author only the earlier release has: "removed" since
# Lines the earlier release quarantines (the sample release has none), per dump.
BAD_LINES = {
    "works": ["/type/work\t/works/OL1W\t1\n", "/type/work\t/works/OL2W\t1\t2020-01-01T00:00:00\t{not json\n"],
    "ratings": ["/works/OL54120W\t\\N\t7\t2024-01-01\n"],
}


def earlier_sample_release(folder: Path) -> Path:
    """The sample as release EARLIER_RELEASE in `folder`: every third line of each dump left out (so those
    records are new in the sample release), the first author re-keyed to GONE_AUTHOR (so one author of the
    earlier release is gone from the sample release), and BAD_LINES added (so it has a quarantine)."""
    build_sample_release(folder, EARLIER_RELEASE)
    for path in sorted(folder.glob(f"ol_dump_*_{EARLIER_RELEASE}.txt.gz")):
        dump = path.name.removeprefix("ol_dump_").removesuffix(f"_{EARLIER_RELEASE}.txt.gz")
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines(keepends=True)
        kept = [line for number, line in enumerate(lines) if number % 3 != 2]
        if dump == "authors":
            first_key = kept[0].split("\t")[1]
            kept[0] = kept[0].replace(first_key, GONE_AUTHOR)
        kept += BAD_LINES.get(dump, [])
        with gzip.GzipFile(path, "wb", mtime=0) as out:
            out.write("".join(kept).encode("utf-8"))
    return folder
