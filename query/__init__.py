"""Query-ready: DuckDB views over one release's Parquet in the lake (`make query`, `python -m query`)."""

from query.views import (
    QUARANTINE_VIEW,
    ReleaseNotFound,
    ReleaseViews,
    complete_releases,
    create_views,
    find_release_views,
    latest_release,
    open_release,
)

__all__ = [
    "QUARANTINE_VIEW",
    "ReleaseNotFound",
    "ReleaseViews",
    "complete_releases",
    "create_views",
    "find_release_views",
    "latest_release",
    "open_release",
]
