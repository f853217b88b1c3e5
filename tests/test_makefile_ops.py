"""`make up` / `make down` and the other Google Cloud targets, run for real with recording fakes of the
three CLIs that would reach the cloud (terraform, docker, gcloud) first on PATH: the exact commands, flags
and order are asserted, and a missing PROJECT_ID stops everything before any of them runs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terraform_stacks import evaluate_ok

PROJECT = Path(__file__).resolve().parent.parent
CLIS = ("terraform", "docker", "gcloud")
OUTPUTS = {
    "lake_bucket": "p-openlibrary-lake",
    "lake_root": "gs://p-openlibrary-lake/lake",
    "image_repository": "europe-west1-docker.pkg.dev/p/openlibrary",
}
# What terraform 1.x prints, on stdout with exit status 0, for `output -raw NAME` of a stack without state.
NO_OUTPUTS_WARNING = (
    "\x1b[33m╷\x1b[0m\n│ Warning: No outputs found\n│\n│ The state file either has no outputs...\n╵\n"
)

FAKE = """#!{python}
import json, sys
from pathlib import Path
here = Path(__file__).parent
argv = [Path(sys.argv[0]).name, *sys.argv[1:]]
with (here / "calls.jsonl").open("a") as log:
    log.write(json.dumps(argv) + "\\n")
if argv[0] == "terraform" and argv[2:4] == ["output", "-raw"]:
    state = json.loads((here / "storage_state.json").read_text())
    if state["mode"] == "applied":
        sys.stdout.write(state["outputs"][argv[4]])
    elif state["mode"] == "no-state":
        sys.stdout.write(state["warning"])
    else:
        sys.stderr.write("Error: Backend initialization required, please run terraform init\\n")
        sys.exit(1)
"""


class FakeCloud:
    """terraform, docker and gcloud replaced by scripts that log their argv (calls.jsonl) and answer
    `terraform -chdir=terraform/storage output -raw NAME` as a storage stack in the given mode would."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder
        folder.mkdir()
        for name in CLIS:
            script = folder / name
            script.write_text(FAKE.format(python=sys.executable))
            script.chmod(0o755)
        self.storage("applied")

    def storage(self, mode: str) -> None:
        """applied: outputs as OUTPUTS; no-state: terraform's warning, exit 0; uninitialised: exit 1."""
        state = {"mode": mode, "outputs": OUTPUTS, "warning": NO_OUTPUTS_WARNING}
        (self.bin / "storage_state.json").write_text(json.dumps(state))

    def calls(self) -> list[list[str]]:
        log = self.bin / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def make(self, *args: str) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
        for name in ("PROJECT_ID", "REGION", "ZONE", "BUCKET_NAME", "IMAGE_NAME", "IMAGE_TAG", "CRON",
                     "CLUSTER_NAME", "SPARK_RUNNER", "BIGQUERY", "BQ_RELEASE"):  # fmt: skip
            environment.pop(name, None)
        environment["PATH"] = f"{self.bin}:{environment['PATH']}"
        return subprocess.run(
            ["make", "--no-print-directory", "-C", str(PROJECT), *args],
            env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip


@pytest.fixture
def cloud(tmp_path: Path) -> FakeCloud:
    return FakeCloud(tmp_path / "bin")


def storage(*args: str) -> list[str]:
    return ["terraform", "-chdir=terraform/storage", *args]


def compute(*args: str) -> list[str]:
    return ["terraform", "-chdir=terraform/compute", *args]


STORAGE_VARS = ["-var", "project_id=p", "-var", "region=europe-west1",
                "-var", "bucket_name=p-openlibrary-lake",
                "-var", "create_bigquery=false", "-var", "bigquery_release="]  # fmt: skip


def compute_vars(lake_bucket: str, lake_root: str, image: str) -> list[str]:
    return ["-var", "project_id=p", "-var", "region=europe-west1", "-var", "zone=europe-west1-b",
            "-var", f"lake_bucket={lake_bucket}", "-var", f"lake_root={lake_root}", "-var", f"image={image}",
            "-var", "cron_schedule=0 6 2-8 * *", "-var", "cluster_name=openlibrary",
            "-var", "spark_runner=dataproc", "-var", "alert_email="]  # fmt: skip


IMAGE = "europe-west1-docker.pkg.dev/p/openlibrary/pipeline:abc1234"


def test_up_applies_storage_then_builds_and_pushes_the_image_then_applies_compute(cloud: FakeCloud) -> None:
    completed = cloud.make("up", "PROJECT_ID=p", "IMAGE_TAG=abc1234")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert cloud.calls() == [
        storage("init", "-input=false"),
        storage("apply", "-input=false", "-auto-approve", *STORAGE_VARS),
        ["docker", "build", "--platform", "linux/amd64", "-f", "docker/Dockerfile", "-t", IMAGE, "."],
        storage("output", "-raw", "image_repository"),
        ["gcloud", "auth", "configure-docker", "europe-west1-docker.pkg.dev", "--quiet"],
        ["docker", "push", IMAGE],
        storage("output", "-raw", "lake_bucket"),
        storage("output", "-raw", "lake_root"),
        compute("init", "-input=false"),
        compute("apply", "-input=false", "-auto-approve",
                *compute_vars(OUTPUTS["lake_bucket"], OUTPUTS["lake_root"], IMAGE)),
    ]  # fmt: skip


def test_down_destroys_compute_then_storage(cloud: FakeCloud) -> None:
    completed = cloud.make("down", "PROJECT_ID=p", "IMAGE_TAG=abc1234")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert cloud.calls() == [
        storage("output", "-raw", "lake_bucket"),
        storage("output", "-raw", "lake_root"),
        compute("init", "-input=false"),
        compute("destroy", "-input=false", "-auto-approve",
                *compute_vars(OUTPUTS["lake_bucket"], OUTPUTS["lake_root"], IMAGE)),
        storage("init", "-input=false"),
        storage("destroy", "-input=false", "-auto-approve", *STORAGE_VARS),
    ]  # fmt: skip


@pytest.mark.parametrize("mode", ["no-state", "uninitialised"])
def test_destroy_compute_works_without_the_storage_stack(cloud: FakeCloud, mode: str) -> None:
    cloud.storage(mode)
    completed = cloud.make("destroy-compute", "PROJECT_ID=p", "IMAGE_TAG=abc1234")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no storage stack outputs" in completed.stdout
    assert cloud.calls()[-1] == compute(
        "destroy", "-input=false", "-auto-approve",
        *compute_vars("p-openlibrary-lake", "gs://p-openlibrary-lake/lake", IMAGE),
    )  # fmt: skip


def test_down_works_without_an_image_tag(cloud: FakeCloud, tmp_path: Path) -> None:
    # outside a git checkout the default tag is empty
    completed = cloud.make("down", "PROJECT_ID=olp-test-123", "IMAGE_TAG=")
    assert completed.returncode == 0, completed.stderr
    destroy = [call for call in cloud.calls() if call[1:3] == ["-chdir=terraform/compute", "destroy"]]
    assert len(destroy) == 1
    flags = destroy[0][destroy[0].index("-auto-approve") + 1 :]
    variables = dict(value.split("=", 1) for flag, value in zip(flags[::2], flags[1::2], strict=True))
    # the values pass the compute stack's own validation rules, as `terraform destroy` checks them first
    image = evaluate_ok("compute", "var.image", variables, tmp_path / "terraform")
    assert image.startswith("europe-west1-docker.pkg.dev/olp-test-123/openlibrary/pipeline:")


@pytest.mark.parametrize("mode", ["no-state", "uninitialised"])
def test_apply_compute_refuses_to_run_before_the_storage_stack(cloud: FakeCloud, mode: str) -> None:
    cloud.storage(mode)
    completed = cloud.make("apply-compute", "PROJECT_ID=p", "IMAGE_TAG=abc1234")
    assert completed.returncode != 0
    assert "the storage stack has no outputs: run make apply-storage first" in completed.stderr
    assert not [call for call in cloud.calls() if "-chdir=terraform/compute" in call]


@pytest.mark.parametrize("target", ["up", "down", "apply-storage", "destroy-storage", "apply-compute",
                                    "destroy-compute", "push-image"])  # fmt: skip
def test_without_project_id_a_cloud_target_fails_clearly_and_runs_nothing(
    cloud: FakeCloud, target: str
) -> None:
    completed = cloud.make(target)
    assert completed.returncode != 0
    assert f"PROJECT_ID is not set: run make {target} PROJECT_ID=" in completed.stderr
    assert cloud.calls() == []


def test_build_image_without_project_id_needs_an_image_name(cloud: FakeCloud) -> None:
    refused = cloud.make("build-image", "IMAGE_TAG=t")
    assert (
        refused.returncode != 0 and "IMAGE_NAME (europe-west1-docker.pkg.dev//openlibrary" in refused.stderr
    )
    assert cloud.calls() == []
    built = cloud.make("build-image", "IMAGE_NAME=openlibrary-pipeline", "IMAGE_TAG=t")
    assert built.returncode == 0, built.stderr
    assert cloud.calls() == [
        [
            "docker",
            "build",
            "--platform",
            "linux/amd64",
            "-f",
            "docker/Dockerfile",
            "-t",
            "openlibrary-pipeline:t",
            ".",
        ]
    ]


def test_variables_override_every_flag(cloud: FakeCloud) -> None:
    completed = cloud.make(
        "apply-storage", "apply-compute", "PROJECT_ID=proj-1", "REGION=us-east1", "BUCKET_NAME=my-lake",
        "BIGQUERY=true", "BQ_RELEASE=2026-10-31", "IMAGE_NAME=registry.example/pipe", "IMAGE_TAG=v2",
        "CRON=15 3 * * 1", "CLUSTER_NAME=batch", "SPARK_RUNNER=serverless", "ZONE=us-east1-c",
        "ALERT_EMAIL=ops@example.com",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    calls = cloud.calls()
    assert storage("apply", "-input=false", "-auto-approve",
                   "-var", "project_id=proj-1", "-var", "region=us-east1", "-var", "bucket_name=my-lake",
                   "-var", "create_bigquery=true",
                   "-var", "bigquery_release=2026-10-31") in calls  # fmt: skip
    assert calls[-1] == compute(
        "apply", "-input=false", "-auto-approve", "-var", "project_id=proj-1", "-var", "region=us-east1",
        "-var", "zone=us-east1-c", "-var", f"lake_bucket={OUTPUTS['lake_bucket']}",
        "-var", f"lake_root={OUTPUTS['lake_root']}", "-var", "image=registry.example/pipe:v2",
        "-var", "cron_schedule=15 3 * * 1", "-var", "cluster_name=batch", "-var", "spark_runner=serverless",
        "-var", "alert_email=ops@example.com",
    )  # fmt: skip


def test_the_default_image_tag_is_the_git_short_sha(cloud: FakeCloud) -> None:
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()
    completed = cloud.make("build-image", "PROJECT_ID=p")
    assert completed.returncode == 0, completed.stderr
    assert cloud.calls() == [
        [
            "docker",
            "build",
            "--platform",
            "linux/amd64",
            "-f",
            "docker/Dockerfile",
            "-t",
            f"europe-west1-docker.pkg.dev/p/openlibrary/pipeline:{sha}",
            ".",
        ]
    ]


def test_help_lists_every_operations_target(cloud: FakeCloud) -> None:
    listed = cloud.make("help").stdout
    for target in ("apply-storage", "destroy-storage", "apply-compute", "destroy-compute", "build-image",
                   "push-image", "up", "down"):  # fmt: skip
        assert re.search(rf"^  make {target}\s+\S", listed, flags=re.MULTILINE), target
    assert cloud.calls() == []
