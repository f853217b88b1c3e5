"""[dataproc] settings: a malformed one fails before anything is submitted, naming its key; properties,
deployment identity and the staging bucket reach the requests as configured."""

import json
from collections.abc import Iterator

import google.auth
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from lake.gcs import GcsLake
from runners.dataproc import DataprocJobRunner, DataprocServerlessRunner
from tasks.config import apply_environment
from tasks.context import current_runner
from tests.fake_dataproc import FakeDataproc, Resource
from tests.pipeline_helpers import luigi_config
from tests.test_dataproc_runners import ARGS, KEY, serverless_runner

CONNECTOR = {"spark.jars.packages": "com.google.cloud.bigdataoss:gcs-connector:hadoop3-2.2.26"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDataproc]:
    """The fake endpoint, and anonymous Application Default Credentials for the runners configured here."""
    monkeypatch.setattr(google.auth, "default", lambda *_, **__: (AnonymousCredentials(), "proj"))
    with FakeDataproc() as server:
        server.clusters["ol-cluster"] = Resource(states=["RUNNING"])
        yield server


def settings(fake: FakeDataproc, lake_root: str, runner: str = "dataproc", **dataproc: str) -> dict:
    """luigi.cfg sections for a Dataproc runner talking to the fake (poll_s small)."""
    base = {"project": "proj", "region": "europe-west1", "cluster": "ol-cluster", "endpoint": fake.url}
    return {
        "spark": {"runner": runner, "conf": json.dumps(CONNECTOR)},
        "lake": {"root": lake_root},
        "dataproc": {**base, "poll_s": "0.01", **dataproc},
    }


BAD_SETTINGS = [
    ("serverless", {"runtime_version": "9.9"}, r"\[dataproc\] runtime_version '9.9' is not a Serverless"),
    ("serverless", {"runtime_version": "3.0"}, r"\[dataproc\] runtime_version '3.0' runs Spark 4.0, but"),
    ("serverless", {"runtime_version": "2.2"}, r"\[dataproc\] runtime_version '2.2' is past its end of"),
    ("serverless", {"batch_ttl_s": "300"}, r"\[dataproc\] batch_ttl_s 300 is outside Dataproc's 600-1209600"),
    ("serverless", {"batch_ttl_s": "7200", "job_timeout_s": "3600"},
     r"\[dataproc\] batch_ttl_s 7200 is longer than \[dataproc\] job_timeout_s 3600"),
    ("dataproc", {"job_timeout_s": "0"}, r"\[dataproc\] job_timeout_s must be positive"),
    ("dataproc", {"id_prefix": "Laptop"}, r"\[dataproc\] id_prefix 'Laptop' must be 1-16 lowercase"),
    ("serverless", {"id_prefix": "1st"}, r"\[dataproc\] id_prefix '1st' must be"),
    ("dataproc", {"id_prefix": "a" * 17}, r"\[dataproc\] id_prefix 'a{17}' must be"),
    ("dataproc", {"id_prefix": "laptop-"}, r"\[dataproc\] id_prefix 'laptop-' must be"),
    ("dataproc", {"cluster_labels": '{"App": "openlibrary"}'}, r"\[dataproc\] cluster_labels: label key"),
    ("dataproc", {"cluster_labels": '{"app": "Open Library"}'},
     r"\[dataproc\] cluster_labels: label 'app' has value 'Open Library'"),
    ("dataproc", {"properties": '{"spark.executor.memory": 8}'}, r"\[dataproc\] properties: 'spark\."),
    ("serverless", {"properties": '{"": "x"}'}, r"\[dataproc\] properties: '': 'x' is not a Spark property"),
    ("dataproc", {"cluster": "OL_cluster"}, r"\[dataproc\] cluster 'OL_cluster' is not a Dataproc cluster"),
]  # fmt: skip


@pytest.mark.parametrize(("runner", "bad", "message"), BAD_SETTINGS, ids=[str(b) for _, b, _ in BAD_SETTINGS])
def test_a_malformed_setting_fails_before_anything_is_submitted(
    fake: FakeDataproc, tmp_path, runner: str, bad: dict, message: str
) -> None:
    with luigi_config(settings(fake, str(tmp_path), runner, **bad)), pytest.raises(ValueError, match=message):
        current_runner().run("transform_dump", ARGS, job_key=KEY)
    assert fake.requests == []


def test_the_laptops_spark_conf_stays_local_and_dataproc_properties_reach_the_job(
    fake: FakeDataproc, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPROC_PROPERTIES", '{"spark.executor.memory": "8g"}')
    with luigi_config(settings(fake, str(tmp_path), properties="")):
        apply_environment()
        current_runner().run("transform_dump", ARGS, job_key=KEY)
    (submit,) = fake.submissions()
    assert submit.body["job"]["pysparkJob"]["properties"] == {
        "spark.sql.session.timeZone": "UTC", "spark.executor.memory": "8g",
    }  # fmt: skip


def test_two_lakes_in_one_project_never_share_a_job(fake: FakeDataproc, tmp_path) -> None:
    ids = []
    for lake in ("laptop-lake", "gs-lake-of-the-vm"):
        with luigi_config(settings(fake, str(tmp_path / lake))):
            runner = current_runner()
            runner.run("transform_dump", ARGS, job_key=KEY)
        ids.append(fake.submissions()[-1].body["job"]["reference"]["jobId"])
        fake.jobs[ids[-1]].states = ["RUNNING"]  # still running when the other deployment runs the task
    assert len(set(ids)) == 2 and len(fake.submissions()) == 2  # the second did not re-attach to the first


def test_an_id_prefix_names_the_deployment(fake: FakeDataproc, tmp_path) -> None:
    for runner_name in ("dataproc", "serverless"):
        with luigi_config(settings(fake, str(tmp_path), runner_name, id_prefix="vm-prod")):
            runner = current_runner()
            assert isinstance(runner, DataprocJobRunner | DataprocServerlessRunner)
            runner.run("build_marts", [], job_key=KEY)
    job, batch = fake.submissions()
    assert job.body["job"]["reference"]["jobId"].startswith("vm-prod-TransformDump_works_2026_10_31_")
    assert batch.query["batchId"][0].startswith("vm-prod-transformdump-works-2026-10-31-")


def test_a_batch_is_staged_in_the_staging_lakes_bucket(
    fake: FakeDataproc, tmp_path, gcs: storage.Client
) -> None:
    gcs.create_bucket("ol-staging-lake")
    staging = GcsLake("gs://ol-staging-lake/lake", client=gcs)
    serverless_runner(fake, tmp_path, staging=staging).run("build_marts", [], job_key=KEY)
    (create,) = fake.submissions()
    execution = create.body["environmentConfig"]["executionConfig"]
    assert execution == {
        "serviceAccount": "spark@proj.iam.gserviceaccount.com", "stagingBucket": "ol-staging-lake",
        "ttl": "14400s",
    }  # fmt: skip
    assert create.body["pysparkBatch"]["mainPythonFileUri"].startswith("gs://ol-staging-lake/lake/_staging/")
