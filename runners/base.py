"""The runner interface and the job package every runner ships."""

import hashlib
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SPARK_PACKAGE = Path(__file__).resolve().parent.parent / "spark"


class SparkJobError(RuntimeError):
    """A Spark job ended in failure; the message carries the job's own error output."""


@dataclass(frozen=True)
class JobProgress:
    """How far a running job is: `fraction` of it done (0-1) and what it is doing, in words."""

    fraction: float
    detail: str


class SparkRunner(Protocol):
    def run(
        self,
        job: str,
        args: Sequence[str],
        on_status: Callable[[str], None] | None = None,
        job_key: str | None = None,
        on_tracking_url: Callable[[str], None] | None = None,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> None:
        """Run spark/{job}.py with `args`; return when it succeeded, raise SparkJobError otherwise.

        `job_key` names the run (the Luigi task id) so a runner can find a job it submitted before;
        `on_tracking_url` receives a URL where the job can be watched; `on_progress` how far the job is,
        whenever the runner learns it.
        """


def job_file(job: str) -> Path:
    path = SPARK_PACKAGE / f"{job}.py"
    if not path.is_file():
        raise ValueError(f"no Spark job {job!r}: {path} does not exist")
    return path


def package_zip() -> tuple[str, bytes]:
    """The spark/ package as a zip (for --py-files), and a short hash of its sources naming the version."""
    sources = sorted(SPARK_PACKAGE.glob("*.py"))
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            content = source.read_bytes()
            digest.update(source.name.encode() + b"\0" + content)
            info = zipfile.ZipInfo(f"spark/{source.name}", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, content)
    return digest.hexdigest()[:16], buffer.getvalue()
