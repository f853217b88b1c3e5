"""What the Dataproc v1 API refuses with 400 INVALID_ARGUMENT, written from its documentation.

One table: each rule names the request field (as a proto path), the check, and where the rule is
documented. The sources are google-cloud-dataproc's type docs (dataproc_v1/types/*.py, generated from the
API's protos), the REST reference (cloud.google.com/dataproc/docs/reference/rest/v1) and the Serverless
runtime version page. Not from what the runners send: tests/test_dataproc_api_rules.py sends a request
breaking each rule through the real client and sees it refused.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MISSING = object()  # a field the request does not have

_REQUEST_ID = re.compile(r"[a-zA-Z0-9_-]{1,40}")
_JOB_ID = re.compile(r"[a-zA-Z0-9_-]{1,100}")
# batch ids: 4-63 characters of /[a-z][0-9]-/; a resource id also starts with a letter and ends with a
# letter or digit (AIP-122 "resource ID segments", RFC 1034), which the stricter fake requires too.
_BATCH_ID = re.compile(r"[a-z][a-z0-9-]{2,61}[a-z0-9]")
_CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]{0,49}[a-z0-9])?")
_RFC1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
_DURATION = re.compile(r"(\d+)(\.\d{1,9})?s")
# Runtimes still available (supported, or within the two years after end of support) on 2026-12-03:
# "Serverless for Apache Spark runtime versions" (1.2 and 2.2 LTS supported until 2026-09-30, available
# until 2028-09-30; 2.3 LTS and 3.0 supported).
AVAILABLE_RUNTIMES = {"1.2", "2.2", "2.3", "3.0"}
MAX_LABELS = 32


def _labels_ok(labels: Any) -> bool:
    """Keys 1-63 characters conforming to RFC 1035; values empty or 1-63 characters conforming to RFC 1035;
    no more than 32 labels (Job.labels, Batch.labels, Cluster.labels)."""
    if labels is MISSING:
        return True
    return len(labels) <= MAX_LABELS and all(
        _RFC1035.fullmatch(key) and (value == "" or _RFC1035.fullmatch(value))
        for key, value in labels.items()
    )


def _ttl_ok(ttl: Any) -> bool:
    """ExecutionConfig.ttl: a JSON Duration ("3600s"), minimum 10 minutes, maximum 14 days."""
    if ttl is MISSING:
        return True
    match = _DURATION.fullmatch(ttl)
    return bool(match) and 600 <= float(match[1] + (match[2] or "")) <= 14 * 24 * 3600


def _python_file(config: dict[str, Any]) -> bool:
    """PySparkJob / PySparkBatch main_python_file_uri: "Required. ... Must be a .py file"."""
    return str(config.get("mainPythonFileUri", "")).endswith(".py")


def optional(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: value is MISSING or bool(pattern.fullmatch(value))


def required(value: Any) -> bool:
    return value is not MISSING and value not in ("", {}, [])


@dataclass(frozen=True)
class Rule:
    method: str  # submit_job | create_batch | create_cluster
    field: str  # the request field, as the error's fieldViolations name it
    where: str  # "query" (a query parameter) or "body", then the camelCase JSON path below it
    path: tuple[str, ...]
    valid: Callable[[Any], bool]
    description: str
    source: str


RULES: tuple[Rule, ...] = (
    # --- jobs.submit: POST /v1/projects/{projectId}/regions/{region}/jobs:submit
    Rule("submit_job", "request_id", "body", ("requestId",), optional(_REQUEST_ID),
         "must contain only letters, numbers, underscores and hyphens, at most 40 characters",
         "dataproc_v1/types/jobs.py SubmitJobRequest.request_id"),
    Rule("submit_job", "job", "body", ("job",), required, "is required",
         "dataproc_v1/types/jobs.py SubmitJobRequest.job (Required)"),
    Rule("submit_job", "job.reference.job_id", "body", ("job", "reference", "jobId"), optional(_JOB_ID),
         "must contain only letters, numbers, underscores or hyphens, at most 100 characters",
         "dataproc_v1/types/jobs.py JobReference.job_id"),
    Rule("submit_job", "job.placement", "body", ("job", "placement"), required, "is required",
         "dataproc_v1/types/jobs.py Job.placement (Required)"),
    Rule("submit_job", "job.placement.cluster_name", "body", ("job", "placement", "clusterName"), required,
         "is required", "dataproc_v1/types/jobs.py JobPlacement.cluster_name (Required)"),
    Rule("submit_job", "job.pyspark_job.main_python_file_uri", "body",
         ("job", "pysparkJob"), lambda job: job is MISSING or _python_file(job),
         "is required and must be a .py file", "dataproc_v1/types/jobs.py PySparkJob.main_python_file_uri"),
    Rule("submit_job", "job.labels", "body", ("job", "labels"), _labels_ok,
         "keys and values must conform to RFC 1035 (1-63 characters; values may be empty), at most 32",
         "dataproc_v1/types/jobs.py Job.labels"),
    # --- batches.create: POST /v1/projects/{project}/locations/{location}/batches?batchId=&requestId=
    Rule("create_batch", "batch_id", "query", ("batchId",), optional(_BATCH_ID),
         "must be 4-63 characters of /[a-z][0-9]-/, starting with a letter, ending with a letter or digit",
         "dataproc_v1/types/batches.py CreateBatchRequest.batch_id; AIP-122"),
    Rule("create_batch", "request_id", "query", ("requestId",), optional(_REQUEST_ID),
         "must contain only letters, numbers, underscores and hyphens, at most 40 characters",
         "dataproc_v1/types/batches.py CreateBatchRequest.request_id"),
    Rule("create_batch", "batch", "body", (), required, "is required",
         "dataproc_v1/types/batches.py CreateBatchRequest.batch (Required)"),
    Rule("create_batch", "batch.pyspark_batch.main_python_file_uri", "body",
         ("pysparkBatch",), lambda batch: batch is MISSING or _python_file(batch),
         "is required and must be a .py file",
         "dataproc_v1/types/batches.py PySparkBatch.main_python_file_uri"),
    Rule("create_batch", "batch.labels", "body", ("labels",), _labels_ok,
         "keys and values must conform to RFC 1035 (1-63 characters; values may be empty), at most 32",
         "dataproc_v1/types/batches.py Batch.labels"),
    Rule("create_batch", "batch.runtime_config.version", "body", ("runtimeConfig", "version"),
         lambda version: version is MISSING or version in AVAILABLE_RUNTIMES,
         "is not an available runtime version",
         "Serverless for Apache Spark runtime versions (supported and available-until tables)"),
    Rule("create_batch", "batch.environment_config.execution_config.ttl", "body",
         ("environmentConfig", "executionConfig", "ttl"), _ttl_ok,
         "must be a duration from 10 minutes to 14 days", "dataproc_v1/types/shared.py ExecutionConfig.ttl"),
    Rule("create_batch", "batch.environment_config.execution_config.staging_bucket", "body",
         ("environmentConfig", "executionConfig", "stagingBucket"), optional(_BUCKET_NAME),
         "requires a Cloud Storage bucket name, not a gs://... URI",
         "dataproc_v1/types/shared.py ExecutionConfig.staging_bucket"),
    # --- clusters.create: POST /v1/projects/{projectId}/regions/{region}/clusters?requestId=
    Rule("create_cluster", "request_id", "query", ("requestId",), optional(_REQUEST_ID),
         "must contain only letters, numbers, underscores and hyphens, at most 40 characters",
         "dataproc_v1/types/clusters.py CreateClusterRequest.request_id"),
    Rule("create_cluster", "cluster.project_id", "body", ("projectId",), required, "is required",
         "dataproc_v1/types/clusters.py Cluster.project_id (Required)"),
    Rule("create_cluster", "cluster.cluster_name", "body", ("clusterName",),
         lambda name: name is not MISSING and bool(_CLUSTER_NAME.fullmatch(name)),
         "is required: a lowercase letter, then up to 51 lowercase letters, numbers and hyphens, not ending "
         "with a hyphen", "dataproc_v1/types/clusters.py Cluster.cluster_name"),
    Rule("create_cluster", "cluster.labels", "body", ("labels",), _labels_ok,
         "keys and values must conform to RFC 1035 (1-63 characters; values may be empty), at most 32",
         "dataproc_v1/types/clusters.py Cluster.labels"),
)  # fmt: skip


def _lookup(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict) or key not in document:
            return MISSING
        document = document[key]
    return MISSING if document is None else document


def violations(method: str, query: dict[str, list[str]], body: Any) -> list[dict[str, str]]:
    """The BadRequest fieldViolations of a request (empty: the API would accept it)."""
    found = []
    for rule in RULES:
        if rule.method != method:
            continue
        source = {key: values[0] for key, values in query.items()} if rule.where == "query" else body
        if not rule.valid(_lookup(source, rule.path) if rule.path else (source or MISSING)):
            found.append({"field": rule.field, "description": f"{rule.field} {rule.description}"})
    return found
