"""What the tasks are wired to, as configuration chooses it: the lake and the Spark runner."""

from lake import Lake, open_lake
from runners import SparkRunner, make_runner
from tasks import config


def current_lake() -> Lake:
    settings = config.lake()
    return open_lake(settings.root, upload_chunk_bytes=settings.upload_chunk_kib * 1024)


def current_runner() -> SparkRunner:
    settings = config.spark()
    return make_runner(
        settings.runner,
        master=settings.master,
        driver_memory=settings.driver_memory,
        conf=dict(settings.conf),
    )
