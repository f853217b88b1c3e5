"""Run a job on Dataproc: a PySpark job on an existing cluster, or a Serverless batch (no cluster to keep).

Each Luigi task maps to deterministic ids (task id + attempt). A job still running when its worker died is
re-attached, not submitted again; a finished one (whose outputs were since removed, or which failed) is
followed by the next attempt.
"""

import abc
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import dataproc_v1
from google.protobuf import json_format

from lake import Lake
from lake.gcs import storage_client
from runners.base import JobProgress, SparkJobError
from runners.staging import MAX_ATTEMPTS, TRANSIENT, batch_id, job_id, stage, wait

logger = logging.getLogger("luigi-interface")

JobState = dataproc_v1.JobStatus.State
BatchState = dataproc_v1.Batch.State
ClusterState = dataproc_v1.ClusterStatus.State
CLUSTER_BROKEN = {ClusterState.ERROR, ClusterState.ERROR_DUE_TO_UPDATE, ClusterState.STOPPED}
CLUSTER_WAIT_S = 1800.0  # how long a cluster may take to come up (or finish an idle delete) before a job
JOB_FINISHED = {JobState.DONE, JobState.ERROR, JobState.CANCELLED}
BATCH_FINISHED = {BatchState.SUCCEEDED, BatchState.FAILED, BatchState.CANCELLED}
_DRIVER_TAIL_BYTES = 4000


def _client_options(region: str, endpoint: str | None) -> ClientOptions:
    return ClientOptions(api_endpoint=endpoint or f"{region}-dataproc.googleapis.com")


class _DataprocRunner(abc.ABC):
    """Stage the job files, find or submit the run's job (by deterministic id), follow it to its end."""

    finished: frozenset
    succeeded: Any

    def __init__(
        self, project: str, region: str, staging: Lake, endpoint: str | None, poll_s: float,
        credentials: Any, properties: dict[str, str] | None,
    ) -> None:  # fmt: skip
        self.project, self.region = project, region
        self.staging = staging
        self.poll_s = poll_s
        self.properties = {"spark.sql.session.timeZone": "UTC", **(properties or {})}
        self._client_settings = {
            "client_options": _client_options(region, endpoint),
            "credentials": credentials,
        }

    @abc.abstractmethod
    def make_id(self, key: str, attempt: int) -> str: ...

    @abc.abstractmethod
    def state(self, ident: str) -> Any:
        """The job's state, or None when there is no job of that id."""

    def snapshot(self, ident: str) -> tuple[Any, JobProgress | None]:
        """The job's state and, where Dataproc reports it, how far it is."""
        return self.state(ident), None

    @abc.abstractmethod
    def submit(self, ident: str, job: str, main: str, package: str, args: Sequence[str]) -> None: ...

    @abc.abstractmethod
    def tracking_url(self, ident: str) -> str: ...

    @abc.abstractmethod
    def failure(self, ident: str, final: str) -> str:
        """What went wrong, in Dataproc's words."""

    def run(
        self, job: str, args: Sequence[str], on_status: Callable[[str], None] | None = None,
        job_key: str | None = None, on_tracking_url: Callable[[str], None] | None = None,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> None:  # fmt: skip
        main, package = stage(self.staging, job)
        ident = self._attach_or_submit(
            job_key or job, lambda ident: self.submit(ident, job, main, package, args)
        )
        if on_tracking_url:
            on_tracking_url(self.tracking_url(ident))

        def poll() -> tuple[str, bool]:
            state, progress = self.snapshot(ident)
            if progress is not None and on_progress:
                on_progress(progress)
            return state.name, state in self.finished

        final = wait(poll, self.poll_s, on_status)
        if final != self.succeeded.name:
            raise SparkJobError(self.failure(ident, final))

    def _attach_or_submit(self, key: str, submit: Callable[[str], None]) -> str:
        """The id to wait for: a running attempt (re-attached) or a newly submitted one."""
        for attempt in range(MAX_ATTEMPTS):
            ident = self.make_id(key, attempt)
            state = self.state(ident)
            if state is None:
                try:
                    submit(ident)
                except exceptions.AlreadyExists:
                    logger.info(
                        "Dataproc %s exists already (an earlier submit went through): re-attaching", ident
                    )
                return ident
            if state not in self.finished:
                logger.info("Dataproc %s is %s: re-attaching instead of submitting again", ident, state.name)
                return ident
        raise SparkJobError(f"{key}: {MAX_ATTEMPTS} Dataproc attempts exist already; clean up old jobs")

    @staticmethod
    def labels(job: str) -> dict[str, str]:
        return {"pipeline": "openlibrary", "job": job.replace("_", "-")}


class DataprocJobRunner(_DataprocRunner):
    """Submits spark/{job}.py as a PySpark job to a cluster (JobControllerClient).

    The cluster must be RUNNING first. One that is missing, as Dataproc leaves it after deleting an idle
    cluster (its idle-delete TTL), is created again from `cluster_config` (the REST API's ClusterConfig,
    camelCase JSON as terraform/compute renders it), or the run fails saying how to get one.
    """

    finished = frozenset(JOB_FINISHED)
    succeeded = JobState.DONE

    def __init__(
        self, project: str, region: str, cluster: str, staging: Lake, endpoint: str | None = None,
        poll_s: float = 15.0, credentials: Any = None, properties: dict[str, str] | None = None,
        cluster_config: dict[str, Any] | None = None, cluster_labels: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        if not (project and region and cluster):
            raise ValueError("the dataproc runner needs [dataproc] project, region and cluster")
        super().__init__(project, region, staging, endpoint, poll_s, credentials, properties)
        self.cluster = cluster
        self.cluster_config = parse_cluster_config(cluster_config) if cluster_config else None
        self.cluster_labels = dict(cluster_labels or {})

    @functools.cached_property
    def client(self) -> dataproc_v1.JobControllerClient:
        """Created on first use, so configuring a runner needs no credentials (ADC are looked up here)."""
        return dataproc_v1.JobControllerClient(transport="rest", **self._client_settings)

    @functools.cached_property
    def clusters(self) -> dataproc_v1.ClusterControllerClient:
        return dataproc_v1.ClusterControllerClient(transport="rest", **self._client_settings)

    def run(
        self, job: str, args: Sequence[str], on_status: Callable[[str], None] | None = None,
        job_key: str | None = None, on_tracking_url: Callable[[str], None] | None = None,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> None:  # fmt: skip
        self.ensure_cluster(on_status)
        super().run(job, args, on_status, job_key, on_tracking_url, on_progress)

    def ensure_cluster(self, on_status: Callable[[str], None] | None = None) -> None:
        """Return once the cluster is RUNNING: wait while it is being created, started or deleted, and
        create it when it is missing. Raise SparkJobError when it is broken or can't be had."""
        deadline = time.monotonic() + CLUSTER_WAIT_S
        created = False
        while True:
            found = self._get_cluster()
            state = found.status.state if found else None
            if state == ClusterState.RUNNING:
                return
            if state in CLUSTER_BROKEN:
                raise SparkJobError(
                    f"Dataproc cluster {self.cluster} is {state.name}: {found.status.detail}; repair or "
                    "delete it (a deleted cluster is created again from [dataproc] cluster_config)"
                )
            if found is None and not created:
                self._create_cluster()
                created = True
            if time.monotonic() > deadline:
                raise SparkJobError(
                    f"Dataproc cluster {self.cluster} not RUNNING after {CLUSTER_WAIT_S:.0f} s"
                )
            if on_status:
                on_status(f"Dataproc cluster {self.cluster}: {state.name if state else 'creating'}")
            time.sleep(self.poll_s)

    def _get_cluster(self) -> dataproc_v1.Cluster | None:
        try:
            return self.clusters.get_cluster(
                project_id=self.project, region=self.region, cluster_name=self.cluster, retry=TRANSIENT
            )
        except exceptions.NotFound:
            return None

    def _create_cluster(self) -> None:
        if self.cluster_config is None:
            raise SparkJobError(
                f"Dataproc cluster {self.cluster} does not exist in {self.project}/{self.region} (Dataproc "
                "deletes a cluster idle past its idle-delete TTL) and [dataproc] cluster_config is empty, so "
                "it can't be created again: set cluster_config (terraform/compute passes it as "
                "DATAPROC_CLUSTER_CONFIG), run `make apply-compute`, or use [spark] runner = serverless"
            )
        logger.info("Dataproc cluster %s is missing: creating it again", self.cluster)
        cluster = dataproc_v1.Cluster(
            project_id=self.project, cluster_name=self.cluster, config=self.cluster_config,
            labels=self.cluster_labels,
        )  # fmt: skip
        request = {
            "project_id": self.project, "region": self.region, "cluster": cluster,
            "request_id": str(uuid.uuid4()),
        }  # fmt: skip
        try:
            self.clusters.create_cluster(request=request, retry=TRANSIENT)
        except exceptions.AlreadyExists:
            logger.info("Dataproc cluster %s is being created by someone else: waiting for it", self.cluster)

    def make_id(self, key: str, attempt: int) -> str:
        return job_id(key, attempt)

    def _get(self, ident: str) -> dataproc_v1.Job:
        return self.client.get_job(project_id=self.project, region=self.region, job_id=ident, retry=TRANSIENT)

    def state(self, ident: str) -> Any:
        try:
            return self._get(ident).status.state
        except exceptions.NotFound:
            return None

    def snapshot(self, ident: str) -> tuple[Any, JobProgress | None]:
        """The job's state, and the progress YARN reports for its Spark application once it has one."""
        found = self._get(ident)
        apps = list(found.yarn_applications)
        if not apps:
            return found.status.state, None
        fraction = sum(app.progress for app in apps) / len(apps)
        detail = ", ".join(
            f"YARN {app.name or 'application'} {app.state.name} {app.progress:.0%}" for app in apps
        )
        return found.status.state, JobProgress(fraction=fraction, detail=detail)

    def submit(self, ident: str, job: str, main: str, package: str, args: Sequence[str]) -> None:
        spec = {
            "reference": {"job_id": ident},
            "placement": {"cluster_name": self.cluster},
            "pyspark_job": {
                "main_python_file_uri": main, "python_file_uris": [package], "args": list(args),
                "properties": self.properties,
            },
            "labels": self.labels(job),
        }  # fmt: skip
        request = {"project_id": self.project, "region": self.region, "request_id": ident, "job": spec}
        self.client.submit_job(request=request, retry=TRANSIENT)

    def tracking_url(self, ident: str) -> str:
        return f"https://console.cloud.google.com/dataproc/jobs/{ident}?project={self.project}&region={self.region}"

    def failure(self, ident: str, final: str) -> str:
        found = self._get(ident)
        output = found.driver_output_resource_uri
        return (
            f"Dataproc job {ident} ended {final}: {found.status.details}\n"
            f"driver output ({output}):\n{driver_output_tail(output)}"
        )


def parse_cluster_config(config: dict[str, Any]) -> dataproc_v1.ClusterConfig:
    """A ClusterConfig from its REST JSON form; ValueError naming any field Dataproc doesn't have."""
    try:
        return dataproc_v1.ClusterConfig.from_json(json.dumps(config))
    except json_format.ParseError as error:
        raise ValueError(f"[dataproc] cluster_config is not a Dataproc ClusterConfig: {error}") from error


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


class DataprocServerlessRunner(_DataprocRunner):
    """Creates a Dataproc Serverless batch per job (BatchControllerClient): no cluster to keep."""

    finished = frozenset(BATCH_FINISHED)
    succeeded = BatchState.SUCCEEDED

    def __init__(
        self, project: str, region: str, staging: Lake, runtime_version: str = "2.2",
        service_account: str = "", subnetwork: str = "", endpoint: str | None = None, poll_s: float = 15.0,
        credentials: Any = None, properties: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        if not (project and region):
            raise ValueError("the serverless runner needs [dataproc] project and region")
        super().__init__(project, region, staging, endpoint, poll_s, credentials, properties)
        self.runtime_version = runtime_version
        self.service_account, self.subnetwork = service_account, subnetwork

    @functools.cached_property
    def client(self) -> dataproc_v1.BatchControllerClient:
        """Created on first use, so configuring a runner needs no credentials (ADC are looked up here)."""
        return dataproc_v1.BatchControllerClient(transport="rest", **self._client_settings)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def make_id(self, key: str, attempt: int) -> str:
        return batch_id(key, attempt)

    def _get(self, ident: str) -> dataproc_v1.Batch | None:
        try:
            return self.client.get_batch(name=f"{self.parent}/batches/{ident}", retry=TRANSIENT)
        except exceptions.NotFound:
            return None

    def state(self, ident: str) -> Any:
        batch = self._get(ident)
        return None if batch is None else batch.state

    def submit(self, ident: str, job: str, main: str, package: str, args: Sequence[str]) -> None:
        optional = {"service_account": self.service_account, "subnetwork_uri": self.subnetwork}
        batch = {
            "pyspark_batch": {
                "main_python_file_uri": main,
                "python_file_uris": [package],
                "args": list(args),
            },
            "runtime_config": {"version": self.runtime_version, "properties": self.properties},
            "environment_config": {
                "execution_config": {key: value for key, value in optional.items() if value}
            },
            "labels": self.labels(job),
        }
        request = {"parent": self.parent, "batch_id": ident, "request_id": ident, "batch": batch}
        self.client.create_batch(request=request, retry=TRANSIENT)

    def tracking_url(self, ident: str) -> str:
        return (
            f"https://console.cloud.google.com/dataproc/batches/{self.region}/{ident}?project={self.project}"
        )

    def failure(self, ident: str, final: str) -> str:
        found = self._get(ident)
        return f"Dataproc batch {ident} ended {final}: {found.state_message if found else ''}"
