"""The lake: one filesystem and target API, chosen by the root URL (a local path or gs://)."""

from lake.base import Lake
from lake.local import LocalLake


def open_lake(root: str, upload_chunk_bytes: int | None = None) -> Lake:
    """The lake implementation for `root`: a local folder, or a GCS bucket/prefix for gs:// URLs.

    `upload_chunk_bytes` sizes the resumable-upload chunks of a GCS lake (a multiple of 256 KiB).
    """
    if root.startswith("gs://"):
        from lake.gcs import DEFAULT_CHUNK_BYTES, GcsLake  # lazily: the local lake needs no Google client

        return GcsLake(root, chunk_bytes=upload_chunk_bytes or DEFAULT_CHUNK_BYTES)
    if "://" in root and not root.startswith("file://"):
        raise ValueError(f"unsupported lake root {root!r}: use a local path, file:// or gs://")
    return LocalLake(root.removeprefix("file://"))


__all__ = ["Lake", "open_lake"]
