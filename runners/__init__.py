"""Runners launch one Spark job (a file of spark/) and return when it is done, or raise with its error."""

from dataclasses import dataclass
from typing import Any

from lake import Lake
from runners.base import SparkJobError, SparkRunner
from runners.dataproc_settings import check_id_prefix
from runners.local import LocalSparkRunner, short_job, spark_class_archive


@dataclass(frozen=True)
class LocalSettings:
    """[spark] as the local runner takes it. No defaults here: the configuration states them."""

    master: str
    driver_memory: str
    conf: dict[str, str]  # for local runs only: a laptop's connector settings never reach Dataproc
    class_archive: bool  # start the driver JVM from a CDS archive of Spark's classes (class_archive.py)
    short_job_mb: float  # a job over at most this many uncompressed MB is short (local.short_job); 0: none


@dataclass(frozen=True)
class DataprocSettings:
    """[dataproc] as the Dataproc runners take it. No defaults here: the configuration states them."""

    project: str
    region: str
    cluster: str
    cluster_config: dict[str, Any]  # empty: a missing cluster fails the job
    cluster_labels: dict[str, str]
    runtime_version: str
    batch_ttl_s: float
    job_timeout_s: float
    poll_s: float
    properties: dict[str, str]
    id_prefix: str  # empty: derived from the output lake's root
    service_account: str
    subnetwork: str
    endpoint: str  # empty: the region's
    staging: Lake | None  # None: the output lake


def make_runner(
    name: str,
    *,
    lake: Lake,
    local: LocalSettings,
    dataproc: DataprocSettings | None = None,
    input_bytes: int | None = None,
) -> SparkRunner:
    """The runner called `name` in [spark] runner, writing to `lake`, for a job over `input_bytes`
    uncompressed bytes (None: unknown).

    The local runner checks Spark can reach `lake`, and starts a short job's driver tuned for a short run;
    `lake`'s root names the deployment in Dataproc job ids unless [dataproc] id_prefix does. The Dataproc
    runners need `dataproc`.
    """
    if name == "local":
        archive = spark_class_archive() if local.class_archive else None
        return LocalSparkRunner(
            master=local.master, driver_memory=local.driver_memory, conf=local.conf,
            connector=lake.spark_connector, class_archive=archive,
            short=short_job(input_bytes, local.short_job_mb),
        )  # fmt: skip
    if name in ("dataproc", "serverless"):
        from runners.dataproc import DataprocJobRunner, DataprocServerlessRunner  # needs the Google clients
        from runners.staging import deployment

        if dataproc is None:
            raise ValueError(f"the {name} runner needs the [dataproc] settings")
        common = {
            "project": dataproc.project,
            "region": dataproc.region,
            "staging": dataproc.staging or lake,
            "endpoint": dataproc.endpoint or None,
            "poll_s": dataproc.poll_s,
            "properties": dataproc.properties,
            "id_prefix": check_id_prefix(dataproc.id_prefix) or deployment(lake.root),
            "job_timeout_s": dataproc.job_timeout_s,
        }
        if name == "dataproc":
            return DataprocJobRunner(
                cluster=dataproc.cluster, cluster_config=dataproc.cluster_config,
                cluster_labels=dataproc.cluster_labels, **common,
            )  # fmt: skip
        return DataprocServerlessRunner(
            runtime_version=dataproc.runtime_version, batch_ttl_s=dataproc.batch_ttl_s,
            service_account=dataproc.service_account, subnetwork=dataproc.subnetwork, **common,
        )  # fmt: skip
    raise ValueError(f"unknown [spark] runner {name!r}: expected local, dataproc or serverless")


__all__ = [
    "DataprocSettings",
    "LocalSettings",
    "LocalSparkRunner",
    "SparkJobError",
    "SparkRunner",
    "make_runner",
]
