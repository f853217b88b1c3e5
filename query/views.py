"""Find a release in the lake and create DuckDB views over its complete Parquet tables, read in place.

A view exists only for an output whose _SUCCESS flag is there: one per curated table
(curated/{release}/{table}/), one per mart (marts/{release}/{mart}/), and `quarantine` over every
quarantine/{release}/{dump}/ with a `dump` column. Names and paths are spark/catalog.py's. The latest
release is the newest complete one (catalog.complete_releases). Local and gs:// lakes are listed through
lake/.
"""

from dataclasses import dataclass, field

import duckdb

from lake import Lake
from spark import catalog
from spark.catalog import DUMPS, FLAG, MARTS, complete_releases, is_release_date, tables_of

CURATED = tables_of(DUMPS)

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
    return {parts[:-1] for parts in lake.list_below(*area) if len(parts) > 1 and parts[-1] == FLAG}


def latest_release(lake: Lake) -> str:
    """The newest release whose marts are all complete; ReleaseNotFound says what the lake holds instead."""
    complete = complete_releases(lake)
    if complete:
        return complete[-1]
    releases = catalog.marts_by_release(lake)
    found = "; ".join(
        f"{release} lacks {', '.join(sorted(set(MARTS) - marts))}"
        for release, marts in sorted(releases.items())
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


def find_release_views(lake: Lake, release: str = LATEST) -> ReleaseViews:
    """The views a release offers (`latest`: the newest complete one); nothing is read but flags.

    One view per complete curated table and mart; one `quarantine` view over the complete dumps.
    """
    if release == LATEST:
        release = latest_release(lake)
        complete_marts = {(mart,) for mart in MARTS}  # what made it the latest: all its marts are complete
    elif is_release_date(release):
        complete_marts = _flagged_folders(lake, *catalog.MART.parent(release=release))
    else:
        raise ValueError(f"release must be a date YYYY-MM-DD or '{LATEST}', got {release!r}")
    views: dict[str, str] = {}
    quarantined: list[str] = []
    missing: list[str] = []
    for dataset, names, complete in (
        (catalog.CURATED, CURATED, _flagged_folders(lake, *catalog.CURATED.parent(release=release))),
        (catalog.MART, MARTS, complete_marts),
        (
            catalog.QUARANTINE,
            tuple(DUMPS),
            _flagged_folders(lake, *catalog.QUARANTINE.parent(release=release)),
        ),
    ):
        for name in names:
            folder = dataset.path(release=release, table=name, mart=name, dump=name)
            parquet = _parquet(lake, *folder)
            if (name,) not in complete:
                missing.append("/".join(folder))
            elif dataset is catalog.QUARANTINE:
                quarantined.append(f"SELECT {_literal(name)} AS dump, * FROM {parquet}")
            else:
                views[name] = f"SELECT * FROM {parquet}"
    if quarantined:
        views[QUARANTINE_VIEW] = "\nUNION ALL ".join(quarantined)
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
