"""How a Dataproc run ends when it can't succeed: past its deadline, a cluster creation that failed, an id
taken where the runner can't see it. Against the fake endpoint, through the real client."""

import time

import pytest

from runners import SparkJobError
from runners.staging import batch_id, job_id
from tests.fake_dataproc import FakeDataproc, Resource
from tests.test_dataproc_runners import (
    ARGS,
    CLUSTER,
    CLUSTER_CONFIG,
    KEY,
    PREFIX,
    cluster_runner,
    serverless_runner,
)


@pytest.fixture
def fake() -> FakeDataproc:
    with FakeDataproc() as server:
        yield server


def test_a_cluster_job_past_job_timeout_is_cancelled_and_fails_saying_so(
    fake: FakeDataproc, tmp_path
) -> None:
    fake.running_polls = 10_000
    ident = job_id(KEY, 0, PREFIX)
    with pytest.raises(SparkJobError) as error:
        cluster_runner(fake, tmp_path, job_timeout_s=0.3).run("transform_dump", ARGS, job_key=KEY)
    message = str(error.value)
    assert f"Dataproc job {ident} still RUNNING after 0 s, past [dataproc] job_timeout_s (0.3 s)" in message
    assert "cancelled it; the next run submits a new attempt" in message
    assert f"https://console.cloud.google.com/dataproc/jobs/{ident}?project=proj" in message
    (cancel,) = fake.cancels()
    assert cancel.path == f"/v1/projects/proj/regions/europe-west1/jobs/{ident}:cancel"
    assert fake.jobs[ident].next_state() == "CANCELLED"
    assert len(fake.submissions()) == 1

    fake.running_polls = 1
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)  # the next run: a new attempt
    assert [r.body["job"]["reference"]["jobId"] for r in fake.submissions()] == [
        ident,
        job_id(KEY, 1, PREFIX),
    ]


def test_a_batch_past_job_timeout_fails_and_is_left_to_its_ttl(fake: FakeDataproc, tmp_path) -> None:
    fake.running_polls = 10_000
    ident = batch_id(KEY, 0, PREFIX)
    # the shortest ttl Dataproc takes is 600 s; the deadline is shortened after the runner checked both
    runner = serverless_runner(fake, tmp_path, job_timeout_s=900, batch_ttl_s=600)
    runner.job_timeout_s = 0.3
    with pytest.raises(SparkJobError, match=rf"batch {ident} still RUNNING .* ends it at its ttl .* 600 s"):
        runner.run("build_marts", [], job_key=KEY)
    assert fake.cancels() == [] and len(fake.submissions()) == 1


@pytest.mark.reliability(7)
def test_a_cluster_creation_that_fails_reports_the_operations_error_at_once(
    fake: FakeDataproc, tmp_path, fault
) -> None:
    quota = "Insufficient 'CPUS' quota. Requested 12.0, available 8.0."
    fake.cluster_create_error = (8, quota)  # RESOURCE_EXHAUSTED; the cluster itself stays CREATING
    runner = cluster_runner(fake, tmp_path, cluster_exists=False, cluster_config=CLUSTER_CONFIG)
    started = time.monotonic()
    with pytest.raises(
        SparkJobError, match=rf"creating Dataproc cluster {CLUSTER} failed: {quota} \(code 8\)"
    ):
        runner.run("transform_dump", ARGS, job_key=KEY)
    assert time.monotonic() - started < 10  # not after the 1800 s cluster wait
    (operation,) = fake.operations
    assert [r.path for r in fake.requests if "/operations/" in r.path] == [
        f"/v1/projects/proj/regions/europe-west1/operations/{operation}"
    ]
    assert fake.submissions() == []
    fault(
        "Dataproc cluster creation fails",
        injected="the fake endpoint ends the create-cluster operation with RESOURCE_EXHAUSTED (CPU quota) "
        "while the cluster still reports CREATING",
        result="the runner read the operation and failed the task at once with its error; no job submitted",
    )


def test_an_id_taken_in_another_region_fails_clearly(fake: FakeDataproc, tmp_path) -> None:
    ident = job_id(KEY, 0, PREFIX)
    fake.jobs[ident] = Resource(states=["RUNNING"], region="us-central1")  # job ids are unique per project
    with pytest.raises(SparkJobError, match=rf"refused job {ident} as existing \(.*\), yet it can't be read "
                       r"in proj/europe-west1: .* \[dataproc\] id_prefix"):  # fmt: skip
        cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    assert len(fake.submissions()) == 1


def test_a_submit_retried_after_429_and_then_reattached_makes_one_job(fake: FakeDataproc, tmp_path) -> None:
    """Across retries of a submit and a worker's restart, Dataproc gets one job."""
    fake.faults_on = {"POST": [429, 503]}
    fake.running_polls = 3
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    fake.jobs[job_id(KEY, 0, PREFIX)].states = ["RUNNING", "DONE"]  # as if the worker had died meanwhile
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    posts = fake.submissions()
    assert len(posts) == 3 and len({post.body["requestId"] for post in posts}) == 1
    assert list(fake.jobs) == [job_id(KEY, 0, PREFIX)]


def test_a_409_for_a_job_that_can_be_read_reattaches_to_it(fake: FakeDataproc, tmp_path) -> None:
    """An earlier submit went through after the lookup said no such job: the 409 leads to that job."""
    ident = job_id(KEY, 0, PREFIX)
    fake.jobs[ident] = Resource(states=["RUNNING", "DONE"], region="europe-west1")
    fake.faults_on = {"GET": [None, 404]}  # the cluster; then the job lookup, answered as before that submit
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    assert len(fake.submissions()) == 1 and list(fake.jobs) == [ident]
    assert fake.jobs[ident].next_state() == "DONE"
