"""Find a release in the lake and create DuckDB views over its complete Parquet tables, read in place.

A view exists only for an output whose _SUCCESS flag is there: one per curated table
(curated/{release}/{table}/), one per mart (marts/{release}/{mart}/), and `quarantine` over every
quarantine/{release}/{dump}/ with a `dump` column. Names are the contract of spark/tables.py. The latest
release is the newest one whose marts are all complete. Local and gs:// lakes are listed through lake/.
"""

from dataclasses import dataclass, field

import duckdb

from lake import Lake
from lake.base import FLAG
from source.release import is_release_date
from spark.tables import CURATED, DUMP_TABLES, MARTS

LATEST = "latest"
QUARANTINE_VIEW = "quarantine"


class ReleaseNotFound(LookupError):
    """The lake holds no release to open: none complete, or not the one asked for."""


@dataclass(frozen=True)
class ReleaseViews:
    """What a release offers: each view's body (name -> SELECT) and the outputs left out as incomplete."""

    lake_root: str
    release: str
    views: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def summary(self) -> str:
        """A few lines for people: which release, which views, which outputs are missing (no _SUCCESS)."""
        tables = [name for name in self.views if name in CURATED]
        marts = [name for name in self.views if name in MARTS]
        lines = [
            f"release {self.release} of {self.lake_root}: {len(self.views)} views",
            f"  tables: {', '.join(tables) or '-'}",
            f"  marts: {', '.join(marts) or '-'}",
            f"  {QUARANTINE_VIEW}: {'yes' if QUARANTINE_VIEW in self.views else '-'}",
        ]
        if self.missing:
            lines.append(f"  missing (no {FLAG}, no view): {', '.join(self.missing)}")
        return "\n".join(lines)


def _flagged_folders(lake: Lake, *area: str) -> set[tuple[str, ...]]:
    """Folders below `area` (as path parts relative to it) that hold a completion flag; one listing call."""
    prefix = lake.url(*area) + "/"
    folders = set()
    for url in lake.listdir(*area):
        parts = tuple(url.removeprefix(prefix).split("/"))
        if len(parts) > 1 and parts[-1] == FLAG:
            folders.add(parts[:-1])
    return folders


def _releases_with_marts(lake: Lake) -> dict[str, set[str]]:
    """Release -> the marts complete in it, for every release folder below marts/."""
    releases: dict[str, set[str]] = {}
    for folder in _flagged_folders(lake, "marts"):
        if len(folder) == 2 and is_release_date(folder[0]):
            releases.setdefault(folder[0], set()).add(folder[1])
    return releases


def complete_releases(lake: Lake) -> list[str]:
    """Releases whose marts are all complete (marts/{release}/{mart}/_SUCCESS for each), oldest first."""
    return sorted(release for release, marts in _releases_with_marts(lake).items() if set(MARTS) <= marts)


def latest_release(lake: Lake) -> str:
    """The newest release whose marts are all complete; ReleaseNotFound says what the lake holds instead."""
    complete = complete_releases(lake)
    if complete:
        return complete[-1]
    partial = _releases_with_marts(lake)
    found = "; ".join(
        f"{release} lacks {', '.join(sorted(set(MARTS) - marts))}"
        for release, marts in sorted(partial.items())
    )
    raise ReleaseNotFound(
        f"no release in {lake.root} has all its marts complete (marts/RELEASE/MART/{FLAG} for "
        f"{', '.join(MARTS)}): {found or 'no marts at all'}. Run the pipeline (make run), or name a "
        "release with --release / RELEASE=YYYY-MM-DD"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet(lake: Lake, *folder: str) -> str:
    """read_parquet() of every Parquet part of a folder (Spark's _SUCCESS and .crc files left out)."""
    return f"read_parquet({_literal(lake.url(*folder) + '/*.parquet')})"


def _quarantine_view(lake: Lake, release: str) -> tuple[str | None, list[str]]:
    """The body of the quarantine view over the complete dumps (None: none is), and the incomplete ones."""
    complete = _flagged_folders(lake, "quarantine", release)
    dumps = [dump for dump in DUMP_TABLES if (dump,) in complete]
    selects = [
        f"SELECT {_literal(dump)} AS dump, * FROM {_parquet(lake, 'quarantine', release, dump)}"
        for dump in dumps
    ]
    missing = [f"quarantine/{release}/{dump}" for dump in DUMP_TABLES if dump not in dumps]
    return ("\nUNION ALL ".join(selects) or None), missing


def find_release_views(lake: Lake, release: str = LATEST) -> ReleaseViews:
    """The views a release offers (`latest`: the newest complete one); nothing is read but flags."""
    if release == LATEST:
        release = latest_release(lake)
    elif not is_release_date(release):
        raise ValueError(f"release must be a date YYYY-MM-DD or '{LATEST}', got {release!r}")
    views: dict[str, str] = {}
    missing: list[str] = []
    for area, names in (("curated", CURATED), ("marts", MARTS)):
        complete = _flagged_folders(lake, area, release)
        for name in names:
            if (name,) in complete:
                views[name] = f"SELECT * FROM {_parquet(lake, area, release, name)}"
            else:
                missing.append(f"{area}/{release}/{name}")
    quarantine, missing_dumps = _quarantine_view(lake, release)
    if quarantine:
        views[QUARANTINE_VIEW] = quarantine
    missing += missing_dumps
    if not views:
        raise ReleaseNotFound(
            f"release {release} has no complete table in {lake.root} (no curated/{release}/TABLE/{FLAG}, "
            f"marts/{release}/MART/{FLAG} or quarantine/{release}/DUMP/{FLAG}); complete releases: "
            f"{', '.join(complete_releases(lake)) or 'none'}"
        )
    return ReleaseViews(lake_root=lake.root, release=release, views=views, missing=tuple(missing))


def create_views(con: duckdb.DuckDBPyConnection, lake: Lake, release: str = LATEST) -> ReleaseViews:
    """Create (or replace) a view per complete output of the release in `con`, over the Parquet in place."""
    found = find_release_views(lake, release)
    filesystem = lake.fsspec()  # gs:// needs one; a local lake needs nothing
    if filesystem is not None and filesystem.protocol[0] not in con.list_filesystems():
        con.register_filesystem(filesystem)
    for name, select in found.views.items():
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {select}')
    return found


def open_release(lake: Lake, release: str = LATEST) -> tuple[duckdb.DuckDBPyConnection, ReleaseViews]:
    """An in-memory DuckDB connection holding the release's views (nothing is copied out of the lake)."""
    con = duckdb.connect()
    try:
        return con, create_views(con, lake, release)
    except BaseException:
        con.close()
        raise
