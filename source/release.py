"""Open Library releases: where a dump file is, what `latest` points at, whether a release is whole."""

import datetime as dt
import os
import re
import urllib.parse
from collections.abc import Sequence

import requests

EMPTY_GZIP_BYTES = 20  # a gzip file holding nothing: Open Library has published such dumps
_DATE_IN_NAME = re.compile(r"ol_dump_(?:[a-z-]+_)?(\d{4}-\d{2}-\d{2})")
_MAX_REDIRECTS = 5


class ReleaseError(Exception):
    """A release can't be used; the message names the file."""


def dump_url(base_url: str, dump: str, release: str) -> str:
    return f"{base_url.rstrip('/')}/ol_dump_{dump}_{release}.txt.gz"


def is_release_date(value: str) -> bool:
    try:
        return dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _local_path(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlparse(url).path)


def resolve_latest(base_url: str, dump: str, timeout: float = 30) -> str:
    """The release date that ol_dump_{dump}_latest.txt.gz points at (a redirect, or a symlink for file://)."""
    url = dump_url(base_url, dump, "latest")
    if url.startswith("file://"):
        path = _local_path(url)
        if not os.path.islink(path):
            raise ReleaseError(f"{url} is not a link to a dated dump file")
        match = _DATE_IN_NAME.search(os.readlink(path))
    else:
        match = _DATE_IN_NAME.search(_first_dated_location(url, timeout))
    if not match:
        raise ReleaseError(f"{url} does not point at a dated dump file")
    return match.group(1)


def _first_dated_location(url: str, timeout: float) -> str:
    location = url
    try:
        for _ in range(_MAX_REDIRECTS):
            response = requests.head(location, allow_redirects=False, timeout=timeout)
            if response.status_code == 405:
                response = requests.get(location, allow_redirects=False, timeout=timeout, stream=True)
                response.close()
            if not response.is_redirect:
                raise ReleaseError(
                    f"{url}: expected a redirect to a dated dump, got HTTP {response.status_code}"
                )
            location = urllib.parse.urljoin(location, response.headers["Location"])
            if _DATE_IN_NAME.search(location):
                return location
    except requests.RequestException as error:
        raise ReleaseError(f"{url}: {error}") from error
    raise ReleaseError(f"{url}: no dated dump within {_MAX_REDIRECTS} redirects")


def _size(url: str, timeout: float) -> int | None:
    """Size in bytes, or None when the file does not exist."""
    if url.startswith("file://"):
        path = _local_path(url)
        return os.stat(path).st_size if os.path.isfile(path) else None
    try:
        response = requests.head(url, allow_redirects=True, timeout=timeout)
    except requests.RequestException as error:
        raise ReleaseError(f"{url}: {error}") from error
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise ReleaseError(f"{url}: HTTP {response.status_code}")
    length = response.headers.get("Content-Length")
    return int(length) if length else -1  # -1: size unknown, checked again when the stream ends


def check_release(base_url: str, release: str, dumps: Sequence[str], timeout: float = 30) -> dict[str, int]:
    """Sizes of the release's dump files; refuses a release with a missing or empty file, naming each."""
    sizes, problems = {}, []
    for dump in dumps:
        url = dump_url(base_url, dump, release)
        size = _size(url, timeout)
        if size is None:
            problems.append(f"{url} is missing")
        elif 0 <= size <= EMPTY_GZIP_BYTES:
            problems.append(f"{url} is empty ({size} bytes)")
        else:
            sizes[dump] = size
    if problems:
        raise ReleaseError(f"release {release} refused: " + "; ".join(problems))
    return sizes
