"""The catalog (spark/catalog.py): importable alone, and in agreement with the schemas and the jobs."""

import subprocess
import sys
from pathlib import Path

from lake import open_lake
from spark import catalog, tables
from spark.transform_dump import JSON_SCHEMAS, TABLE_BUILDERS

ROOT = Path(__file__).resolve().parent.parent

# Makes `import pyspark`, `import luigi` and any socket use fail in the child.
BLOCKED = """
import sys, socket
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyspark", "luigi", "py4j", "google", "requests"):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, Blocked())
socket.socket = None
"""


def test_the_catalog_imports_without_pyspark_luigi_or_network() -> None:
    code = BLOCKED + "from spark import catalog; print(sorted(catalog.DUMPS), catalog.MARTS[0])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'authors'" in done.stdout and "dim_author" in done.stdout


def test_the_block_is_real() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED + "import pyspark"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "blocked" in done.stderr


def test_every_table_a_dump_feeds_has_a_schema_and_every_schema_a_dump() -> None:
    fed = catalog.tables_of(catalog.DUMPS)
    assert len(fed) == len(set(fed)), "a table fed by two dumps"
    assert fed == list(tables.CURATED)
    assert list(tables.MARTS) == list(catalog.MARTS)


def test_every_dump_has_its_parsing_in_the_job_and_its_key_in_its_primary_table() -> None:
    assert set(TABLE_BUILDERS) == set(catalog.DUMPS)
    for spec in catalog.DUMPS.values():
        assert set(spec.key) <= set(tables.CURATED[spec.primary].fieldNames()), spec.name
        if spec.record_type is None:
            assert spec.json_schema is None, spec.name
        else:
            assert spec.json_schema in JSON_SCHEMAS, spec.name


def test_datasets_name_their_lake_paths_and_markers() -> None:
    keys = {"release": "2026-10-31", "dump": "works", "table": "works", "mart": "dim_work"}
    paths = {dataset.name: "/".join(dataset.marker_path(**keys)) for dataset in catalog.DATASETS}
    assert paths == {
        "raw parts": "raw/2026-10-31/works/_MANIFEST.json",
        "raw manifest": "raw/2026-10-31/works/_MANIFEST.json",
        "curated table": "curated/2026-10-31/works/_SUCCESS",
        "transform metrics": "curated/2026-10-31/_metrics/works.json",
        "quarantine": "quarantine/2026-10-31/works/_SUCCESS",
        "mart": "marts/2026-10-31/dim_work/_SUCCESS",
        "marts summary": "marts/2026-10-31/_summary.json",
        "marts metrics": "marts/2026-10-31/_metrics.json",
        "report page": "reports/2026-10-31/report.html",
        "report": "reports/2026-10-31/report.json",
    }
    assert catalog.CURATED.parent(release="2026-10-31") == ("curated", "2026-10-31")


def test_a_release_is_complete_when_all_its_marts_are(tmp_path: Path) -> None:
    def flag(release: str, mart: str) -> None:
        path = tmp_path.joinpath(*catalog.MART.marker_path(release=release, mart=mart))
        path.parent.mkdir(parents=True)
        path.touch()

    for mart in catalog.MARTS:
        flag("2026-08-31", mart)
        flag("2026-10-31", mart)
    for mart in catalog.MARTS[1:]:
        flag("2026-09-30", mart)  # one mart missing
    flag("not-a-date", catalog.MARTS[0])
    lake = open_lake(str(tmp_path))
    assert catalog.complete_releases(lake) == ["2026-08-31", "2026-10-31"]
    assert catalog.marts_by_release(lake)["2026-09-30"] == set(catalog.MARTS[1:])
    assert not catalog.is_complete(catalog.MARTS[1:])


def test_the_jobs_per_dump_declarations_name_catalog_dumps() -> None:
    from spark.transform_dump import EXTRA_CHECKS, SKIPPED, VALID_VALUES

    plain = {name for name, spec in catalog.DUMPS.items() if spec.record_type is None}
    assert set(VALID_VALUES) == plain
    assert set(EXTRA_CHECKS) | set(SKIPPED) <= set(catalog.DUMPS) - plain
