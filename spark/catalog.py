"""The catalog of the lake: every dataset named once, with its lake path, its completion marker and its
schema name, and one DumpSpec per Open Library dump. Pure Python (no pyspark, luigi or network), so the
graph, the jobs (it ships in spark/), query/, report/, bench/ and the tests all read it.

Paths are lake path parts, as Lake.url(*parts) and Lake.target(*parts) take them:

    raw/{release}/{dump}/part-NNNNN.txt.gz      + _MANIFEST.json            (written last)
    curated/{release}/{table}/*.parquet         + _SUCCESS
    curated/{release}/_metrics/{dump}.json                                  (the transform's, written last)
    quarantine/{release}/{dump}/*.parquet       + _SUCCESS
    marts/{release}/{mart}/*.parquet            + _SUCCESS
    marts/{release}/_summary.json, _metrics.json                            (metrics written last)
    reports/{release}/report.html, report.json                              (document written last)

Adding a dump: one DumpSpec in DUMPS (plus its tables' schemas in spark/tables.py and its parsing in
spark/transform_dump.py). Adding a mart: its name in MARTS (plus its schema and its build in
spark/build_marts.py).
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FLAG = "_SUCCESS"  # the completion flag of a folder of Parquet parts (Spark writes it last)


@dataclass(frozen=True)
class Dataset:
    """One kind of output in the lake: where it is (`template`, with {release}, {dump}, {table}, {mart}
    filled in), what marks it complete (`marker`: a flag file inside the folder; None when the file itself
    is the marker) and the name of its schema in spark/tables.py (None for JSON documents)."""

    name: str
    template: tuple[str, ...]
    marker: str | None = None
    schema: str | None = None

    def path(self, **keys: str) -> tuple[str, ...]:
        """The dataset's folder (or file) as lake path parts."""
        return tuple(part.format(**keys) for part in self.template)

    def parent(self, **keys: str) -> tuple[str, ...]:
        """The folder holding the dataset (curated/{release} for a curated table)."""
        return tuple(part.format(**keys) for part in self.template[:-1])

    def marker_path(self, **keys: str) -> tuple[str, ...]:
        """The file whose existence says the dataset is complete."""
        path = self.path(**keys)
        return (*path, self.marker) if self.marker else path

    def at(self, **keys: str) -> "Location":
        """One instance of the dataset (for a release, a dump, a table ...): its path and its marker's."""
        return Location(self, self.path(**keys), self.marker_path(**keys))


@dataclass(frozen=True)
class Location:
    """Where one instance of a dataset is in the lake, as path parts: its folder or file, and its marker."""

    dataset: Dataset
    path: tuple[str, ...]
    marker: tuple[str, ...]


RAW = Dataset("raw parts", ("raw", "{release}", "{dump}"), marker="_MANIFEST.json")
MANIFEST = Dataset("raw manifest", RAW.marker_path(release="{release}", dump="{dump}"))
CURATED = Dataset("curated table", ("curated", "{release}", "{table}"), marker=FLAG, schema="curated")
TRANSFORM_METRICS = Dataset("transform metrics", ("curated", "{release}", "_metrics", "{dump}.json"))
QUARANTINE = Dataset("quarantine", ("quarantine", "{release}", "{dump}"), marker=FLAG, schema="quarantine")
MART = Dataset("mart", ("marts", "{release}", "{mart}"), marker=FLAG, schema="marts")
MARTS_SUMMARY = Dataset("marts summary", ("marts", "{release}", "_summary.json"))
MARTS_METRICS = Dataset("marts metrics", ("marts", "{release}", "_metrics.json"))
REPORT_PAGE = Dataset("report page", ("reports", "{release}", "report.html"))
REPORT = Dataset("report", ("reports", "{release}", "report.json"))

DATASETS: tuple[Dataset, ...] = (
    RAW, MANIFEST, CURATED, TRANSFORM_METRICS, QUARANTINE, MART, MARTS_SUMMARY, MARTS_METRICS, REPORT_PAGE,
    REPORT,
)  # fmt: skip


@dataclass(frozen=True)
class DumpSpec:
    """What the pipeline knows about one dump file, ol_dump_{name}_{release}.txt.gz.

    `record_type`: the type column every line must carry (None: a dump of plain rows, without one);
    `tables`: the curated tables it feeds, its primary table first (whose rows reconcile with the dump's
    lines: rows + quarantined == lines); `key`: what identifies a primary-table row when two releases are
    compared (rows without an identifier are compared whole); `json_schema`: the name of the schema its
    JSON column is read with in spark/transform_dump.py (None: no JSON column).
    """

    name: str
    record_type: str | None
    tables: tuple[str, ...]
    key: tuple[str, ...]
    json_schema: str | None = None

    @property
    def primary(self) -> str:
        return self.tables[0]


def _specs(*specs: DumpSpec) -> dict[str, DumpSpec]:
    return {spec.name: spec for spec in specs}


DUMPS: Mapping[str, DumpSpec] = _specs(
    DumpSpec("authors", "/type/author", ("authors",), ("author_key",), json_schema="authors"),
    DumpSpec("works", "/type/work", ("works", "work_authors"), ("work_key",), json_schema="works"),
    DumpSpec(
        "editions", "/type/edition", ("editions", "edition_authors", "edition_isbns"), ("edition_key",),
        json_schema="editions",
    ),
    DumpSpec("ratings", None, ("ratings",), ("work_key", "edition_key", "rating", "rated_on")),
    DumpSpec("reading-log", None, ("reading_log",), ("work_key", "edition_key", "shelf", "logged_on")),
    DumpSpec("redirects", "/type/redirect", ("redirects",), ("from_key",), json_schema="redirects"),
)  # fmt: skip

MARTS: tuple[str, ...] = (
    "dim_author", "dim_work", "dim_subject", "fct_ratings", "fct_shelves", "dim_edition", "isbn_lookup",
    "data_quality",
)  # fmt: skip


def tables_of(dumps: Iterable[str]) -> list[str]:
    """The curated tables the given dumps feed, in the order of the dumps."""
    return [table for dump in dumps for table in DUMPS[dump].tables]


# ------------------------------------------------------------------------------------- complete releases


class Listing(Protocol):
    """What finding complete releases needs of a lake (lake.Lake has it)."""

    def list_below(self, *parts: str) -> list[tuple[str, ...]]: ...


def is_release_date(value: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD (the name of a release's folders)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def marts_by_release(lake: Listing) -> dict[str, set[str]]:
    """Release -> the marts complete in it (their flag is there), for every release folder below marts/."""
    releases: dict[str, set[str]] = {}
    for parts in lake.list_below(MART.template[0]):
        if len(parts) == 3 and parts[2] == MART.marker and is_release_date(parts[0]):
            releases.setdefault(parts[0], set()).add(parts[1])
    return releases


def is_complete(marts: Iterable[str]) -> bool:
    """The one definition of a complete release, given the marts complete in it: every mart of MARTS is
    (marts/{release}/{mart}/_SUCCESS for each), the last Parquet the pipeline makes and what queries read."""
    return set(MARTS) <= set(marts)


def complete_releases(lake: Listing) -> list[str]:
    """The complete releases of the lake (is_complete), oldest first; one listing of marts/."""
    return sorted(release for release, marts in marts_by_release(lake).items() if is_complete(marts))
