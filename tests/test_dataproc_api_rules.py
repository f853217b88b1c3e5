"""The fake Dataproc endpoint refuses what the real API refuses: one request per documented rule, sent
through the real client (google-cloud-dataproc, REST transport), answered 400 INVALID_ARGUMENT.

Over REST, google-api-core raises a 400 as exceptions.BadRequest whatever its status (InvalidArgument, a
subclass of it, is what the gRPC transport raises): the tests check the class and the status in the body.
"""

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import dataproc_v1

from tests.fake_dataproc import FakeDataproc
from tests.fake_dataproc_rules import RULES

REQUEST_ID = "0123456789_abcdefghij-ABCDEFGHIJ_-_-_-_-"  # 40 characters of every allowed kind
LABELS = {"pipeline": "openlibrary", "job": "transform-dump", "empty": ""}
VALID = {
    "submit_job": {
        "project_id": "proj", "region": "europe-west1", "request_id": REQUEST_ID,
        "job": {
            "reference": {"job_id": "A" * 100},
            "placement": {"cluster_name": "ol-cluster"},
            "pyspark_job": {"main_python_file_uri": "gs://bucket/_staging/v/transform_dump.py"},
            "labels": {f"k{i}": "v" for i in range(32)},
        },
    },
    "create_batch": {
        "parent": "projects/proj/locations/europe-west1", "batch_id": "b" * 63, "request_id": "r" * 40,
        "batch": {
            "pyspark_batch": {"main_python_file_uri": "gs://bucket/_staging/v/build_marts.py"},
            "runtime_config": {"version": "2.3"},
            "environment_config": {
                "execution_config": {"ttl": {"seconds": 600}, "staging_bucket": "my-lake.bucket_1"}
            },
            "labels": LABELS,
        },
    },
    "create_cluster": {
        "project_id": "proj", "region": "europe-west1", "request_id": "c" * 40,
        "cluster": {"project_id": "proj", "cluster_name": "o" + "l" * 50, "labels": LABELS},
    },
}  # fmt: skip

# (method, the field refused, where in the request, the bad value; None: the field left out)
BAD = [
    ("submit_job", "request_id", ("request_id",), "x" * 41),
    ("submit_job", "request_id", ("request_id",), "not a uuid"),
    ("submit_job", "job", ("job",), None),
    ("submit_job", "job.reference.job_id", ("job", "reference", "job_id"), "j" * 101),
    ("submit_job", "job.reference.job_id", ("job", "reference", "job_id"), "task.id"),
    ("submit_job", "job.placement", ("job", "placement"), None),
    ("submit_job", "job.placement.cluster_name", ("job", "placement"), {"cluster_uuid": "u"}),
    ("submit_job", "job.pyspark_job.main_python_file_uri", ("job", "pyspark_job"), {"args": ["x"]}),
    ("submit_job", "job.pyspark_job.main_python_file_uri", ("job", "pyspark_job", "main_python_file_uri"),
     "gs://bucket/job.zip"),
    ("submit_job", "job.labels", ("job", "labels"), {"Pipeline": "openlibrary"}),
    ("submit_job", "job.labels", ("job", "labels"), {"job": "transform_dump"}),
    ("submit_job", "job.labels", ("job", "labels"), {"job": "2026-10-31"}),
    ("submit_job", "job.labels", ("job", "labels"), {"k" * 64: "v"}),
    ("submit_job", "job.labels", ("job", "labels"), {f"k{i}": "v" for i in range(33)}),
    ("create_batch", "batch_id", ("batch_id",), "abc"),
    ("create_batch", "batch_id", ("batch_id",), "b" * 64),
    ("create_batch", "batch_id", ("batch_id",), "Upper-case-id"),
    ("create_batch", "batch_id", ("batch_id",), "9-starts-with-a-digit"),
    ("create_batch", "batch_id", ("batch_id",), "ends-with-a-hyphen-"),
    ("create_batch", "request_id", ("request_id",), "r" * 41),
    ("create_batch", "batch", ("batch",), None),
    ("create_batch", "batch.pyspark_batch.main_python_file_uri",
     ("batch", "pyspark_batch", "main_python_file_uri"), "gs://bucket/build_marts.txt"),
    ("create_batch", "batch.labels", ("batch", "labels"), {"-key": "v"}),
    ("create_batch", "batch.runtime_config.version", ("batch", "runtime_config", "version"), "2.5"),
    ("create_batch", "batch.environment_config.execution_config.ttl",
     ("batch", "environment_config", "execution_config", "ttl"), {"seconds": 599}),
    ("create_batch", "batch.environment_config.execution_config.ttl",
     ("batch", "environment_config", "execution_config", "ttl"), {"seconds": 14 * 24 * 3600 + 1}),
    ("create_batch", "batch.environment_config.execution_config.staging_bucket",
     ("batch", "environment_config", "execution_config", "staging_bucket"), "gs://my-lake"),
    ("create_cluster", "request_id", ("request_id",), "c" * 41),
    ("create_cluster", "cluster.project_id", ("cluster", "project_id"), None),
    ("create_cluster", "cluster.cluster_name", ("cluster", "cluster_name"), None),
    ("create_cluster", "cluster.cluster_name", ("cluster", "cluster_name"), "o" + "l" * 51),
    ("create_cluster", "cluster.cluster_name", ("cluster", "cluster_name"), "ol_cluster"),
    ("create_cluster", "cluster.cluster_name", ("cluster", "cluster_name"), "ol-cluster-"),
    ("create_cluster", "cluster.labels", ("cluster", "labels"), {"app": "Openlibrary"}),
]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeDataproc]:
    with FakeDataproc() as server:
        yield server


def send(fake: FakeDataproc, method: str, request: dict[str, Any]) -> Any:
    """One call of `method` through the real client, over REST to the fake."""
    settings = {"client_options": ClientOptions(api_endpoint=fake.url), "credentials": AnonymousCredentials()}
    service = {
        "submit_job": dataproc_v1.JobControllerClient,
        "create_batch": dataproc_v1.BatchControllerClient,
        "create_cluster": dataproc_v1.ClusterControllerClient,
    }[method]
    return getattr(service(transport="rest", **settings), method)(request=request, retry=None)


def with_value(request: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("method", sorted(VALID))
def test_a_request_within_every_rule_is_accepted(fake: FakeDataproc, method: str) -> None:
    send(fake, method, VALID[method])
    assert len(fake.jobs) + len(fake.batches) + len(fake.clusters) == 1


@pytest.mark.parametrize(
    ("method", "field", "path", "value"), BAD, ids=[f"{m}-{f}-{v!r:.30}" for m, f, _, v in BAD]
)
def test_a_request_breaking_a_rule_is_refused_as_the_api_does(
    fake: FakeDataproc, method: str, field: str, path: tuple[str, ...], value: Any
) -> None:
    with pytest.raises(exceptions.BadRequest) as refused:
        send(fake, method, with_value(VALID[method], path, value))
    assert refused.value.code == 400
    assert refused.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    (bad_request,) = refused.value.details
    assert bad_request["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert field in [violation["field"] for violation in bad_request["fieldViolations"]]
    assert field in refused.value.message
    assert fake.jobs == fake.batches == fake.clusters == {}  # nothing was created


def test_every_rule_has_a_refused_request() -> None:
    assert {(rule.method, rule.field) for rule in RULES} == {(method, field) for method, field, _, _ in BAD}
