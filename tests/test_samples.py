"""The bundled sample release is what samples/README.md says it is: one row per file, with its line count,
and the synthetic dumps are the ones it marks synthetic (README.md says which parts are real)."""

import re
from pathlib import Path

from spark.catalog import DUMPS

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<lines>\d+) \| (?P<what>.+) \|$")


def documented() -> dict[str, tuple[int, str]]:
    """file -> (lines, description), from the table of samples/README.md."""
    rows = (_ROW.match(line) for line in (SAMPLES / "README.md").read_text().splitlines())
    return {row["file"]: (int(row["lines"]), row["what"]) for row in rows if row}


def test_every_sample_file_is_listed_with_its_true_line_count() -> None:
    table = documented()
    files = {path.name: path for path in SAMPLES.glob("*.txt")}
    assert set(table) == set(files)
    assert set(files) == {f"ol_dump_{dump}.txt" for dump in DUMPS}, "one sample per dump"
    for name, (lines, _) in table.items():
        with files[name].open("rb") as handle:
            assert sum(1 for _ in handle) == lines, f"samples/README.md: {name} has a different line count"


def test_the_synthetic_samples_are_the_ones_the_readmes_call_synthetic() -> None:
    synthetic = {name for name, (_, what) in documented().items() if "**synthetic**" in what}
    assert synthetic == {"ol_dump_ratings.txt", "ol_dump_reading-log.txt", "ol_dump_redirects.txt"}
    readme = (SAMPLES.parent / "README.md").read_text()
    assert "synthetic ratings, reading-log and redirects" in readme
