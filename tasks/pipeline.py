"""OpenLibraryPipeline: everything for one release, from download to report."""

import luigi

from source.release import check_release
from tasks import config
from tasks.context import lake_at
from tasks.ingest import IngestDump
from tasks.release import ReleaseParameter
from tasks.report import RunReport
from tasks.stage import lake_parameter, task_repr


class OpenLibraryPipeline(luigi.WrapperTask):
    """Runs RunReport for the release, which pulls BuildMarts, TransformDump and IngestDump for each dump.

    Before anything runs, every dump still to be ingested is checked at the source: a release with a missing
    or empty (20-byte gzip) file is refused with an error naming the file. Then a lake that can't be written
    is refused.
    """

    release = ReleaseParameter(
        default="latest", description="Release date YYYY-MM-DD, or latest (resolved once)"
    )
    lake = lake_parameter()

    _checked = False  # the checks passed: luigi asks requires() twice (complete(), then deps())

    def requires(self) -> RunReport:
        report = RunReport(release=self.release, lake=self.lake)
        if not self._checked:
            self._check_source()
            if not report.complete():  # after the source: a refused release leaves no trace in the lake
                lake_at(self.lake).check_writable()
            self._checked = True
        return report

    def __repr__(self) -> str:
        return task_repr(self)

    def _check_source(self) -> None:
        settings = config.openlibrary()
        pending = [
            dump
            for dump in settings.dumps
            if not IngestDump(release=self.release, dump=dump, lake=self.lake).complete()
        ]
        if pending:
            check_release(settings.base_url.rstrip("/"), self.release, pending, timeout=settings.timeout_s)
