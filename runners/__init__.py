"""Runners launch one Spark job (a file of spark/) and return when it is done, or raise with its error."""

from runners.base import SparkJobError, SparkRunner
from runners.local import LocalSparkRunner


def make_runner(
    name: str, *, master: str, driver_memory: str, conf: dict[str, str], connector: str | None = None
) -> SparkRunner:
    """The runner called `name` in [spark] runner; `connector` is the jar the lake needs Spark to have."""
    if name == "local":
        return LocalSparkRunner(master=master, driver_memory=driver_memory, conf=conf, connector=connector)
    raise ValueError(f"unknown [spark] runner {name!r}: expected 'local'")


__all__ = ["LocalSparkRunner", "SparkJobError", "SparkRunner", "make_runner"]
