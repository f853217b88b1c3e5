"""The lake: one filesystem and target API, chosen by the root URL (a local path or gs://)."""

from lake.base import Lake, LakeError
from lake.local import LocalLake


def open_lake(root: str, upload_chunk_bytes: int | None = None, retry_s: float | None = None) -> Lake:
    """The lake implementation for `root`: a local folder, or a GCS bucket/prefix for gs:// URLs.

    `upload_chunk_bytes` sizes the resumable-upload chunks of a GCS lake (a multiple of 256 KiB);
    `retry_s` is how long its writes retry transient errors (429, 5xx, dropped connections).
    """
    if root.startswith("gs://"):
        # lazily: the local lake needs no Google client
        from lake.gcs import DEFAULT_CHUNK_BYTES, DEFAULT_RETRY_S, GcsLake

        return GcsLake(
            root, chunk_bytes=upload_chunk_bytes or DEFAULT_CHUNK_BYTES, retry_s=retry_s or DEFAULT_RETRY_S
        )
    if "://" in root and not root.startswith("file://"):
        raise ValueError(f"unsupported lake root {root!r}: use a local path, file:// or gs://")
    return LocalLake(root.removeprefix("file://"))


__all__ = ["Lake", "LakeError", "open_lake"]
