"""Open Library releases: where a dump file is, what `latest` points at, whether a release is whole."""

import os
import re
import urllib.parse
from collections.abc import Sequence

import requests

from source.download import local_path
from spark.catalog import is_release_date

EMPTY_GZIP_BYTES = 20  # a gzip file holding nothing: Open Library has published such dumps
MAX_REDIRECTS = 5
# archive.org names both the item and the file: /download/ol_dump_2026-10-31/ol_dump_works_2026-10-31.txt.gz
_DATED_NAME = re.compile(r"ol_dump_(?:[a-z-]+_)?(\d{4}-\d{2}-\d{2})")
_HEAD_REFUSED = (405, 501)


class ReleaseError(Exception):
    """A release can't be used; the message names the file (its URL)."""


def dump_url(base_url: str, dump: str, release: str) -> str:
    """Where one dump file of a release is: {base_url}/ol_dump_{dump}_{release}.txt.gz."""
    return f"{base_url.rstrip('/')}/ol_dump_{dump}_{release}.txt.gz"


def resolve_latest(base_url: str, dump: str, timeout: float = 30) -> str:
    """The release date YYYY-MM-DD that ol_dump_{dump}_latest.txt.gz points at.

    http(s): the first redirect Location naming a dated dump (redirects followed by hand, at most
    MAX_REDIRECTS). file://: the name of the symlink's target.
    """
    url = dump_url(base_url, dump, "latest")
    target = _link_target(url) if url.startswith("file:") else _dated_location(url, timeout)
    match = _DATED_NAME.search(target)
    if not match or not is_release_date(match.group(1)):
        raise ReleaseError(f"{url} points at {target}, which is not a dated dump file")
    return match.group(1)


def _link_target(url: str) -> str:
    """The name of the file a local `latest` symlink points at (through links to links, if need be)."""
    path = _path(url)
    if not os.path.lexists(path):
        raise ReleaseError(f"{url}: no such file")
    if not os.path.islink(path):
        raise ReleaseError(f"{url} is not a symlink to a dated dump file")
    for _ in range(MAX_REDIRECTS):
        target = os.readlink(path)
        path = os.path.join(os.path.dirname(path), target)
        name = os.path.basename(target)
        if _DATED_NAME.search(name) or not os.path.islink(path):
            return name
    raise ReleaseError(f"{url}: no dated dump file within {MAX_REDIRECTS} links")


def _dated_location(url: str, timeout: float) -> str:
    """Follow the redirects of `url` by hand until a Location names a dated dump file."""
    location = url
    with requests.Session() as session:
        for _ in range(MAX_REDIRECTS):
            response = _head(session, location, timeout, follow=False)
            if not response.is_redirect:
                raise ReleaseError(
                    f"{url}: expected a redirect to a dated dump file, got HTTP {response.status_code}"
                    + (f" from {location}" if location != url else "")
                )
            location = urllib.parse.urljoin(location, response.headers["Location"])
            if _DATED_NAME.search(urllib.parse.urlsplit(location).path):
                return location
    raise ReleaseError(f"{url}: no dated dump file within {MAX_REDIRECTS} redirects (last: {location})")


def _head(session: requests.Session, url: str, timeout: float, follow: bool) -> requests.Response:
    """HEAD, or a GET closed before its body is read when the server refuses HEAD. Errors name `url`."""
    try:
        response = session.head(url, allow_redirects=follow, timeout=timeout)
        if response.status_code in _HEAD_REFUSED:
            response = session.get(url, allow_redirects=follow, timeout=timeout, stream=True)
            response.close()
    except requests.RequestException as error:
        raise ReleaseError(f"{url}: {unreachable_reason(error, timeout)}") from error
    return response


def unreachable_reason(error: BaseException | None, timeout: float) -> str:
    """Why a request got no answer, in a few words: "can't connect (Connection refused)", "no answer within
    60 s"; the system's reason is the one of the innermost OSError naming one (urllib3 wraps it twice)."""
    if isinstance(error, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(error, requests.ConnectionError):
        return f"can't connect ({_system_reason(error) or error})"
    return str(error)


def _system_reason(error: BaseException) -> str | None:
    """The strerror of the first OSError with one among `error`'s causes, contexts and urllib3 reasons."""
    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is old for old in seen):
            continue
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
    return None


class _Unusable(Exception):
    """Why one dump file can't be used (collected by check_release)."""


def check_release(base_url: str, release: str, dumps: Sequence[str], timeout: float = 30) -> dict[str, int]:
    """Sizes in bytes of the release's dump files; one ReleaseError naming every missing or empty file."""
    sizes: dict[str, int] = {}
    problems: list[str] = []
    with requests.Session() as session:
        for dump in dumps:
            url = dump_url(base_url, dump, release)
            try:
                size = _local_size(url) if url.startswith("file:") else _remote_size(session, url, timeout)
            except _Unusable as problem:
                problems.append(f"{url} {problem}")
                continue
            if size <= EMPTY_GZIP_BYTES:
                problems.append(f"{url} is empty ({size} bytes)")
            else:
                sizes[dump] = size
    if problems:
        raise ReleaseError(f"release {release} refused: " + "; ".join(problems))
    return sizes


def _local_size(url: str) -> int:
    try:
        return os.stat(_path(url)).st_size
    except FileNotFoundError as error:
        raise _Unusable("is missing (no such file)") from error
    except OSError as error:
        raise _Unusable(f"could not be checked: {error.strerror or error}") from error


def _remote_size(session: requests.Session, url: str, timeout: float) -> int:
    try:
        response = _head(session, url, timeout, follow=True)
    except ReleaseError as error:
        raise _Unusable(f"could not be checked: {unreachable_reason(error.__cause__, timeout)}") from error
    if response.status_code == 404:
        raise _Unusable("is missing (HTTP 404)")
    if response.status_code != 200:
        raise _Unusable(f"could not be checked: HTTP {response.status_code}")
    length = response.headers.get("Content-Length", "")
    if not length.isdigit():
        raise _Unusable("has no known size (the server sent no Content-Length)")
    return int(length)


def _path(url: str) -> str:
    try:
        return local_path(url)
    except ValueError as error:
        raise ReleaseError(str(error)) from error
