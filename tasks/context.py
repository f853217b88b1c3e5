"""What the tasks are wired to, as configuration chooses it: the lake and the Spark runner."""

from luigi.freezing import recursively_unfreeze

from lake import Lake, open_lake
from runners import DataprocSettings, LocalSettings, SparkRunner, make_runner
from tasks import config


def lake_at(root: str) -> Lake:
    """The lake rooted at `root`, with the [lake] settings of its writes."""
    settings = config.lake()
    return open_lake(root, upload_chunk_bytes=settings.upload_chunk_kib * 1024, retry_s=settings.retry_s)


def current_lake() -> Lake:
    """The configured lake ([lake] root)."""
    return lake_at(config.lake().root)


def current_runner(lake: Lake | None = None, input_bytes: int | None = None) -> SparkRunner:
    """The configured Spark runner, for a job writing into `lake` (default: the configured lake) over
    `input_bytes` uncompressed bytes (None: unknown)."""
    settings = config.spark()
    dataproc = config.dataproc()
    lake = lake or current_lake()
    return make_runner(
        settings.runner,
        lake=lake,
        local=LocalSettings(
            master=settings.master,
            driver_memory=settings.driver_memory,
            conf=dict(settings.conf),
            class_archive=settings.class_archive,
            short_job_mb=settings.short_job_mb,
        ),
        dataproc=DataprocSettings(
            project=dataproc.project,
            region=dataproc.region,
            cluster=dataproc.cluster,
            cluster_config=recursively_unfreeze(dataproc.cluster_config),
            cluster_labels=recursively_unfreeze(dataproc.cluster_labels),
            runtime_version=dataproc.runtime_version,
            batch_ttl_s=dataproc.batch_ttl_s,
            job_timeout_s=dataproc.job_timeout_s,
            poll_s=dataproc.poll_s,
            properties=recursively_unfreeze(dataproc.properties),
            id_prefix=dataproc.id_prefix,
            service_account=dataproc.service_account,
            subnetwork=dataproc.subnetwork,
            endpoint=dataproc.endpoint,
            staging=open_lake(dataproc.staging) if dataproc.staging else None,
        ),
        input_bytes=input_bytes,
    )
