"""Checks of the [dataproc] settings, made before anything is submitted: each error names its key.

The rules are Dataproc's documented ones (google-cloud-dataproc's type docs, the REST reference and the
Serverless runtime version pages), so a malformed setting fails here, not as a 400 in the middle of a run.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version as installed_version
from typing import Any


@dataclass(frozen=True)
class Runtime:
    """A Serverless runtime version: the Spark and Python it runs and its documented end of support."""

    spark: str
    python: str
    supported_until: date


# "Serverless for Apache Spark runtime versions" (cloud.google.com/dataproc-serverless/docs/concepts/
# versions/spark-runtime-versions, 2026 edition): supported until (then available two more years).
RUNTIMES = {
    "3.0": Runtime(spark="4.0", python="3.12", supported_until=date(2027, 1, 31)),
    "2.3": Runtime(spark="3.5", python="3.11", supported_until=date(2027, 11, 26)),
    "2.2": Runtime(spark="3.5", python="3.12", supported_until=date(2026, 9, 30)),
    "1.2": Runtime(spark="3.5", python="3.12", supported_until=date(2026, 9, 30)),
}
PYSPARK = installed_version("pyspark")
PINNED_SPARK = ".".join(PYSPARK.split(".")[:2])

# Label keys and values (Job.labels, Batch.labels, Cluster.labels in dataproc_v1/types): keys 1-63
# characters conforming to RFC 1035, values empty or 1-63 characters conforming to RFC 1035, at most 32
# labels. RFC 1035 labels start with a letter and end with a letter or digit; Google labels are lowercase.
_RFC1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
MAX_LABELS = 32
# The id prefix goes into job ids and batch ids, so it follows the stricter batch id rules (lowercase
# letters, digits and hyphens; starting with a letter, not ending with a hyphen), short enough for both.
_ID_PREFIX = re.compile(r"[a-z]([-a-z0-9]{0,14}[a-z0-9])?")
# ExecutionConfig.ttl: "Minimum value is 10 minutes; maximum value is 14 days" (dataproc_v1/types/shared.py).
MIN_TTL_S, MAX_TTL_S = 600, 14 * 24 * 3600


def check_runtime(version: str, today: date | None = None) -> Runtime:
    """The runtime `version` names, if Dataproc supports it today and it runs the pinned pyspark's Spark."""
    today = today or date.today()
    usable = ", ".join(
        name for name, known in sorted(RUNTIMES.items())
        if known.spark == PINNED_SPARK and today <= known.supported_until
    )  # fmt: skip
    runtime = RUNTIMES.get(version)
    known = ", ".join(sorted(RUNTIMES))
    if runtime is None:
        raise ValueError(f"[dataproc] runtime_version {version!r} is not a Serverless runtime ({known})")
    if runtime.spark != PINNED_SPARK:
        raise ValueError(
            f"[dataproc] runtime_version {version!r} runs Spark {runtime.spark}, but the jobs are tested "
            f"with pyspark {PYSPARK}: use {usable}"
        )
    if today > runtime.supported_until:
        raise ValueError(
            f"[dataproc] runtime_version {version!r} is past its end of support "
            f"({runtime.supported_until.isoformat()}): use {usable}"
        )
    return runtime


def check_id_prefix(prefix: str) -> str:
    """`prefix` when it can start every job and batch id (empty: none given)."""
    if prefix and not _ID_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"[dataproc] id_prefix {prefix!r} must be 1-16 lowercase letters, digits and hyphens, starting "
            "with a letter and not ending with a hyphen (it starts every job and batch id)"
        )
    return prefix


def check_labels(labels: Mapping[str, Any], key: str) -> dict[str, str]:
    """`labels` as Dataproc accepts them, or ValueError naming the [dataproc] `key` and the bad label."""
    if len(labels) > MAX_LABELS:
        raise ValueError(f"[dataproc] {key} has {len(labels)} labels; Dataproc allows at most {MAX_LABELS}")
    for name, value in labels.items():
        if not isinstance(name, str) or not _RFC1035.fullmatch(name):
            raise ValueError(
                f"[dataproc] {key}: label key {name!r} must be 1-63 lowercase letters, digits and hyphens, "
                "starting with a letter and ending with a letter or digit (RFC 1035)"
            )
        if not isinstance(value, str) or (value and not _RFC1035.fullmatch(value)):
            raise ValueError(
                f"[dataproc] {key}: label {name!r} has value {value!r}; a value is empty or 1-63 lowercase "
                "letters, digits and hyphens, starting with a letter and ending with a letter or digit"
            )
    return dict(labels)


def check_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """Spark properties for Dataproc (a map of strings to strings), or ValueError naming the key."""
    for name, value in properties.items():
        if not (isinstance(name, str) and name.strip()) or not isinstance(value, str):
            raise ValueError(
                f"[dataproc] properties: {name!r}: {value!r} is not a Spark property; give a JSON object of "
                'strings, e.g. {"spark.executor.memory": "8g"}'
            )
    return dict(properties)


def check_timeouts(job_timeout_s: float, batch_ttl_s: float) -> None:
    """The overall job deadline and the batch TTL Dataproc enforces: the TTL within Dataproc's bounds, and
    no longer than the deadline (so a batch is stopped by Dataproc before the task gives up on it)."""
    if job_timeout_s <= 0:
        raise ValueError(f"[dataproc] job_timeout_s must be positive, not {job_timeout_s}")
    if not MIN_TTL_S <= batch_ttl_s <= MAX_TTL_S:
        raise ValueError(
            f"[dataproc] batch_ttl_s {batch_ttl_s:g} is outside Dataproc's {MIN_TTL_S}-{MAX_TTL_S} s"
        )
    if batch_ttl_s > job_timeout_s:
        raise ValueError(
            f"[dataproc] batch_ttl_s {batch_ttl_s:g} is longer than [dataproc] job_timeout_s "
            f"{job_timeout_s:g}: the task would give up before Dataproc stops the batch"
        )


# Cluster.cluster_name: "must start with a lowercase letter, and can contain up to 51 lowercase letters,
# numbers, and hyphens. It cannot end with a hyphen" (dataproc_v1/types/clusters.py).
_CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]{0,49}[a-z0-9])?")


def check_cluster_name(name: str) -> str:
    if not _CLUSTER_NAME.fullmatch(name):
        raise ValueError(
            f"[dataproc] cluster {name!r} is not a Dataproc cluster name: a lowercase letter, then up to 50 "
            "lowercase letters, digits and hyphens, not ending with a hyphen"
        )
    return name
