"""Retries and time limits of the Dataproc calls: the client's own defaults kept, 429/503 added, a timeout on
every attempt, and one request id across a submit's retries."""

import inspect

import pytest
import requests
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import dataproc_v1

from runners.dataproc_calls import DEFAULTS, call_options
from runners.staging import job_id
from tests.fake_dataproc import FakeDataproc
from tests.test_dataproc_runners import ARGS, KEY, PREFIX, cluster_runner, serverless_runner

CLIENTS = {
    "submit_job": dataproc_v1.JobControllerClient,
    "get_job": dataproc_v1.JobControllerClient,
    "cancel_job": dataproc_v1.JobControllerClient,
    "create_cluster": dataproc_v1.ClusterControllerClient,
    "get_cluster": dataproc_v1.ClusterControllerClient,
    "create_batch": dataproc_v1.BatchControllerClient,
    "get_batch": dataproc_v1.BatchControllerClient,
}
ERRORS = [
    cls(message="x")
    for cls in vars(exceptions).values()
    if inspect.isclass(cls) and issubclass(cls, exceptions.GoogleAPICallError) and not inspect.isabstract(cls)
]


def library_default(method: str):
    """The client library's own wrapped method for `method`: its default retry and timeout."""
    client = CLIENTS.get(method, dataproc_v1.ClusterControllerClient)(
        transport="rest", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint="x")
    )
    transport = client._transport  # the defaults live only there (_prep_wrapped_messages)
    if method == "get_operation":  # the operations client of a create's long-running operation
        transport = transport.operations_client._transport
    return transport._wrapped_methods[getattr(transport, method)]


@pytest.mark.parametrize("method", sorted(DEFAULTS))
def test_each_call_keeps_the_librarys_retry_and_adds_429_503_and_dropped_connections(method: str) -> None:
    wrapped, options = library_default(method), call_options(method)
    ours = options["retry"]
    if wrapped._retry is not None:
        retried = [error for error in ERRORS if wrapped._retry._predicate(error)]
        assert retried, "the library retries something"
        assert all(ours._predicate(error) for error in retried)
        assert ours._timeout == wrapped._retry._timeout == DEFAULTS[method].deadline_s
    added = [
        exceptions.TooManyRequests("x"), exceptions.ServiceUnavailable("x"),
        requests.exceptions.ConnectionError(), requests.exceptions.ReadTimeout(),
    ]  # fmt: skip
    assert all(ours._predicate(error) for error in added)
    assert not ours._predicate(exceptions.BadRequest("x")) and not ours._predicate(exceptions.NotFound("x"))
    assert options["timeout"] > 0  # also where the library has none (the batch calls)


def test_the_defaults_table_names_what_the_library_retries() -> None:
    for method in DEFAULTS:
        wrapped = library_default(method)
        expected = {type(e) for e in ERRORS if wrapped._retry and wrapped._retry._predicate(e)}
        assert {
            type(e) for e in ERRORS if any(isinstance(e, t) for t in DEFAULTS[method].retried)
        } == expected


def test_a_poll_that_hangs_past_the_call_timeout_is_retried(tmp_path) -> None:
    with FakeDataproc() as fake:
        fake.delays_on = {"GET": [0, 0, 3.0]}  # the cluster, the job lookup, then the first status poll hangs
        cluster_runner(fake, tmp_path, call_timeout_s=0.5).run("transform_dump", ARGS, job_key=KEY)
    polls = [r.path for r in fake.requests if r.method == "GET" and "/jobs/" in r.path]
    assert len(polls) == 4  # exists? + the hung poll + its retry + DONE
    assert len(fake.submissions()) == 1


def test_a_submit_whose_answer_is_late_is_retried_with_its_request_id_and_makes_one_job(tmp_path) -> None:
    with FakeDataproc() as fake:
        fake.delays_on = {"POST": [2.0]}  # the first submit is answered after the client gave up on it
        cluster_runner(fake, tmp_path, call_timeout_s=0.5).run("transform_dump", ARGS, job_key=KEY)
    first, second = fake.submissions()
    assert first.body == second.body  # the same request id and job
    assert list(fake.jobs) == [job_id(KEY, 0, PREFIX)]


def test_a_batch_poll_answered_503_is_retried(tmp_path) -> None:
    with FakeDataproc() as fake:
        fake.faults_on = {"GET": [None, 503, 429]}
        serverless_runner(fake, tmp_path).run("build_marts", [], job_key=KEY)
        assert fake.faults_on == {"GET": []}
    assert len(fake.submissions()) == 1
