"""Runners launch one Spark job (a file of spark/) and return when it is done, or raise with its error."""

from typing import Any

from lake import Lake
from runners.base import SparkJobError, SparkRunner
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

    `lake` is where the outputs go (the local runner checks Spark can reach it); `dataproc` holds the
    [dataproc] settings, with `staging` the lake that receives the job files.
    """
    if name == "local":
        return LocalSparkRunner(
            master=master, driver_memory=driver_memory, conf=conf, connector=lake.spark_connector
        )
    if name in ("dataproc", "serverless"):
        from runners.dataproc import DataprocJobRunner, DataprocServerlessRunner  # needs the Google clients

        settings = dict(dataproc or {})
        staging = settings.pop("staging", None) or lake
        common = {
            "project": settings["project"],
            "region": settings["region"],
            "staging": staging,
            "endpoint": settings.get("endpoint") or None,
            "poll_s": float(settings.get("poll_s", 15.0)),
            "properties": conf,
        }
        if name == "dataproc":
            return DataprocJobRunner(
                cluster=settings["cluster"], cluster_config=settings.get("cluster_config"),
                cluster_labels=settings.get("cluster_labels"), **common,
            )  # fmt: skip
        return DataprocServerlessRunner(
            runtime_version=settings.get("runtime_version", "2.2"),
            service_account=settings.get("service_account", ""),
            subnetwork=settings.get("subnetwork", ""),
            **common,
        )
    raise ValueError(f"unknown [spark] runner {name!r}: expected local, dataproc or serverless")


__all__ = ["LocalSparkRunner", "SparkJobError", "SparkRunner", "make_runner"]
