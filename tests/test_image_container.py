"""The container, for real: docker/Dockerfile built and run on a real Docker engine as `make up` runs it
(environment only, a state volume, luigid published on 127.0.0.1 only), CRON every minute, a local lake
bind-mounted and the sample release served over HTTP. Everything is observed from outside: luigid's API,
`docker logs`, `docker exec`, `docker inspect`, the lake on this machine.

The dump server is the tests' own DumpServer, bound to 127.0.0.1 *inside the container's network
namespace* (the test joins it with setns): the container reaches it at http://127.0.0.1:PORT as the VM's
container reaches archive.org, and nothing listens on any address of this machine but loopback. A
`file://` source bind-mounted would skip the HTTP client (redirects, Content-Length, Range), which is
what the container runs in production. The namespace is new at each start of the container, so the
server is started again (same port) after `docker start` and `docker restart`.

One container goes through the steps in order (each test below is one of them and needs the ones before):
cron's first run; a second trigger while it holds the lock; `docker stop` during a transform; `docker
start` and the next cron run completing the release; `docker exec` of the job as root, then cron again;
`docker restart`. Run `make image-test` (or the file with pytest) as root: it starts its own dockerd.
"""

import json
import os
import re
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.dumpserver import DumpServer
from spark.catalog import DUMPS as SPECS
from spark.tables import CURATED, MARTS
from tests.conftest import SampleLake
from tests.docker_engine import Docker, docker_engine, in_network_namespace
from tests.image_build import Built, base_image, build_image
from tests.luigid_server import scheduler_api
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    child_folder,
    luigi_command,
    pipeline_settings,
    read_table,
    sample_release,
    write_config_file,
)

pytestmark = pytest.mark.timeout(1800)

TAG = "openlibrary-pipeline:image-test"
DUMP_PORT = 8081  # in the container's own network namespace, where only luigid (8082) listens
PIPELINE_UID = 10001  # the Dockerfile's `pipeline`
STOP_TIMEOUT_S = 60  # docker stop --time on the VM (terraform/compute's unit)
TASKS = 15  # OpenLibraryPipeline, RunReport, BuildMarts, 6 TransformDump, 6 IngestDump
RUN_STARTED = "pipeline run started"
RUN_DONE = "pipeline run finished: every task done"
IN_PROGRESS = "a pipeline run is already in progress"


@pytest.fixture(scope="module")
def say(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a line in pytest's output as it happens, not captured (build time, image size, steps)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def line(text: str) -> None:
        with capture.global_and_fixture_disabled():
            print(text, flush=True)

    return line


@pytest.fixture(scope="module")
def docker(say: Callable[[str], None]) -> Iterator[Docker]:
    with docker_engine(say) as engine:
        yield engine


@pytest.fixture(scope="module")
def image(
    docker: Docker, say: Callable[[str], None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """docker/Dockerfile built with INCLUDE_JAVA=true; removed (by id) afterwards. The base image is kept."""
    base = base_image(docker, say)
    built = build_image(docker, base, TAG, tmp_path_factory.mktemp("build") / "build.log")
    say(f"image test: built {TAG} on {base} in {built.seconds:.0f}s: {built.size_bytes / 1e6:.0f} MB")
    try:
        yield built
    finally:
        docker.run("rmi", "--force", built.image_id, check=False)


@dataclass
class Deployment:
    """The running container, its dump server and lake."""

    docker: Docker
    container: str  # id
    lake: Path
    source: Path
    secret: str
    server: DumpServer | None = None
    started: float = field(default_factory=time.monotonic)
    marks: dict[str, int] = field(default_factory=dict)  # log positions named by the steps

    def serve(self) -> None:
        """(Re)start the dump server in the container's current network namespace."""
        if self.server is not None:
            self.server.stop()
        pid = int(self.inspect("{{.State.Pid}}"))
        self.server = in_network_namespace(
            pid, lambda: DumpServer(self.source, release=RELEASE, dumps=DUMPS, port=DUMP_PORT)
        )
        self.server.start()

    @property
    def luigid_port(self) -> int:
        """The 127.0.0.1 port docker published luigid on: one it chose free (`-p 127.0.0.1::8082`), so
        nothing can take it between choosing and binding; asked each time, as a restart may change it."""
        published = self.docker.run("port", self.container, "8082/tcp", check=False).stdout.split()
        if not published:
            raise ConnectionRefusedError(f"luigid's port is not published: {self.container} is not running")
        host, _, port = published[0].rpartition(":")
        assert host == "127.0.0.1", published
        return int(port)

    def inspect(self, template: str) -> str:
        return self.docker.run("inspect", "--format", template, self.container).stdout.strip()

    def logs(self) -> str:
        """The container log, its stdout and stderr in the order docker logs sends them."""
        return subprocess.run(
            [self.docker.cli, "logs", self.container], env=self.docker.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip

    def log_lines(self) -> list[str]:
        return self.logs().splitlines()

    def exec(
        self, *command: str, user: str | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        as_user = ["--user", user] if user else []
        return self.docker.run("exec", *as_user, self.container, *command, check=False, timeout=timeout)

    def api(self, method: str, **data: object) -> Any:
        return scheduler_api(self.luigid_port, method, **data)

    def tasks(self, status: str) -> dict[str, dict]:
        return self.api("task_list", status=status, upstream_status="")

    def wait_for_line(self, text: str, after: int, timeout: float) -> int:
        """The index of the first log line at or after `after` that holds `text`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_lines()
            found = next((index for index in range(after, len(lines)) if text in lines[index]), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {text!r} in the container log within {timeout}s:\n" + "\n".join(lines[-60:])
                )
            time.sleep(1)

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := check()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout}s\n" + "\n".join(self.log_lines()[-40:]))
            time.sleep(0.5)
        return value

    def lock_holder(self) -> int:
        """The process group id the running job wrote into its lock file."""
        return int(self.exec("cat", "/run/pipeline/pipeline.lock").stdout.strip())


def container_environment(secret: str) -> str:
    """The env file (as terraform/compute writes /etc/…/container.env): the test's pipeline settings as
    SECTION_KEY variables, CRON every minute, the lake at /lake, and a secret only the job should see."""
    settings = pipeline_settings(f"http://127.0.0.1:{DUMP_PORT}/data", Path("/lake"))
    lines = ["CRON=* * * * *", f"SMTP_PASSWORD={secret}"]
    for section, values in settings.items():
        lines += [f"{section}_{key}".upper() + f"={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def at_a_safe_second() -> None:
    """Return at least 12 s before the next minute, so the server is up before cron's first run."""
    second = time.time() % 60
    if second > 48:
        time.sleep(61 - second)


@dataclass
class LocalRun:
    """The same release run by `luigi --module tasks` on this machine, in a child process: the oracle for the
    container's tables."""

    process: subprocess.Popen
    lake: SampleLake
    log: Path

    def finished(self, timeout: float) -> SampleLake:
        """The run's lake, once the run has ended well (waiting up to `timeout` seconds for it)."""
        returncode = self.process.wait(timeout=timeout)
        assert returncode == 0, self.log.read_text()[-4000:]
        return self.lake


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """A local run of the release, started first, so that it runs while the image builds and cron waits
    for its minute (the session's sample lake runs two releases, this one only what the container runs)."""
    root = tmp_path_factory.mktemp("local-run")
    source = sample_release(root / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        config = write_config_file(root / "luigi.cfg", pipeline_settings(server.url, root / "lake"))
        command, environment = luigi_command(config, "OpenLibraryPipeline", "--release", RELEASE)
        log = root / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=child_folder(root), env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            yield LocalRun(process, SampleLake(root=root / "lake", release=RELEASE, source=source), log)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def deployment(
    local_run: LocalRun, docker: Docker, image: Built, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    lake = root / "lake"
    lake.mkdir()
    os.chown(
        lake, PIPELINE_UID, PIPELINE_UID
    )  # the VM's lake is a bucket; here a folder `pipeline` may write
    secret = "smtp-" + secrets.token_hex(16)
    env_file = root / "container.env"
    env_file.write_text(container_environment(secret))
    volume = docker.run("volume", "create").stdout.strip()
    at_a_safe_second()
    container = docker.run(
        "run", "--detach", "-p", "127.0.0.1::8082", "-v", f"{volume}:/var/lib/luigid",
        "-v", f"{lake}:/lake", "--env-file", str(env_file), image.image_id,
    ).stdout.strip()  # fmt: skip
    deployment = Deployment(docker, container, lake, sample_release(root / "source"), secret)
    try:
        deployment.serve()
        deployment.marks["started"] = 0
        yield deployment
    finally:
        if deployment.server is not None:
            deployment.server.stop()
        docker.run("rm", "--force", "--volumes", container, check=False)
        docker.run("volume", "rm", "--force", volume, check=False)


def test_cron_fires_the_pipeline_within_two_minutes_as_the_unprivileged_user(
    deployment: Deployment, say: Callable[[str], None]
) -> None:
    started = time.monotonic()
    line = deployment.wait_for_line(RUN_STARTED, 0, timeout=120)
    deployment.marks["first run"] = line
    say(f"image test: cron started the first run {time.monotonic() - deployment.started:.0f}s after start")
    running = deployment.wait_until(lambda: deployment.tasks("RUNNING"), "a task RUNNING in luigid", 120)
    assert time.monotonic() - started < 180, running

    group = deployment.lock_holder()  # the job's process group, as the job wrote it
    status = deployment.exec("cat", f"/proc/{group}/status").stdout
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, flags=re.MULTILINE)
    assert uids and {int(uids[1]), int(uids[2])} == {PIPELINE_UID}, status
    environ = deployment.exec("cat", f"/proc/{group}/environ", user="pipeline").stdout
    assert f"SMTP_PASSWORD={deployment.secret}" in environ.split("\0")  # the secret did reach the job


def test_a_second_trigger_while_a_run_holds_the_lock_says_so_and_changes_nothing(
    deployment: Deployment,
) -> None:
    workers = {worker["name"] for worker in deployment.api("worker_list")}
    second = deployment.exec("/opt/pipeline/run-pipeline")  # as root, what an operator types
    assert second.returncode == 0, second.stdout + second.stderr
    assert IN_PROGRESS in second.stdout and "luigi" not in second.stdout.replace("/run/pipeline", ""), (
        second.stdout
    )
    assert len(second.stdout.strip().splitlines()) == 1
    assert {worker["name"] for worker in deployment.api("worker_list")} == workers  # no worker joined luigid


def test_docker_stop_during_a_transform_stops_the_run_with_nothing_marked_complete(
    deployment: Deployment, say: Callable[[str], None]
) -> None:
    [(task_id, transform), *_] = deployment.wait_until(
        lambda: [item for item in deployment.tasks("RUNNING").items() if item[1]["name"] == "TransformDump"],
        "a TransformDump RUNNING",
        240,
    )
    dump = transform["params"]["dump"]
    before = len(deployment.log_lines())
    started = time.monotonic()
    deployment.docker.run(
        "stop", "--time", str(STOP_TIMEOUT_S), deployment.container, timeout=STOP_TIMEOUT_S + 30
    )
    took = time.monotonic() - started
    log = "\n".join(deployment.log_lines()[before:])
    say(f"image test: docker stop during TransformDump({dump}) took {took:.1f}s")

    assert took < STOP_TIMEOUT_S - 5, f"docker stop took {took:.0f}s:\n{log}"
    assert deployment.inspect("{{.State.ExitCode}}") == "0", log  # the entrypoint exited: not SIGKILLed
    assert "passing SIGTERM to the pipeline run" in log and "the pipeline run stopped" in log, log
    assert "pipeline run stopped by SIGTERM" in log, log
    assert f"marked FAILED in luigid (stopped by SIGTERM): {task_id}" in log, log
    metrics = deployment.lake / "curated" / RELEASE / "_metrics" / f"{dump}.json"
    assert not metrics.exists(), "the stopped transform's completion flag was written"
    for table in SPECS[dump].tables:
        assert not (deployment.lake / "curated" / RELEASE / table / "_SUCCESS").exists(), table
    assert not (deployment.lake / "marts" / RELEASE).exists()
    assert not (deployment.lake / "reports" / RELEASE).exists()
    deployment.marks["stopped"] = len(deployment.log_lines())


def test_after_docker_start_the_next_cron_run_completes_the_release(
    deployment: Deployment, local_run: LocalRun, say: Callable[[str], None]
) -> None:
    deployment.docker.run("start", deployment.container)
    deployment.serve()
    after = deployment.marks["stopped"]
    started = deployment.wait_for_line(RUN_STARTED, after, timeout=90)
    done = deployment.wait_for_line(RUN_DONE, started, timeout=420)
    assert not [line for line in deployment.log_lines()[started:done] if "PIPELINE RUN FAILED" in line]
    deployment.marks["completed"] = done
    say(f"image test: the release completed {time.monotonic() - deployment.started:.0f}s after docker run")

    done_tasks = deployment.tasks("DONE")
    assert len(done_tasks) == TASKS, sorted(done_tasks)
    assert sorted({task["name"] for task in done_tasks.values()}) == [
        "BuildMarts", "IngestDump", "OpenLibraryPipeline", "RunReport", "TransformDump"
    ]  # fmt: skip
    local_lake = local_run.finished(timeout=300)
    for area, names in (("curated", CURATED), ("marts", MARTS), ("quarantine", DUMPS)):
        for name in names:
            container_rows = comparable(read_table(deployment.lake / area / RELEASE / name))
            local_rows = comparable(local_lake.rows(area, name))
            assert container_rows == local_rows, (area, name)
    report = json.loads((deployment.lake / "reports" / RELEASE / "report.json").read_text())
    assert report["release"] == RELEASE
    assert (deployment.lake / "reports" / RELEASE / "report.html").stat().st_size > 100_000
    owners = {path.stat().st_uid for path in deployment.lake.rglob("*")}
    assert owners == {PIPELINE_UID}, owners  # every file the job wrote is `pipeline`'s


def test_docker_exec_of_the_job_as_root_works_and_does_not_lock_cron_out(deployment: Deployment) -> None:
    deployment.wait_until(lambda: not deployment.tasks("RUNNING"), "no task RUNNING", 120)
    as_root = deployment.exec("/opt/pipeline/run-pipeline")
    assert as_root.returncode == 0, as_root.stdout[-3000:] + as_root.stderr
    assert RUN_DONE in as_root.stdout or IN_PROGRESS in as_root.stdout, as_root.stdout[-3000:]
    lock = deployment.exec("stat", "--format", "%u %a", "/run/pipeline/pipeline.lock").stdout.split()
    assert lock[0] == str(PIPELINE_UID), lock
    after = len(deployment.log_lines())
    started = deployment.wait_for_line(RUN_STARTED, after, timeout=90)
    deployment.wait_for_line(RUN_DONE, started, timeout=300)
    assert not [line for line in deployment.log_lines()[after:] if "cannot open the lock file" in line]


def test_luigid_state_and_task_history_survive_docker_restart_and_it_turns_healthy(
    deployment: Deployment,
) -> None:
    done = set(deployment.tasks("DONE"))
    history = luigid_history(deployment.luigid_port)
    assert history.count("TransformDump") >= len(DUMPS), history[:2000]
    deployment.docker.run(
        "restart", "--time", str(STOP_TIMEOUT_S), deployment.container, timeout=STOP_TIMEOUT_S + 30
    )
    deployment.serve()
    deployment.wait_until(lambda: answers(deployment), "luigid answering after the restart", 60)
    assert set(deployment.tasks("DONE")) == done
    assert luigid_history(deployment.luigid_port) == history
    deployment.wait_until(lambda: deployment.inspect("{{.State.Health.Status}}") == "healthy", "healthy", 120)


def test_the_run_time_secret_is_in_no_layer_history_inspect_or_log(
    deployment: Deployment, image: Built
) -> None:
    secret = deployment.secret.encode()
    docker = deployment.docker
    assert secret.decode() not in docker.run("history", "--no-trunc", image.image_id).stdout
    assert secret.decode() not in docker.run("image", "inspect", image.image_id).stdout
    assert secret.decode() not in deployment.logs()
    assert not saved_image_holds(docker, image.image_id, secret)


def test_a_bad_cron_stops_the_container_with_the_reason_in_its_log(docker: Docker, image: Built) -> None:
    container = docker.run("run", "--detach", "--env", "CRON=61 6 * * *", image.image_id).stdout.strip()
    try:
        status = docker.run("wait", container, timeout=60).stdout.strip()
        logs = docker.run("logs", container)
        assert status == "2", logs.stdout + logs.stderr
        assert "CRON='61 6 * * *' is not a valid schedule: minute field '61': values must lie in 0-59" in (
            logs.stdout + logs.stderr
        )
    finally:
        docker.run("rm", "--force", "--volumes", container, check=False)  # its anonymous state volume too


def comparable(rows: list[dict[str, Any]]) -> list[str]:
    """Rows in a canonical order; a quarantined line's source_file from raw/ on (the lakes' roots differ)."""
    for row in rows:
        if "source_file" in row:
            row["source_file"] = "raw/" + row["source_file"].split("/raw/", 1)[1]
    return sorted(map(repr, rows))


def answers(deployment: Deployment) -> bool:
    try:
        deployment.api("task_list", status="RUNNING")
    except OSError:
        return False
    return True


def luigid_history(port: int) -> str:
    """luigid's History page (the SQLite task history), as the visualiser shows it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/history", timeout=30) as page:
        return page.read().decode()


def saved_image_holds(docker: Docker, image_id: str, needle: bytes) -> bool:
    """Whether `needle` occurs anywhere in `docker save` of the image (every layer's files, its config)."""
    process = subprocess.Popen([docker.cli, "save", image_id], env=docker.env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    found, tail = False, b""
    while chunk := process.stdout.read(1 << 22):
        if needle in tail + chunk:
            found = True
        tail = chunk[-len(needle) :]
    assert process.wait(timeout=300) == 0
    return found
