"""What archive.org publishes about a release's files (md5, size), to check a download against."""

from dataclasses import dataclass

import requests

METADATA_URL = "https://archive.org/metadata"


@dataclass(frozen=True)
class Published:
    """A file's published checksum, or why there is none (`md5` None and `note` saying why)."""

    md5: str | None
    size: int | None
    note: str


def published_checksum(metadata_url: str, release: str, filename: str, timeout: float = 20) -> Published:
    """md5 and size archive.org lists for `filename` in item ol_dump_{release}.

    Never raises and never hangs (bounded timeout): when the metadata can't be had or lists no md5, the
    ingest goes on with its size and gzip CRC checks, and the manifest says so.
    """
    url = f"{metadata_url.rstrip('/')}/ol_dump_{release}"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        files = response.json().get("files", [])
    except (requests.RequestException, ValueError, AttributeError) as error:
        return Published(None, None, f"metadata unavailable ({url}: {error})")
    entry = next((f for f in files if isinstance(f, dict) and f.get("name") == filename), None)
    if entry is None or not entry.get("md5"):
        return Published(None, None, f"{url} lists no md5 for {filename}")
    size = entry.get("size")
    return Published(str(entry["md5"]).lower(), int(size) if str(size).isdigit() else None, f"md5 from {url}")
