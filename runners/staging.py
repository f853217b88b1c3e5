"""What the Dataproc runners share: staging the job files, naming jobs, polling with backoff."""

import hashlib
import re
import time
from collections.abc import Callable

from google.api_core import exceptions, retry

from lake import Lake
from runners.base import job_file, package_zip

# 429 and 503 from the Dataproc API are transient: retried with exponential backoff, bounded in time.
TRANSIENT = retry.Retry(
    predicate=retry.if_exception_type(exceptions.TooManyRequests, exceptions.ServiceUnavailable),
    initial=1.0,
    maximum=30.0,
    multiplier=2.0,
    timeout=300.0,
)
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


def job_id(key: str, attempt: int) -> str:
    """A Dataproc job id for a task (letters, digits, _ and -, at most 100): deterministic per attempt."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '-', key)[:80]}-{digest}-{attempt}"


def batch_id(key: str, attempt: int) -> str:
    """A Serverless batch id (lowercase letters, digits and -, starting with a letter, 4-63 characters)."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    stem = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", key.lower())).strip("-")[:40] or "job"
    if not stem[0].isalpha():
        stem = f"j-{stem}"
    return f"{stem}-{digest}-{attempt}"


def wait(poll: Callable[[], tuple[str, bool]], poll_s: float, on_status: Callable[[str], None] | None) -> str:
    """Poll until `poll()` says the job is finished; the delay grows 1.5x per poll up to 4x poll_s."""
    delay = poll_s
    while True:
        state, finished = poll()
        if on_status:
            on_status(f"Dataproc: {state}")
        if finished:
            return state
        time.sleep(delay)
        delay = min(delay * 1.5, poll_s * 4)
