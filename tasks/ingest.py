"""IngestDump: stream one dump file from Open Library into the lake's raw zone, re-chunked."""

import datetime as dt
import time
from collections.abc import Callable

from lake import Lake
from source.checksums import Published, published_checksum
from source.download import open_stream
from source.rechunk import RechunkResult, rechunk
from source.release import dump_url
from spark import catalog
from spark.catalog import Location
from tasks import config
from tasks.progress import ProgressReport, eta
from tasks.release import ReleaseParameter
from tasks.stage import LakeStage

MB = 1024 * 1024


class ChecksumMismatch(OSError):
    """The downloaded bytes are not the file archive.org published."""


def verify(url: str, result: RechunkResult, published: Published) -> None:
    """Compare what came in with what archive.org lists, when it lists something."""
    if published.md5 is not None and published.md5 != result.md5:
        raise ChecksumMismatch(f"{url}: md5 {result.md5} but archive.org publishes {published.md5}")
    if published.size is not None and published.size != result.source_bytes:
        raise ChecksumMismatch(
            f"{url}: {result.source_bytes} bytes but archive.org publishes {published.size}"
        )


class IngestDump(LakeStage):
    """Writes raw/{release}/{dump}/part-NNNNN.txt.gz (gzip, ~part_mb uncompressed each), then _MANIFEST.json.

    The source is streamed: nothing is staged on local disk and memory stays flat. The manifest is written
    last and is the completion target, so a crashed ingest leaves nothing that looks complete.
    """

    release = ReleaseParameter(default="latest", description="Release date YYYY-MM-DD, or latest")
    dump = config.DumpParameter(description="Which dump file")

    marker = "manifest"

    def locations(self) -> dict[str, Location]:
        return {"manifest": catalog.RAW.at(release=self.release, dump=self.dump)}

    def build(self, lake: Lake) -> dict:
        settings = config.ingest()
        url = dump_url(config.openlibrary().base_url, self.dump, self.release)
        raw = catalog.RAW.path(release=self.release, dump=self.dump)
        lake.remove(*raw)  # parts left by a crashed attempt
        metadata_url = config.openlibrary().metadata_url
        published = (
            published_checksum(metadata_url, self.release, url.rsplit("/", 1)[-1])
            if metadata_url
            else Published(None, None, "[openlibrary] metadata_url is empty: md5 not checked")
        )
        started = time.monotonic()
        started_at = dt.datetime.now(dt.UTC)
        report = ProgressReport(self)
        with open_stream(url, timeout=config.openlibrary().timeout_s) as stream:
            result = rechunk(
                stream.chunks(),
                open_part=lambda name: lake.open_write(*raw, name),
                part_bytes=int(settings.part_mb * MB),
                compress_level=settings.compress_level,
                progress=self._progress_reporter(stream.total_bytes, report),
                name=url,
            )
        verify(url, result, published)
        manifest = self._manifest(url, result, started_at, time.monotonic() - started)
        manifest["integrity"] = {"md5_verified": published.md5 is not None, "note": published.note}
        report(
            100,
            f"done: {result.source_bytes / MB:,.1f} MB, {result.lines:,} lines in {len(result.parts)} parts",
            final=True,
        )
        return manifest

    def _manifest(self, url: str, result: RechunkResult, started_at: dt.datetime, seconds: float) -> dict:
        return {
            "source_url": url,
            "release": self.release,
            "dump": self.dump,
            "bytes": result.source_bytes,
            "md5": result.md5,
            "lines": result.lines,
            "uncompressed_bytes": result.uncompressed_bytes,
            "parts": [{"path": part.path, "lines": part.lines, "bytes": part.bytes} for part in result.parts],
            "started_at": started_at.isoformat(timespec="seconds"),
            "duration_s": round(seconds, 3),
        }

    def _progress_reporter(
        self, total_bytes: int | None, report: ProgressReport
    ) -> Callable[[int, int], None]:
        """Bytes, lines, rate and ETA (from Content-Length) for the scheduler and the terminal."""

        def progress(done_bytes: int, lines: int) -> None:
            rate = done_bytes / max(report.elapsed, 1e-6)
            message = f"{done_bytes / MB:,.0f} MB downloaded, {lines:,} lines, {rate / MB:.1f} MB/s"
            if not total_bytes:
                report(0, message)
                return
            fraction = done_bytes / total_bytes
            message += f", {100 * fraction:.0f}% of {total_bytes / MB:,.0f} MB{eta(report.elapsed, fraction)}"
            report(min(99.0, 100 * fraction), message)

        return progress
