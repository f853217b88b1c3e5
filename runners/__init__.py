"""Runners launch one Spark job (a file of spark/) and return when it is done, or raise with its error."""

from typing import Any

from lake import Lake
from runners.base import SparkJobError, SparkRunner
from runners.dataproc_settings import check_id_prefix
from runners.local import LocalSparkRunner


def make_runner(
    name: str,
    *,
    master: str,
    driver_memory: str,
    conf: dict[str, str],
    lake: Lake,
    dataproc: dict[str, Any] | None = None,
) -> SparkRunner:
    """The runner called `name` in [spark] runner.

    `conf` ([spark] conf) is for local runs only; Dataproc jobs get `dataproc["properties"]` ([dataproc]
    properties) instead, so a laptop's connector settings never reach a cluster that has its own. `lake` is
    where the outputs go (the local runner checks Spark can reach it; its root names the deployment in
    Dataproc job ids unless [dataproc] id_prefix does); `dataproc` holds the [dataproc] settings, with
    `staging` the lake that receives the job files.
    """
    if name == "local":
        return LocalSparkRunner(
            master=master, driver_memory=driver_memory, conf=conf, connector=lake.spark_connector
        )
    if name in ("dataproc", "serverless"):
        from runners.dataproc import DataprocJobRunner, DataprocServerlessRunner  # needs the Google clients
        from runners.staging import deployment

        settings = dict(dataproc or {})
        staging = settings.pop("staging", None) or lake
        common = {
            "project": settings["project"],
            "region": settings["region"],
            "staging": staging,
            "endpoint": settings.get("endpoint") or None,
            "poll_s": float(settings.get("poll_s", 15.0)),
            "properties": settings.get("properties") or {},
            "id_prefix": check_id_prefix(settings.get("id_prefix", "")) or deployment(lake.root),
            **({"job_timeout_s": float(settings["job_timeout_s"])} if "job_timeout_s" in settings else {}),
        }
        if name == "dataproc":
            return DataprocJobRunner(
                cluster=settings["cluster"], cluster_config=settings.get("cluster_config"),
                cluster_labels=settings.get("cluster_labels"), **common,
            )  # fmt: skip
        optional = {key: settings[key] for key in ("runtime_version", "batch_ttl_s") if key in settings}
        return DataprocServerlessRunner(
            service_account=settings.get("service_account", ""),
            subnetwork=settings.get("subnetwork", ""),
            **optional,
            **common,
        )
    raise ValueError(f"unknown [spark] runner {name!r}: expected local, dataproc or serverless")


__all__ = ["LocalSparkRunner", "SparkJobError", "SparkRunner", "make_runner"]
