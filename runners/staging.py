"""What the Dataproc runners share: staging the job files, naming jobs, polling with backoff."""

import hashlib
import re
import time
from collections.abc import Callable

from lake import Lake
from runners.base import job_file, package_zip

MAX_ATTEMPTS = 50


def stage(lake: Lake, job: str) -> tuple[str, str]:
    """Upload spark/{job}.py and the zipped spark/ package below _staging/{code version}/, once per version.

    Returns (main file URI, package URI) as Dataproc reads them.
    """
    version, package = package_zip()
    main = ("_staging", version, f"{job}.py")
    zipped = ("_staging", version, "spark.zip")
    if not lake.exists(*main):
        with lake.open_write(*main) as out:
            out.write(job_file(job).read_bytes())
    if not lake.exists(*zipped):
        with lake.open_write(*zipped) as out:
            out.write(package)
    return lake.url(*main), lake.url(*zipped)


def deployment(lake_root: str, id_prefix: str = "") -> str:
    """What starts this deployment's job and batch ids: [dataproc] id_prefix, or else a short hash of the
    lake's root URL, so two lakes (a laptop's and the VM's) in one project never share a job."""
    return id_prefix or "l" + hashlib.sha1(lake_root.encode()).hexdigest()[:7]


def job_id(key: str, attempt: int, prefix: str) -> str:
    """A Dataproc job id for a task: {prefix}-{task id}-{hash}-{attempt}, deterministic per attempt.

    Letters, digits, _ and - only, at most 100 characters (JobReference.job_id), for any task id.
    """
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', key)[:70]}-{digest}-{attempt}"


def batch_id(key: str, attempt: int, prefix: str) -> str:
    """A Serverless batch id: {prefix}-{task id, lowercased}-{hash}-{attempt}, deterministic per attempt.

    4-63 lowercase letters, digits and hyphens (CreateBatchRequest.batch_id), starting with the prefix's
    letter and ending with the attempt's digit.
    """
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    stem = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", key.lower()))[:30].strip("-")
    return "-".join(part for part in (prefix, stem, digest, str(attempt)) if part)


class Overdue(Exception):
    """The job was not finished when its deadline passed; carries the state it was last seen in."""

    def __init__(self, state: str, waited_s: float) -> None:
        super().__init__(state)
        self.state, self.waited_s = state, waited_s


def wait(
    poll: Callable[[], tuple[str, bool]], poll_s: float, on_status: Callable[[str], None] | None,
    timeout_s: float,
) -> str:  # fmt: skip
    """Poll until `poll()` says the job is finished; the delay grows 1.5x per poll up to 4x poll_s.

    Raises Overdue when the job is still not finished `timeout_s` after the first poll.
    """
    delay = poll_s
    start = time.monotonic()
    while True:
        state, finished = poll()
        if on_status:
            on_status(f"Dataproc: {state}")
        if finished:
            return state
        waited = time.monotonic() - start
        if waited >= timeout_s:
            raise Overdue(state, waited)
        time.sleep(min(delay, max(timeout_s - waited, 0.0)))
        delay = min(delay * 1.5, poll_s * 4)
