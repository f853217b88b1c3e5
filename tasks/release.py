"""The release parameter: a concrete Open Library release date, with `latest` resolved once per run."""

import functools
from collections.abc import Sequence

import luigi

from source.release import ReleaseError, is_release_date, resolve_latest
from tasks import config
from tasks.errors import CheckedOnCommandLine, SettingError, refuse


@functools.cache
def _resolve_latest(base_url: str, dumps: Sequence[str], timeout: float) -> str:
    dates = {dump: resolve_latest(base_url, dump, timeout) for dump in dumps}
    if len(set(dates.values())) != 1:
        links = ", ".join(f"ol_dump_{dump}_latest.txt.gz -> {date}" for dump, date in sorted(dates.items()))
        raise ReleaseError(
            f"the latest links of {base_url} point at different releases ({links}): partial release"
        )
    return next(iter(dates.values()))


def resolve_latest_release() -> str:
    """The date every configured dump's `latest` link points at (one network round per process)."""
    settings = config.openlibrary()
    return _resolve_latest(settings.base_url.rstrip("/"), tuple(settings.dumps), settings.timeout_s)


NOT_A_RELEASE = "not a date; use YYYY-MM-DD or latest"


class ReleaseParameter(CheckedOnCommandLine, luigi.Parameter):
    """A release date YYYY-MM-DD, or `latest`: resolved at scheduling time, so every task carries the date.

    In the luigi command, a `latest` that can't be resolved (the source unreachable, links that disagree)
    refuses the command in one line, with [retcode] scheduling_error, as a refused release does.
    """

    def parse(self, x: str) -> str:
        if x != "latest" and not is_release_date(str(x)):
            raise SettingError(NOT_A_RELEASE)
        return str(x)

    def normalize(self, x: str) -> str:
        if x == "latest":
            try:
                return resolve_latest_release()
            except ReleaseError as error:
                if config.is_luigi_command():
                    refuse(f"release latest refused: {error}")
                raise
        if not is_release_date(str(x)):
            raise SettingError(f"release {x!r}: {NOT_A_RELEASE}")
        return str(x)
