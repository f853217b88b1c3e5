"""The Dataproc runners against a fake Dataproc REST endpoint: the real client, real HTTP, exact requests."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from lake import Lake, open_lake
from runners import SparkJobError
from runners.base import package_zip
from runners.dataproc import DataprocJobRunner, DataprocServerlessRunner
from runners.staging import batch_id, job_id
from tests.fake_dataproc import FakeDataproc, Resource

KEY = "TransformDump_works_2026_10_31_5243f5923f"
KEY_DIGEST = "6d374aea"  # `printf %s $KEY | sha1sum`, first 8 hex digits: the ids' hash part
PREFIX = "ol-test"  # [dataproc] id_prefix of the runners below
ARGS = ["--dump", "works", "--manifest", "gs://lake/raw/2026-10-31/works/_MANIFEST.json"]
JOB_TIMEOUT_S, BATCH_TTL_S = 21600.0, 14400.0  # [dataproc] job_timeout_s and batch_ttl_s of the runners below


@pytest.fixture
def fake() -> FakeDataproc:
    with FakeDataproc() as server:
        yield server


CLUSTER = "ol-cluster"
# A cluster config as terraform/compute renders it (Dataproc REST ClusterConfig, camelCase).
CLUSTER_CONFIG = {
    "gceClusterConfig": {
        "zoneUri": "europe-west1-b", "internalIpOnly": True,
        "subnetworkUri": "projects/proj/regions/europe-west1/subnetworks/openlibrary",
        "serviceAccount": "dataproc@proj.iam.gserviceaccount.com",
    },
    "masterConfig": {"numInstances": 1, "machineTypeUri": "n2-standard-4"},
    "workerConfig": {"numInstances": 2, "machineTypeUri": "n2-standard-4"},
    "softwareConfig": {"imageVersion": "2.2-debian12"},
    "lifecycleConfig": {"idleDeleteTtl": "3600s"},
}  # fmt: skip


def cluster_runner(
    fake: FakeDataproc, tmp_path, cluster_exists: bool = True, cluster_config: dict | None = None,
    cluster_labels: dict | None = None, **settings: float,
) -> DataprocJobRunner:  # fmt: skip
    """A cluster runner talking to the fake; its cluster exists and is RUNNING unless said otherwise."""
    if cluster_exists:
        fake.clusters.setdefault(CLUSTER, Resource(states=["RUNNING"]))
    settings.setdefault("job_timeout_s", JOB_TIMEOUT_S)
    return DataprocJobRunner(
        "proj", "europe-west1", CLUSTER, staging=open_lake(str(tmp_path / "lake")), endpoint=fake.url,
        poll_s=0.01, credentials=AnonymousCredentials(), properties={"spark.executor.memory": "4g"},
        cluster_config=cluster_config, cluster_labels=cluster_labels, id_prefix=PREFIX, **settings,
    )  # fmt: skip


def serverless_runner(
    fake: FakeDataproc, tmp_path, staging: Lake | None = None, **settings: float
) -> DataprocServerlessRunner:
    settings = {"job_timeout_s": JOB_TIMEOUT_S, "batch_ttl_s": BATCH_TTL_S, **settings}
    return DataprocServerlessRunner(
        "proj", "europe-west1", staging=staging or open_lake(str(tmp_path / "lake")), runtime_version="2.3",
        service_account="spark@proj.iam.gserviceaccount.com", endpoint=fake.url, poll_s=0.01,
        credentials=AnonymousCredentials(), id_prefix=PREFIX, **settings,
    )  # fmt: skip


def test_a_cluster_job_is_submitted_with_the_staged_files_and_awaited(fake: FakeDataproc, tmp_path) -> None:
    urls: list[str] = []
    statuses: list[str] = []
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, statuses.append, KEY, urls.append)
    version, package = package_zip()
    lake = tmp_path / "lake" / "_staging" / version
    assert (lake / "spark.zip").read_bytes() == package
    assert (lake / "transform_dump.py").exists()
    (submit,) = fake.submissions()
    ident = f"ol-test-{KEY}-{KEY_DIGEST}-0"
    assert submit.path == "/v1/projects/proj/regions/europe-west1/jobs:submit"
    assert re.fullmatch(r"[0-9a-f]{32}", submit.body["requestId"])  # a UUID (hex): 32 of at most 40
    assert submit.body == {
        "requestId": submit.body["requestId"],
        "job": {
            "reference": {"jobId": ident},
            "placement": {"clusterName": "ol-cluster"},
            "pysparkJob": {
                "mainPythonFileUri": str(lake / "transform_dump.py"),
                "pythonFileUris": [str(lake / "spark.zip")],
                "args": ARGS,
                "properties": {"spark.sql.session.timeZone": "UTC", "spark.executor.memory": "4g"},
            },
            "labels": {"pipeline": "openlibrary", "job": "transform-dump"},
        },
    }
    assert statuses[-1] == "Dataproc: DONE"
    assert urls == [
        f"https://console.cloud.google.com/dataproc/jobs/{ident}?project=proj&region=europe-west1"
    ]
    gets = [r.path for r in fake.requests if r.method == "GET"]
    assert (
        gets
        == [f"/v1/projects/proj/regions/europe-west1/clusters/{CLUSTER}"]
        + [f"/v1/projects/proj/regions/europe-west1/jobs/{ident}"] * 3
    )  # the cluster RUNNING? then the job: exists? RUNNING, DONE
    assert fake.cluster_creations() == []


@pytest.mark.reliability(7)
def test_a_cluster_deleted_when_idle_is_created_again_before_the_job(
    fake: FakeDataproc, tmp_path, fault
) -> None:
    labels = {"app": "openlibrary-pipeline"}  # terraform/compute's var.labels, as it passes them
    runner = cluster_runner(
        fake, tmp_path, cluster_exists=False, cluster_config=CLUSTER_CONFIG, cluster_labels=labels
    )
    statuses: list[str] = []
    runner.run("transform_dump", ARGS, statuses.append, KEY)
    (create,) = fake.cluster_creations()
    assert create.path == "/v1/projects/proj/regions/europe-west1/clusters"
    assert create.query["requestId"][0]
    assert create.body == {
        "projectId": "proj", "clusterName": CLUSTER, "config": CLUSTER_CONFIG, "labels": labels,
    }  # fmt: skip
    assert f"Dataproc cluster {CLUSTER}: CREATING" in statuses
    cluster_gets = [i for i, r in enumerate(fake.requests) if r.method == "GET" and CLUSTER in r.path]
    submit = fake.requests.index(fake.submissions()[0])
    assert max(cluster_gets) < submit  # the job went in once the cluster was RUNNING
    fault(
        "Dataproc cluster deleted after its idle TTL",
        injected="the fake endpoint answers 404 for the cluster (Dataproc deletes a cluster idle past "
        "idle_delete_ttl)",
        result="the runner created it again from [dataproc] cluster_config (exact REST body checked), "
        "waited through CREATING to RUNNING, then submitted the job once",
    )


def test_a_missing_cluster_without_a_config_fails_saying_what_to_do(fake: FakeDataproc, tmp_path) -> None:
    with pytest.raises(SparkJobError, match=r"ol-cluster does not exist .* cluster_config is empty"):
        cluster_runner(fake, tmp_path, cluster_exists=False).run("transform_dump", ARGS, job_key=KEY)
    assert fake.submissions() == [] and fake.cluster_creations() == []


def test_a_broken_cluster_fails_the_job_without_submitting(fake: FakeDataproc, tmp_path) -> None:
    fake.clusters[CLUSTER] = Resource(states=["ERROR"], details="Insufficient quota")
    with pytest.raises(SparkJobError, match="ol-cluster is ERROR: Insufficient quota"):
        cluster_runner(fake, tmp_path, cluster_config=CLUSTER_CONFIG).run("transform_dump", ARGS, job_key=KEY)
    assert fake.submissions() == [] and fake.cluster_creations() == []


def test_a_malformed_cluster_config_is_refused_at_once(tmp_path) -> None:
    with pytest.raises(ValueError, match=r'cluster_config is not a Dataproc ClusterConfig: .*"workerConfg"'):
        DataprocJobRunner(
            "proj",
            "europe-west1",
            CLUSTER,
            staging=open_lake(str(tmp_path)),
            poll_s=0.01,
            job_timeout_s=JOB_TIMEOUT_S,
            cluster_config={"workerConfg": {}},
        )


def test_job_ids_are_fixed_per_task_attempt_and_deployment() -> None:
    """Written out: an id that changed between processes or versions would keep a restarted worker from
    re-attaching to its running job, and a second job would be submitted."""
    assert job_id(KEY, 1, PREFIX) == f"ol-test-{KEY}-{KEY_DIGEST}-1"
    assert job_id(KEY, 2, PREFIX) == f"ol-test-{KEY}-{KEY_DIGEST}-2"
    assert job_id(KEY, 1, "other") == f"other-{KEY}-{KEY_DIGEST}-1"
    assert batch_id(KEY, 3, PREFIX) == f"ol-test-transformdump-works-2026-10-31-{KEY_DIGEST}-3"
    assert batch_id(KEY, 4, PREFIX) == f"ol-test-transformdump-works-2026-10-31-{KEY_DIGEST}-4"
    assert batch_id(KEY, 3, "other") == f"other-transformdump-works-2026-10-31-{KEY_DIGEST}-3"


# Task ids as Luigi makes them for the pipeline's Spark tasks (the longest dump name, the marts) into a
# GCS lake, and longer or odder keys than any task has, at the longest id prefix and the highest attempt
# number.
LAKE = "gs://my-project-openlibrary-lake/lake"
REAL_KEYS = [
    "TransformDump_reading_log_gs___my_project__2026_10_31_2ef3de027e",
    "BuildMarts_gs___my_project__2026_10_31_a302c91175",
    "TransformDump_" + "x" * 200 + "_5a4cdb1774",
    "Task_with.dots/slashes and spaces_Ünïcode_0123456789",
]


def test_the_repos_task_ids_are_what_luigi_makes() -> None:
    from tasks.marts import BuildMarts
    from tasks.transform import TransformDump

    assert TransformDump(release="2026-10-31", dump="reading-log", lake=LAKE).task_id == REAL_KEYS[0]
    assert BuildMarts(release="2026-10-31", lake=LAKE).task_id == REAL_KEYS[1]


@pytest.mark.parametrize("key", REAL_KEYS)
def test_every_task_id_makes_requests_the_api_accepts(fake: FakeDataproc, tmp_path, key: str) -> None:
    """The fake refuses what the API's documented rules refuse (tests/fake_dataproc_rules.py)."""
    longest = "a" + "b" * 15  # the longest [dataproc] id_prefix
    for previous in (0, 49):  # no earlier attempt; then 49 failed ones, so this is the last attempt
        for attempt in range(previous):
            fake.jobs[job_id(key, attempt, longest)] = Resource(states=["ERROR"])
            fake.batches[batch_id(key, attempt, longest)] = Resource(states=["FAILED"])
        runner, serverless = cluster_runner(fake, tmp_path), serverless_runner(fake, tmp_path)
        runner.prefix = serverless.prefix = longest
        runner.run("transform_dump", ARGS, job_key=key)
        serverless.run("build_marts", [], job_key=key)
    submitted = [r.body["job"]["reference"]["jobId"] for r in fake.submissions() if "jobs" in r.path]
    assert submitted == [job_id(key, 0, longest), job_id(key, 49, longest)]
    assert [r.query["batchId"][0] for r in fake.submissions() if "batches" in r.path] == [
        batch_id(key, 0, longest),
        batch_id(key, 49, longest),
    ]


@pytest.mark.reliability(7)
@pytest.mark.parametrize("final", ["ERROR", "CANCELLED"])
def test_a_failed_job_fails_with_dataprocs_message(fake: FakeDataproc, tmp_path, final: str, fault) -> None:
    fake.outcome = (final, "Job failed with message [ValueError: 1 rows + 1 quarantined != 3 lines]")
    with pytest.raises(
        SparkJobError, match=rf"ended {final}: Job failed with message \[ValueError: 1 rows"
    ) as error:
        cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    assert len(fake.submissions()) == 1
    fault(
        f"Dataproc job ends {final}",
        injected=f"the fake Dataproc endpoint walks the submitted job PENDING -> RUNNING -> {final}",
        result=f"SparkJobError '...ended {final}: {str(error.value).split(f'ended {final}: ')[-1][:70]}'; "
        "submitted once",
    )


def test_the_driver_output_tail_is_in_the_error(fake: FakeDataproc, tmp_path, gcs: storage.Client) -> None:
    bucket = gcs.create_bucket("dataproc-staging-driver")
    bucket.blob("jobs/x/driveroutput.000000000").upload_from_string(b"early lines\n")
    bucket.blob("jobs/x/driveroutput.000000001").upload_from_string(b"Traceback: KeyError 'works'\n")
    fake.driver_output_uri = "gs://dataproc-staging-driver/jobs/x/driveroutput"
    fake.outcome = ("ERROR", "Job failed")
    with pytest.raises(SparkJobError, match="Traceback: KeyError 'works'"):
        cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)


def test_transient_api_errors_on_the_cluster_lookup_are_retried(fake: FakeDataproc, tmp_path) -> None:
    fake.faults = [503, 429]  # the first GET (is the cluster there?) and its retry
    runner = cluster_runner(fake, tmp_path)
    runner.run("transform_dump", ARGS, job_key=KEY)
    cluster = f"/v1/projects/proj/regions/europe-west1/clusters/{CLUSTER}"
    assert [(r.method, r.path) for r in fake.requests[:3]] == [("GET", cluster)] * 3
    assert fake.cluster_creations() == []
    assert len(fake.submissions()) == 1


@pytest.mark.reliability(7)
def test_429_and_503_on_the_submit_and_on_polls_are_retried_without_a_second_job(
    fake: FakeDataproc, tmp_path, fault
) -> None:
    fake.faults_on = {"POST": [503, 429], "GET": [None, None, 503, None, 429]}
    fake.running_polls = 3
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    posts = fake.submissions()
    assert len(posts) == 3  # two refused, the third accepted
    (request_id,) = {post.body["requestId"] for post in posts}  # the same idempotent request
    assert request_id != job_id(KEY, 0, PREFIX)
    assert list(fake.jobs) == [job_id(KEY, 0, PREFIX)]
    assert fake.faults_on == {"POST": [], "GET": []}  # every planned fault was served
    fault(
        "Dataproc API answers 429/503",
        injected="the fake endpoint answers the job submit with 503 then 429, and two status polls with 503 "
        "and 429",
        result=f"each call retried with backoff; {len(posts)} submits carrying one requestId created one "
        "job, which ran to DONE",
    )


def test_a_running_job_is_reattached_not_submitted_again(fake: FakeDataproc, tmp_path) -> None:
    ident = job_id(KEY, 0, PREFIX)
    fake.jobs[ident] = Resource(states=["RUNNING", "RUNNING", "DONE"])
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    assert fake.submissions() == []


@pytest.mark.reliability(7)
def test_a_worker_killed_while_its_job_runs_is_reattached_by_the_next_worker(
    fake: FakeDataproc, tmp_path: Path, fault
) -> None:
    fake.running_polls = 40
    fake.clusters[CLUSTER] = Resource(states=["RUNNING"])
    worker = subprocess.Popen(
        [sys.executable, "-c", (
            "from google.auth.credentials import AnonymousCredentials\n"
            "from lake import open_lake\n"
            "from runners.dataproc import DataprocJobRunner\n"
            f"DataprocJobRunner('proj', 'europe-west1', 'ol-cluster', "
            f"staging=open_lake({str(tmp_path / 'lake')!r}), endpoint={fake.url!r}, poll_s=0.05, "
            f"credentials=AnonymousCredentials(), id_prefix={PREFIX!r}, job_timeout_s={JOB_TIMEOUT_S})"
            f".run('transform_dump', {ARGS!r}, job_key={KEY!r})\n"
        )],
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (fake.submissions() and sum(r.method == "GET" for r in fake.requests) >= 4):
        assert worker.poll() is None and time.monotonic() < deadline, "the worker never got its job running"
        time.sleep(0.02)
    worker.kill()
    worker.wait(timeout=10)
    polls_before = sum(r.method == "GET" for r in fake.requests)
    polls = lambda: sum(r.method == "GET" for r in fake.requests) - polls_before  # noqa: E731

    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)

    assert len(fake.submissions()) == 1
    assert list(fake.jobs) == [job_id(KEY, 0, PREFIX)]
    fault(
        "Worker restarted while its Dataproc job runs",
        injected="the worker process is SIGKILLed while its job is RUNNING; a new worker runs the same task",
        result=f"the new worker found job {job_id(KEY, 0, PREFIX)} by its deterministic id, re-attached and "
        f"followed it to DONE ({polls()} polls); one submission in all",
    )


def test_a_previous_failed_attempt_leads_to_the_next_attempt(fake: FakeDataproc, tmp_path) -> None:
    fake.jobs[job_id(KEY, 0, PREFIX)] = Resource(states=["ERROR"], details="worker lost")
    cluster_runner(fake, tmp_path).run("transform_dump", ARGS, job_key=KEY)
    (submit,) = fake.submissions()
    assert submit.body["job"]["reference"]["jobId"] == job_id(KEY, 1, PREFIX)


def test_staging_uploads_once_per_code_version(fake: FakeDataproc, tmp_path) -> None:
    runner = cluster_runner(fake, tmp_path)
    runner.run("transform_dump", ARGS, job_key=KEY)
    staged = next((tmp_path / "lake" / "_staging").iterdir()) / "spark.zip"
    first = staged.stat().st_mtime_ns
    runner.run("transform_dump", ARGS, job_key=KEY + "-again")
    assert staged.stat().st_mtime_ns == first
    assert len(fake.submissions()) == 2


def test_a_serverless_batch_is_created_with_its_runtime(fake: FakeDataproc, tmp_path) -> None:
    urls: list[str] = []
    serverless_runner(fake, tmp_path).run(
        "build_marts", ["--dumps", "works"], job_key=KEY, on_tracking_url=urls.append
    )
    (create,) = fake.submissions()
    ident = f"ol-test-transformdump-works-2026-10-31-{KEY_DIGEST}-0"
    version, _ = package_zip()
    staged = tmp_path / "lake" / "_staging" / version
    assert create.path == "/v1/projects/proj/locations/europe-west1/batches"
    assert create.query["batchId"] == [ident]
    assert re.fullmatch(r"[0-9a-f]{32}", create.query["requestId"][0])
    assert create.body == {
        "pysparkBatch": {
            "mainPythonFileUri": str(staged / "build_marts.py"),
            "pythonFileUris": [str(staged / "spark.zip")],
            "args": ["--dumps", "works"],
        },
        "runtimeConfig": {"version": "2.3", "properties": {"spark.sql.session.timeZone": "UTC"}},
        "environmentConfig": {
            "executionConfig": {"serviceAccount": "spark@proj.iam.gserviceaccount.com", "ttl": "14400s"}
        },
        "labels": {"pipeline": "openlibrary", "job": "build-marts"},
    }
    assert urls == [f"https://console.cloud.google.com/dataproc/batches/europe-west1/{ident}?project=proj"]


def test_a_failed_batch_fails_with_its_state_message(fake: FakeDataproc, tmp_path) -> None:
    fake.outcome = ("FAILED", "Driver exited with code 1: fan-out in the fact marts")
    with pytest.raises(SparkJobError, match="ended FAILED: Driver exited with code 1: fan-out"):
        serverless_runner(fake, tmp_path).run("build_marts", [], job_key=KEY)


def test_a_running_batch_is_reattached(fake: FakeDataproc, tmp_path) -> None:
    fake.batches[batch_id(KEY, 0, PREFIX)] = Resource(states=["RUNNING", "SUCCEEDED"])
    serverless_runner(fake, tmp_path).run("build_marts", [], job_key=KEY)
    assert fake.submissions() == []


def test_configuration_alone_switches_the_runner(fake: FakeDataproc, tmp_path) -> None:
    from tasks.context import current_runner
    from tests.pipeline_helpers import luigi_config

    dataproc = {"project": "proj", "region": "europe-west1", "cluster": "ol-cluster", "endpoint": fake.url}
    with luigi_config(
        {"spark": {"runner": "dataproc"}, "dataproc": dataproc, "lake": {"root": str(tmp_path)}}
    ):
        runner = current_runner()
        assert isinstance(runner, DataprocJobRunner)
        assert (runner.project, runner.region, runner.cluster) == ("proj", "europe-west1", "ol-cluster")
    with luigi_config(
        {"spark": {"runner": "serverless"}, "dataproc": dataproc, "lake": {"root": str(tmp_path)}}
    ):
        assert isinstance(current_runner(), DataprocServerlessRunner)
    with (
        luigi_config({"spark": {"runner": "dataproc"}, "dataproc": {**dataproc, "cluster": ""}}),
        pytest.raises(ValueError, match="project, region and cluster"),
    ):
        current_runner()
