"""Run a job on Dataproc: a PySpark job on an existing cluster, or a Serverless batch (no cluster to keep).

Each Luigi task maps to deterministic ids (deployment prefix + task id + attempt). A job still running when
its worker died is re-attached, not submitted again; a finished one (whose outputs were since removed, or
which failed) is followed by the next attempt. Every call is retried and timed out as runners/dataproc_calls
says; a job still running after [dataproc] job_timeout_s fails the task.
"""

import abc
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions, operation
from google.api_core.client_options import ClientOptions
from google.cloud import dataproc_v1
from google.protobuf import json_format

from lake import Lake
from lake.gcs import GcsLake, split_url, storage_client
from runners.base import JobProgress, SparkJobError
from runners.dataproc_calls import CALL_TIMEOUT_S, call_options
from runners.dataproc_settings import (
    check_cluster_name,
    check_id_prefix,
    check_labels,
    check_properties,
    check_runtime,
    check_timeouts,
)
from runners.staging import MAX_ATTEMPTS, Overdue, batch_id, deployment, job_id, stage, wait

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
    kind: str  # "job" or "batch", in messages

    def __init__(
        self, project: str, region: str, staging: Lake, endpoint: str | None, poll_s: float,
        credentials: Any, properties: dict[str, str] | None, id_prefix: str, job_timeout_s: float,
        call_timeout_s: float,
    ) -> None:  # fmt: skip
        self.project, self.region = project, region
        self.staging = staging
        self.poll_s = poll_s
        self.properties = {"spark.sql.session.timeZone": "UTC", **check_properties(properties or {})}
        # Ids start with the deployment's prefix: make_runner derives it from the output lake's root.
        self.prefix = check_id_prefix(id_prefix) or deployment(staging.root)
        self.job_timeout_s = job_timeout_s
        self.call_timeout_s = call_timeout_s
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

    @abc.abstractmethod
    def overdue(self, ident: str, late: Overdue) -> str:
        """What was done about a job still running past job_timeout_s, and what the user can do."""

    def options(self, method: str) -> dict[str, Any]:
        """Retry and timeout of one call of `method`."""
        return call_options(method, self.call_timeout_s)

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

        try:
            final = wait(poll, self.poll_s, on_status, self.job_timeout_s)
        except Overdue as late:
            raise SparkJobError(self.overdue(ident, late)) from None
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
                except exceptions.Conflict as error:  # 409: REST raises AlreadyExists as its base Conflict
                    if self.state(ident) is None:
                        raise SparkJobError(
                            f"Dataproc refused {self.kind} {ident} as existing ({error.message}), yet it "
                            f"can't be read in {self.project}/{self.region}: another region or another "
                            "deployment holds that id. Give this deployment its own [dataproc] id_prefix (or "
                            f"delete that {self.kind})"
                        ) from None
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
    kind = "job"

    def __init__(
        self, project: str, region: str, cluster: str, staging: Lake, *, poll_s: float, job_timeout_s: float,
        endpoint: str | None = None, credentials: Any = None, properties: dict[str, str] | None = None,
        cluster_config: dict[str, Any] | None = None, cluster_labels: dict[str, str] | None = None,
        id_prefix: str = "", call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:  # fmt: skip
        if not (project and region and cluster):
            raise ValueError("the dataproc runner needs [dataproc] project, region and cluster")
        if job_timeout_s <= 0:
            raise ValueError(f"[dataproc] job_timeout_s must be positive, not {job_timeout_s}")
        super().__init__(
            project, region, staging, endpoint, poll_s, credentials, properties, id_prefix, job_timeout_s,
            call_timeout_s,
        )  # fmt: skip
        self.cluster = check_cluster_name(cluster)
        self.cluster_config = parse_cluster_config(cluster_config) if cluster_config else None
        self.cluster_labels = check_labels(cluster_labels or {}, "cluster_labels")

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
        creation: operation.Operation | None = None
        while True:
            found = self._get_cluster()
            state = found.status.state if found else None
            if state == ClusterState.RUNNING:
                return
            if creation is not None:
                self._check_creation(creation, state)
            if state in CLUSTER_BROKEN:
                raise SparkJobError(
                    f"Dataproc cluster {self.cluster} is {state.name}: {found.status.detail}; repair or "
                    "delete it (a deleted cluster is created again from [dataproc] cluster_config)"
                )
            if found is None and not created:
                creation = self._create_cluster()
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
                project_id=self.project, region=self.region, cluster_name=self.cluster,
                **self.options("get_cluster"),
            )  # fmt: skip
        except exceptions.NotFound:
            return None

    def _create_cluster(self) -> operation.Operation | None:
        """Start creating the cluster: its long-running operation (None: someone else is creating it)."""
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
            return self.clusters.create_cluster(request=request, **self.options("create_cluster"))
        except exceptions.Conflict:  # 409 (AlreadyExists over gRPC)
            logger.info("Dataproc cluster %s is being created by someone else: waiting for it", self.cluster)
            return None

    def _check_creation(self, creation: operation.Operation, state: Any) -> None:
        """Raise SparkJobError with the operation's own error once the creation has failed."""
        if not creation.done(retry=self.options("get_operation")["retry"]):
            return
        error = creation.operation.error
        if creation.operation.HasField("error"):
            raise SparkJobError(
                f"creating Dataproc cluster {self.cluster} failed: {error.message} (code {error.code}); the "
                f"cluster is {state.name if state else 'gone'}: fix the cause (quota, [dataproc] "
                "cluster_config), delete the cluster if it is left in ERROR, and run again"
            )

    def make_id(self, key: str, attempt: int) -> str:
        return job_id(key, attempt, self.prefix)

    def _get(self, ident: str) -> dataproc_v1.Job:
        return self.client.get_job(
            project_id=self.project, region=self.region, job_id=ident, **self.options("get_job")
        )

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
        # One request id for this submit and its retries: Dataproc answers a repeat with the job it made.
        request = {
            "project_id": self.project, "region": self.region, "request_id": uuid.uuid4().hex, "job": spec,
        }  # fmt: skip
        self.client.submit_job(request=request, **self.options("submit_job"))

    def tracking_url(self, ident: str) -> str:
        return f"https://console.cloud.google.com/dataproc/jobs/{ident}?project={self.project}&region={self.region}"

    def failure(self, ident: str, final: str) -> str:
        found = self._get(ident)
        output = found.driver_output_resource_uri
        return (
            f"Dataproc job {ident} ended {final}: {found.status.details}\n"
            f"driver output ({output}):\n{driver_output_tail(output)}"
        )

    def overdue(self, ident: str, late: Overdue) -> str:
        """Cancel the job: otherwise every later run would re-attach to it and wait as long again."""
        url = self.tracking_url(ident)
        try:
            self.client.cancel_job(
                project_id=self.project, region=self.region, job_id=ident, **self.options("cancel_job")
            )
            done = "cancelled it; the next run submits a new attempt"
        except exceptions.GoogleAPICallError as error:
            done = f"cancelling it failed ({error}): it may still be running, cancel it at {url}"
        return (
            f"Dataproc job {ident} still {late.state} after {late.waited_s:.0f} s, past [dataproc] "
            f"job_timeout_s ({self.job_timeout_s:g} s): {done}. Raise job_timeout_s if the job needs longer. "
            f"Job: {url}"
        )


def parse_cluster_config(config: dict[str, Any]) -> dataproc_v1.ClusterConfig:
    """A ClusterConfig from its REST JSON form; ValueError naming any field Dataproc doesn't have."""
    try:
        return dataproc_v1.ClusterConfig.from_json(json.dumps(config))
    except json_format.ParseError as error:
        raise ValueError(f"[dataproc] cluster_config is not a Dataproc ClusterConfig: {error}") from error


def driver_output_tail(uri: str) -> str:
    """The end of a job's driver output (gs://…/driveroutput.NNNNNNNNN objects), or why it can't be read."""
    try:
        bucket, prefix = split_url(uri)
    except ValueError:
        return "(no driver output)"
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
    kind = "batch"

    def __init__(
        self, project: str, region: str, staging: Lake, *, runtime_version: str, poll_s: float,
        job_timeout_s: float, batch_ttl_s: float, service_account: str = "", subnetwork: str = "",
        endpoint: str | None = None, credentials: Any = None, properties: dict[str, str] | None = None,
        id_prefix: str = "", call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:  # fmt: skip
        if not (project and region):
            raise ValueError("the serverless runner needs [dataproc] project and region")
        check_runtime(runtime_version)
        check_timeouts(job_timeout_s, batch_ttl_s)
        super().__init__(
            project, region, staging, endpoint, poll_s, credentials, properties, id_prefix, job_timeout_s,
            call_timeout_s,
        )  # fmt: skip
        self.runtime_version = runtime_version
        self.batch_ttl_s = batch_ttl_s
        self.service_account, self.subnetwork = service_account, subnetwork
        # Dataproc stages the batch's dependencies and history in the staging lake's bucket, which Terraform
        # grants the Dataproc account, instead of a project-level bucket it would create and manage itself.
        self.staging_bucket = staging.bucket if isinstance(staging, GcsLake) else ""

    @functools.cached_property
    def client(self) -> dataproc_v1.BatchControllerClient:
        """Created on first use, so configuring a runner needs no credentials (ADC are looked up here)."""
        return dataproc_v1.BatchControllerClient(transport="rest", **self._client_settings)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def make_id(self, key: str, attempt: int) -> str:
        return batch_id(key, attempt, self.prefix)

    def _get(self, ident: str) -> dataproc_v1.Batch | None:
        try:
            return self.client.get_batch(name=f"{self.parent}/batches/{ident}", **self.options("get_batch"))
        except exceptions.NotFound:
            return None

    def state(self, ident: str) -> Any:
        batch = self._get(ident)
        return None if batch is None else batch.state

    def submit(self, ident: str, job: str, main: str, package: str, args: Sequence[str]) -> None:
        optional = {
            "service_account": self.service_account, "subnetwork_uri": self.subnetwork,
            "staging_bucket": self.staging_bucket,
        }  # fmt: skip
        execution = {key: value for key, value in optional.items() if value}
        batch = {
            "pyspark_batch": {
                "main_python_file_uri": main,
                "python_file_uris": [package],
                "args": list(args),
            },
            "runtime_config": {"version": self.runtime_version, "properties": self.properties},
            "environment_config": {
                "execution_config": {**execution, "ttl": {"seconds": int(self.batch_ttl_s)}}
            },
            "labels": self.labels(job),
        }
        # One request id for this creation and its retries: Dataproc answers a repeat with the first batch.
        request = {
            "parent": self.parent, "batch_id": ident, "request_id": uuid.uuid4().hex, "batch": batch,
        }  # fmt: skip
        self.client.create_batch(request=request, **self.options("create_batch"))

    def tracking_url(self, ident: str) -> str:
        return (
            f"https://console.cloud.google.com/dataproc/batches/{self.region}/{ident}?project={self.project}"
        )

    def failure(self, ident: str, final: str) -> str:
        found = self._get(ident)
        return f"Dataproc batch {ident} ended {final}: {found.state_message if found else ''}"

    def overdue(self, ident: str, late: Overdue) -> str:
        """A batch is stopped by Dataproc itself at its ttl (at most job_timeout_s), so it is left alone."""
        return (
            f"Dataproc batch {ident} still {late.state} after {late.waited_s:.0f} s, past [dataproc] "
            f"job_timeout_s ({self.job_timeout_s:g} s). Not cancelled: Dataproc ends it at its ttl "
            f"([dataproc] batch_ttl_s, {self.batch_ttl_s:g} s after it starts); the next run re-attaches "
            f"while it runs. Batch: {self.tracking_url(ident)}"
        )
