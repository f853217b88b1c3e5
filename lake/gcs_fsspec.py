"""The GCS lake as an fsspec filesystem (gcsfs), for readers that take one, such as DuckDB.

DuckDB reads local paths itself; for gs:// it would need its httpfs extension, downloaded at run time from
DuckDB's own site (not PyPI), and HMAC keys or a short-lived bearer token. A gcsfs filesystem registered
with DuckDB instead uses Application Default Credentials (on GCE the VM's service account, on a laptop
`gcloud auth application-default login`), or anonymous access to an emulator when STORAGE_EMULATOR_HOST
is set, as the rest of the GCS lake does.
"""

from typing import Any

from gcsfs.core import GCSFileSystem

from lake.gcs import emulated


class ReadaheadGCSFileSystem(GCSFileSystem):
    """gcsfs's plain JSON-API filesystem, opening files with a read-ahead cache.

    Readers such as DuckDB ask for exactly the byte ranges they need; gcsfs's default adaptive cache would
    start background prefetch tasks that outlive the query.
    """

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        kwargs.setdefault("cache_type", "readahead")
        return super()._open(path, mode, **kwargs)


def gcs_fsspec() -> ReadaheadGCSFileSystem:
    """A gcsfs filesystem with Application Default Credentials, or anonymous against an emulator."""
    token = "anon" if emulated() else "google_default"
    return ReadaheadGCSFileSystem(token=token, skip_instance_cache=True)
