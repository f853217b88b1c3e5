"""Run a job on Dataproc: a PySpark job on an existing cluster, or a Serverless batch (no cluster to keep).

Each Luigi task maps to deterministic ids (task id + attempt). A job still running when its worker died is
re-attached, not submitted again; a finished one (whose outputs were since removed, or which failed) is
followed by the next attempt.
"""

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import dataproc_v1

from lake import Lake
from lake.gcs import storage_client
from runners.base import SparkJobError
from runners.staging import MAX_ATTEMPTS, TRANSIENT, batch_id, job_id, stage, wait

logger = logging.getLogger("luigi-interface")

JobState = dataproc_v1.JobStatus.State
BatchState = dataproc_v1.Batch.State
JOB_FINISHED = {JobState.DONE, JobState.ERROR, JobState.CANCELLED}
BATCH_FINISHED = {BatchState.SUCCEEDED, BatchState.FAILED, BatchState.CANCELLED}
_DRIVER_TAIL_BYTES = 4000


def _client_options(region: str, endpoint: str | None) -> ClientOptions:
    return ClientOptions(api_endpoint=endpoint or f"{region}-dataproc.googleapis.com")


def _attach_or_submit(
    key: str,
    make_id: Callable[[str, int], str],
    state_of: Callable[[str], Any],
    finished: set,
    submit: Callable,
) -> str:
    """The id to wait for: a running attempt (re-attached) or a newly submitted one."""
    for attempt in range(MAX_ATTEMPTS):
        ident = make_id(key, attempt)
        state = state_of(ident)
        if state is None:
            try:
                submit(ident)
            except exceptions.AlreadyExists:
                logger.info(
                    "Dataproc %s already exists (an earlier submit went through): re-attaching", ident
                )
            return ident
        if state not in finished:
            logger.info("Dataproc %s is %s: re-attaching instead of submitting again", ident, state.name)
            return ident
    raise SparkJobError(f"{key}: {MAX_ATTEMPTS} Dataproc attempts exist already; clean up old jobs")


class DataprocJobRunner:
    """Submits spark/{job}.py as a PySpark job to an existing cluster (JobControllerClient)."""

    def __init__(
        self, project: str, region: str, cluster: str, staging: Lake, endpoint: str | None = None,
        poll_s: float = 15.0, credentials: Any = None, properties: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        if not (project and region and cluster):
            raise ValueError("the dataproc runner needs [dataproc] project, region and cluster")
        self.project, self.region, self.cluster = project, region, cluster
        self.staging = staging
        self.poll_s = poll_s
        self.properties = dict(properties or {})
        self._client_settings = {
            "client_options": _client_options(region, endpoint),
            "credentials": credentials,
        }

    @functools.cached_property
    def client(self) -> dataproc_v1.JobControllerClient:
        """Created on first use, so configuring a runner needs no credentials (ADC are looked up here)."""
        return dataproc_v1.JobControllerClient(transport="rest", **self._client_settings)

    def _state(self, ident: str) -> Any:
        try:
            job = self.client.get_job(
                project_id=self.project, region=self.region, job_id=ident, retry=TRANSIENT
            )
        except exceptions.NotFound:
            return None
        return job.status.state

    def run(
        self, job: str, args: Sequence[str], on_status: Callable[[str], None] | None = None,
        job_key: str | None = None, on_tracking_url: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        main, package = stage(self.staging, job)
        spec = {
            "placement": {"cluster_name": self.cluster},
            "pyspark_job": {
                "main_python_file_uri": main, "python_file_uris": [package], "args": list(args),
                "properties": {"spark.sql.session.timeZone": "UTC", **self.properties},
            },
            "labels": {"pipeline": "openlibrary", "job": job.replace("_", "-")},
        }  # fmt: skip

        def submit(ident: str) -> None:
            request = {"project_id": self.project, "region": self.region, "request_id": ident,
                       "job": {"reference": {"job_id": ident}, **spec}}  # fmt: skip
            self.client.submit_job(request=request, retry=TRANSIENT)

        ident = _attach_or_submit(job_key or job, job_id, self._state, JOB_FINISHED, submit)
        if on_tracking_url:
            on_tracking_url(
                f"https://console.cloud.google.com/dataproc/jobs/{ident}?project={self.project}&region={self.region}"
            )

        def poll() -> tuple[str, bool]:
            state = self._state(ident)
            return state.name, state in JOB_FINISHED

        final = wait(poll, self.poll_s, on_status)
        if final != JobState.DONE.name:
            found = self.client.get_job(
                project_id=self.project, region=self.region, job_id=ident, retry=TRANSIENT
            )
            output = found.driver_output_resource_uri
            raise SparkJobError(
                f"Dataproc job {ident} ended {final}: {found.status.details}\n"
                f"driver output ({output}):\n{driver_output_tail(output)}"
            )


def driver_output_tail(uri: str) -> str:
    """The end of a job's driver output (gs://…/driveroutput.NNNNNNNNN objects), or why it can't be read."""
    if not uri.startswith("gs://"):
        return "(no driver output)"
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    try:
        blobs = sorted(storage_client().list_blobs(bucket, prefix=prefix), key=lambda blob: blob.name)
        if not blobs:
            return "(no driver output yet)"
        last = blobs[-1]
        last.reload()
        start = max(0, (last.size or 0) - _DRIVER_TAIL_BYTES)
        return last.download_as_bytes(start=start).decode("utf-8", errors="replace")
    except exceptions.GoogleAPICallError as error:
        return f"(driver output unreadable: {error})"


class DataprocServerlessRunner:
    """Creates a Dataproc Serverless batch per job (BatchControllerClient): no cluster to keep."""

    def __init__(
        self, project: str, region: str, staging: Lake, runtime_version: str = "2.2",
        service_account: str = "", subnetwork: str = "", endpoint: str | None = None, poll_s: float = 15.0,
        credentials: Any = None, properties: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        if not (project and region):
            raise ValueError("the serverless runner needs [dataproc] project and region")
        self.project, self.region = project, region
        self.staging = staging
        self.runtime_version = runtime_version
        self.service_account, self.subnetwork = service_account, subnetwork
        self.poll_s = poll_s
        self.properties = dict(properties or {})
        self._client_settings = {
            "client_options": _client_options(region, endpoint),
            "credentials": credentials,
        }

    @functools.cached_property
    def client(self) -> dataproc_v1.BatchControllerClient:
        """Created on first use, so configuring a runner needs no credentials (ADC are looked up here)."""
        return dataproc_v1.BatchControllerClient(transport="rest", **self._client_settings)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def _get(self, ident: str) -> dataproc_v1.Batch | None:
        try:
            return self.client.get_batch(name=f"{self.parent}/batches/{ident}", retry=TRANSIENT)
        except exceptions.NotFound:
            return None

    def _state(self, ident: str) -> Any:
        batch = self._get(ident)
        return None if batch is None else batch.state

    def run(
        self, job: str, args: Sequence[str], on_status: Callable[[str], None] | None = None,
        job_key: str | None = None, on_tracking_url: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        main, package = stage(self.staging, job)
        optional = {"service_account": self.service_account, "subnetwork_uri": self.subnetwork}
        execution = {key: value for key, value in optional.items() if value}
        batch = {
            "pyspark_batch": {
                "main_python_file_uri": main,
                "python_file_uris": [package],
                "args": list(args),
            },
            "runtime_config": {
                "version": self.runtime_version,
                "properties": {"spark.sql.session.timeZone": "UTC", **self.properties},
            },
            "environment_config": {"execution_config": execution},
            "labels": {"pipeline": "openlibrary", "job": job.replace("_", "-")},
        }

        def submit(ident: str) -> None:
            request = {"parent": self.parent, "batch_id": ident, "request_id": ident, "batch": batch}
            self.client.create_batch(request=request, retry=TRANSIENT)

        ident = _attach_or_submit(job_key or job, batch_id, self._state, BATCH_FINISHED, submit)
        if on_tracking_url:
            on_tracking_url(
                f"https://console.cloud.google.com/dataproc/batches/{self.region}/{ident}?project={self.project}"
            )

        def poll() -> tuple[str, bool]:
            state = self._state(ident)
            return state.name, state in BATCH_FINISHED

        final = wait(poll, self.poll_s, on_status)
        if final != BatchState.SUCCEEDED.name:
            found = self._get(ident)
            message = found.state_message if found else ""
            raise SparkJobError(f"Dataproc batch {ident} ended {final}: {message}")
