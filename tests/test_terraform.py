"""Offline checks of the Terraform stacks (terraform/storage, terraform/compute).

What runs here without a cloud account or provider downloads: `terraform fmt`, checkov (from
.venv-tools), python-hcl2 reading the structure of every .tf file, and the real `terraform console`
evaluating each stack's variable validation and locals, including the VM's cloud-init, which is then
parsed as YAML the way cloud-init reads it. `terraform validate`/`plan` need the Google provider and are
not run here.
"""

import ast
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from luigi.freezing import recursively_unfreeze

from runners.dataproc import parse_cluster_config
from spark.tables import CURATED, MARTS
from tasks import config
from tests.docker_helpers import docker_module
from tests.terraform_stacks import (
    STACKS,
    TERRAFORM,
    Stack,
    as_expression,
    evaluate,
    evaluate_all,
    evaluate_ok,
    load_stack,
    only_block,
    terraform,
    terraform_env,
)
from tests.tools import tool

PROJECT = "olp-test-123"
BUCKET = f"{PROJECT}-openlibrary-lake"
IMAGE = f"europe-west1-docker.pkg.dev/{PROJECT}/openlibrary/pipeline:2026-11-01"
STORAGE_VARS = {"project_id": PROJECT}
COMPUTE_VARS = {
    "project_id": PROJECT,
    "region": "europe-west1",
    "lake_bucket": BUCKET,
    "lake_root": f"gs://{BUCKET}/lake",
    "image": IMAGE,
    "cron_schedule": "30 5 1 * *",
}
IAP_RANGE = "35.235.240.0/20"
SUBNET = "openlibrary-europe-west1"
SUBNETWORK = f"projects/{PROJECT}/regions/europe-west1/subnetworks/{SUBNET}"
DATAPROC_SA = f"openlibrary-dataproc@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def storage() -> Stack:
    return load_stack("storage")


@pytest.fixture(scope="module")
def compute() -> Stack:
    return load_stack("compute")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("terraform")


# --- formatting and scanning ---


def test_terraform_fmt_is_clean(scratch: Path) -> None:
    done = subprocess.run(
        [terraform(), "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)],
        capture_output=True, text=True, env=terraform_env(scratch), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"terraform fmt would change (run terraform fmt -recursive terraform/):\n{done.stdout}{done.stderr}"
    )


def run_checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report on `directory` (Terraform only, no download from the vendor's API)."""
    checkov = tool("checkov", "run `make tools` (checkov is pinned in tests/tools-requirements.txt)")
    done = subprocess.run(
        [checkov, "--directory", str(directory), "--framework", "terraform", "--skip-download",
         "--output", "json", "--compact"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.stdout.strip(), f"checkov printed no report (exit {done.returncode}):\n{done.stderr}"
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_passes_with_every_skip_justified_inline(storage: Stack, compute: Stack) -> None:
    report = run_checkov(TERRAFORM)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['check_name']})" for c in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0 and not failed, "checkov failed:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    # checkov read both stacks: the resources with security checks were all checked
    checked = {c["resource"] for kind in ("passed_checks", "skipped_checks") for c in report["results"][kind]}
    for stack in (storage, compute):
        for kind in (
            "google_storage_bucket",
            "google_compute_instance",
            "google_compute_firewall",
            "google_dataproc_cluster",
            "google_artifact_registry_repository",
            "google_bigquery_table",
        ):
            assert {f"{kind}.{name}" for name in stack.resources.get(kind, {})} <= checked, kind
    # checkov resolves plain locals only: the cluster's "no public IP" check must still see a value
    passed = {(c["check_id"], c["resource"]) for c in report["results"]["passed_checks"]}
    assert ("CKV_GCP_103", "google_dataproc_cluster.spark") in passed, (
        "checkov no longer reads internal_ip_only"
    )
    for check in report["results"]["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) >= 30, f"{check['check_id']} on {check['resource']} is skipped without a reason"
        source = Path(check["file_abs_path"]).read_text()
        assert f"#checkov:skip={check['check_id']}:{reason}" in source, (
            f"{check['check_id']}: skip not inline"
        )
    assert not list(TERRAFORM.rglob(".checkov.y*ml")), (
        "skips belong beside the resource, not in a config file"
    )


def test_checkov_catches_a_public_ip_and_an_open_bucket(tmp_path: Path) -> None:
    """The scan is live: the same files with a public IP on the VM or the Dataproc nodes and no public access
    prevention fail."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    mutations = [
        (copy / "compute" / "vm.tf", "network_interface {\n", "network_interface {\n    access_config {}\n"),
        (copy / "storage" / "bucket.tf", 'public_access_prevention    = "enforced"', ""),
        (
            copy / "compute" / "locals.tf",
            "cluster_internal_ip_only = true\n",
            "cluster_internal_ip_only = false\n",
        ),
    ]
    for path, old, new in mutations:
        text = path.read_text()
        assert text.count(old) == 1, f"{path.name} no longer has {old!r}: update this test"
        path.write_text(text.replace(old, new))
    failed = {(c["check_id"], c["resource"]) for c in run_checkov(copy)["results"]["failed_checks"]}
    assert ("CKV_GCP_40", "google_compute_instance.luigi") in failed
    assert ("CKV_GCP_114", "google_storage_bucket.lake") in failed
    assert ("CKV_GCP_103", "google_dataproc_cluster.spark") in failed


# --- a clean project: the APIs each stack enables, and the order ---

# The API each resource type calls (the service its Terraform resource's REST API is served by, as the
# google provider's docs link it): project IAM grants and audit configs change the project's IAM policy
# through Cloud Resource Manager; service accounts, their grants and custom roles are IAM's; instance grants
# are Compute Engine's; the IAP tunnel grant is IAP's. None: Terraform's own, no API.
RESOURCE_API: dict[str, str | None] = {
    "google_project_service": "serviceusage.googleapis.com",  # enables the others; on in every project
    "google_project_iam_member": "cloudresourcemanager.googleapis.com",
    "google_project_iam_audit_config": "cloudresourcemanager.googleapis.com",
    "google_project_iam_custom_role": "iam.googleapis.com",
    "google_service_account": "iam.googleapis.com",
    "google_service_account_iam_member": "iam.googleapis.com",
    "google_compute_network": "compute.googleapis.com",
    "google_compute_subnetwork": "compute.googleapis.com",
    "google_compute_router": "compute.googleapis.com",
    "google_compute_router_nat": "compute.googleapis.com",
    "google_compute_firewall": "compute.googleapis.com",
    "google_compute_instance": "compute.googleapis.com",
    "google_compute_instance_iam_member": "compute.googleapis.com",
    "google_iap_tunnel_instance_iam_member": "iap.googleapis.com",
    "google_storage_bucket": "storage.googleapis.com",
    "google_storage_bucket_iam_member": "storage.googleapis.com",
    "google_artifact_registry_repository": "artifactregistry.googleapis.com",
    "google_artifact_registry_repository_iam_member": "artifactregistry.googleapis.com",
    "google_dataproc_cluster": "dataproc.googleapis.com",
    "google_bigquery_dataset": "bigquery.googleapis.com",
    "google_bigquery_table": "bigquery.googleapis.com",
    "google_bigquery_dataset_iam_member": "bigquery.googleapis.com",
    "google_monitoring_notification_channel": "monitoring.googleapis.com",
    "google_monitoring_alert_policy": "monitoring.googleapis.com",
    "terraform_data": None,
}
# What the deployed pipeline calls in the compute stack's project besides its resources' APIs.
RUNTIME_API = {
    "the VM pulls the image from Artifact Registry": "artifactregistry.googleapis.com",
    "the container reads and writes the lake; Dataproc stages files": "storage.googleapis.com",
    "the runner submits jobs, creates the cluster again, creates batches": "dataproc.googleapis.com",
    "Dataproc creates the cluster's VMs": "compute.googleapis.com",
    "the VM (google-logging-enabled) and Dataproc write logs": "logging.googleapis.com",
    "the VM's guest agent checks OS Login (enable-oslogin)": "oslogin.googleapis.com",
}
# Variables that create every optional resource of a stack (count / for_each gates).
EVERYTHING = {
    "storage": {**STORAGE_VARS, "create_bigquery": "true", "bigquery_release": "2026-10-31"},
    "compute": {
        **COMPUTE_VARS,
        "spark_runner": "dataproc",
        "operators": '["user:alice@example.com"]',
        "alert_email": "ops@example.com",
    },
}
ALWAYS_ON = {"serviceusage.googleapis.com"}


@pytest.mark.parametrize("name", STACKS)
def test_each_stack_enables_exactly_the_apis_it_uses(name: str, scratch: Path) -> None:
    """From a clean project: every API a resource type of the stack (or, for compute, the running pipeline)
    calls is enabled by the stack itself, Cloud Resource Manager for the project IAM grants included, and
    nothing else."""
    stack = load_stack(name)
    unknown = {kind for kind, _, _ in stack.all_resources()} - set(RESOURCE_API)
    assert not unknown, f"resource types with no API in RESOURCE_API (look it up, add it): {unknown}"
    (service,) = stack.resources["google_project_service"].values()
    assert service == {
        "for_each": "${local.services}", "service": "${each.value}", "disable_on_destroy": False,
    }  # fmt: skip
    needed = {RESOURCE_API[kind] for kind, _, _ in stack.all_resources()} - {None} - ALWAYS_ON
    if name == "compute":
        needed |= set(RUNTIME_API.values())
    enabled = set(evaluate_ok(name, "local.services", EVERYTHING[name], scratch))
    assert enabled == needed, f"{name}: missing {sorted(needed - enabled)}, unused {sorted(enabled - needed)}"
    assert "cloudresourcemanager.googleapis.com" in enabled


def test_bigquery_api_is_enabled_only_with_the_dataset(scratch: Path) -> None:
    without = evaluate_ok("storage", "local.services", STORAGE_VARS, scratch)
    assert "bigquery.googleapis.com" not in without
    assert set(evaluate_ok("storage", "local.services", EVERYTHING["storage"], scratch)) - set(without) == {
        "bigquery.googleapis.com"
    }


_REFERENCE = re.compile(r"\b((?:google|terraform)_[a-z0-9_]+)\.([a-z0-9_]+)\b")


def dependencies(stack: Stack) -> dict[str, set[str]]:
    """Resource address -> the resources it references or lists in depends_on (Terraform's edges)."""
    addresses = {f"{kind}.{name}" for kind, name, _ in stack.all_resources()}
    return {
        f"{kind}.{name}": {f"{found[0]}.{found[1]}" for found in _REFERENCE.findall(json.dumps(body))}
        & addresses - {f"{kind}.{name}"}
        for kind, name, body in stack.all_resources()
    }


@pytest.mark.parametrize("name", STACKS)
def test_every_resource_waits_for_the_apis_it_calls(name: str) -> None:
    """In a clean project a resource created before its API is enabled fails: every resource is made after
    the stack's google_project_service (google_project_service.{stack}), through what it references or its
    depends_on, and the custom role, the IAM grants and the audit config list it in depends_on themselves
    rather than count on what they happen to reference."""
    stack = load_stack(name)
    apis = f"google_project_service.{name}"
    edges = dependencies(stack)
    for address, body in ((f"{kind}.{item}", body) for kind, item, body in stack.all_resources()):
        kind = address.split(".")[0]
        if kind == "google_project_service" or RESOURCE_API[kind] is None:
            continue
        seen, pending = set(), [address]
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending += edges[current]
        assert apis in seen, f"{name}: {address} may be created before the APIs are enabled"
        if kind.endswith(("_iam_member", "_iam_custom_role", "_iam_audit_config")):
            assert f"${{{apis}}}" in body.get("depends_on", []), f"{address}: no depends_on {apis}"


# --- versions, variables, outputs ---


@pytest.mark.parametrize("name", STACKS)
def test_versions_are_pinned_and_the_local_terraform_satisfies_them(name: str, scratch: Path) -> None:
    stack = load_stack(name)
    (settings,) = stack.settings
    assert settings["required_version"] == "~> 1.9"
    google = settings["required_providers"][0]["google"]
    assert google["source"] == "hashicorp/google"
    assert re.fullmatch(r"~> \d+\.\d+", google["version"]), google["version"]
    assert settings["backend"] == [{"local": {}}], "the documented backend is local state (see the README)"
    done = subprocess.run(
        [terraform(), "version", "-json"],
        capture_output=True,
        text=True,
        env=terraform_env(scratch),
        timeout=60,
    )
    major, minor, _ = (int(part) for part in json.loads(done.stdout)["terraform_version"].split("."))
    assert major == 1 and minor >= 9, "this Terraform does not satisfy required_version ~> 1.9"


@pytest.mark.parametrize("name", STACKS)
def test_every_variable_has_a_type_and_a_description(name: str) -> None:
    stack = load_stack(name)
    for variable, body in stack.variables.items():
        assert body.get("type"), f"{name}: variable {variable} has no type"
        assert len(body.get("description", "")) >= 10, f"{name}: variable {variable} has no description"
    for output, body in stack.outputs.items():
        assert body.get("description"), f"{name}: output {output} has no description"


def test_interface_variables_and_defaults(storage: Stack, compute: Stack) -> None:
    """The names and defaults the Makefile relies on; everything else has a default."""
    required = {name for name, body in storage.variables.items() if "default" not in body}
    assert required == {"project_id"}
    defaults = {name: body.get("default") for name, body in storage.variables.items()}
    assert defaults["region"] == "europe-west1"
    assert defaults["bucket_name"] == ""
    assert defaults["lake_prefix"] == "lake"
    assert defaults["create_bigquery"] is False
    assert defaults["bigquery_release"] == ""

    required = {name for name, body in compute.variables.items() if "default" not in body}
    assert required == {"project_id", "lake_bucket", "lake_root", "image"}
    defaults = {name: body.get("default") for name, body in compute.variables.items()}
    assert defaults["region"] == "europe-west1"
    assert defaults["zone"] == ""
    assert defaults["cluster_name"] == "openlibrary"
    assert defaults["spark_runner"] == "dataproc"
    assert defaults["cron_schedule"] == docker_module("render_crontab").DEFAULT_SCHEDULE, (
        "the container's own default (docker/render_crontab.py)"
    )
    assert defaults["vm_machine_type"] == "e2-small"
    assert defaults["worker_count"] == 2
    assert defaults["master_machine_type"] == defaults["worker_machine_type"] == "n2-standard-4"

    assert {"lake_bucket", "lake_root", "image_repository"} <= set(storage.outputs)
    assert {"luigid_tunnel_command", "vm_name", "cluster_name"} <= set(compute.outputs)


def test_storage_derives_bucket_lake_root_and_repository(scratch: Path) -> None:
    names = "{bucket = local.bucket_name, root = local.lake_root, repository = local.image_repository}"
    assert evaluate_ok("storage", names, STORAGE_VARS, scratch) == {
        "bucket": BUCKET,
        "root": f"gs://{BUCKET}/lake",
        "repository": f"europe-west1-docker.pkg.dev/{PROJECT}/openlibrary",
    }
    chosen = {**STORAGE_VARS, "bucket_name": "my-lake", "lake_prefix": "data/lake", "region": "us-central1"}
    assert evaluate_ok("storage", names, chosen, scratch) == {
        "bucket": "my-lake",
        "root": "gs://my-lake/data/lake",
        "repository": f"us-central1-docker.pkg.dev/{PROJECT}/openlibrary",
    }


def test_compute_zone_defaults_to_region_b(scratch: Path) -> None:
    assert evaluate_ok("compute", "local.zone", COMPUTE_VARS, scratch) == "europe-west1-b"
    assert evaluate_ok("compute", "local.zone", {**COMPUTE_VARS, "zone": "europe-west1-d"}, scratch) == (
        "europe-west1-d"
    )


BAD_INPUTS = [
    ("storage", {"region": "europe-west1-b"}, "region must be a Google Cloud region"),
    ("storage", {"region": "EU"}, "region must be a Google Cloud region"),
    ("storage", {"create_bigquery": "true"}, "create_bigquery = true needs bigquery_release"),
    (
        "storage",
        {"create_bigquery": "true", "bigquery_release": "latest"},
        "bigquery_release must be a release date",
    ),
    ("storage", {"bucket_name": "gs://x"}, "bucket_name must be"),
    ("storage", {"lake_prefix": "/lake/"}, "lake_prefix must be a relative folder"),
    ("compute", {"spark_runner": "local"}, 'spark_runner must be "dataproc" or "serverless"'),
    ("compute", {"cron_schedule": "0 6 5 *"}, "cron_schedule must be exactly 5 cron fields"),
    ("compute", {"cron_schedule": "0 6 5 * * *"}, "cron_schedule must be exactly 5 cron fields"),
    ("compute", {"cron_schedule": "@monthly"}, "cron_schedule must be exactly 5 cron fields"),
    ("compute", {"region": "europe-west1-b"}, "region must be a Google Cloud region"),
    ("compute", {"zone": "us-east1-b"}, "zone must be a zone of the region"),
    ("compute", {"lake_root": "gs://another-bucket/lake"}, "lake_root must be gs://{lake_bucket}/{prefix}"),
    ("compute", {"lake_root": f"gs://{BUCKET}/lake/"}, "lake_root must be gs://{lake_bucket}/{prefix}"),
    ("compute", {"image": "docker.io/library/python:3.11"}, "image must be an Artifact Registry image"),
    (
        "compute",
        {"image": f"europe-west1-docker.pkg.dev/{PROJECT}/openlibrary/pipeline"},
        "with a tag or digest",
    ),
    ("compute", {"worker_count": "1"}, "worker_count must be 0 (single node)"),
    ("compute", {"idle_delete_ttl": "1h"}, "idle_delete_ttl must be seconds"),
    ("compute", {"idle_delete_ttl": "60s"}, "idle_delete_ttl must be seconds"),
    ("compute", {"operators": '["alice@example.com"]'}, "Each operator must be an IAM member"),
    ("compute", {"serverless_runtime_version": "2.3.5"}, "serverless_runtime_version must be a major.minor"),
    ("compute", {"serverless_runtime_version": "latest"}, "serverless_runtime_version must be a major.minor"),
    ("compute", {"dataproc_image_version": "latest"}, "dataproc_image_version must be a Dataproc image"),
    ("compute", {"dataproc_image_version": "2.3-debian"}, "dataproc_image_version must be a Dataproc image"),
    ("compute", {"alert_email": "ops"}, "alert_email must be one e-mail address"),
    ("compute", {"alert_email": "a@example.com, b@example.com"}, "alert_email must be one e-mail address"),
]


@pytest.mark.parametrize(("stack", "overrides", "message"), BAD_INPUTS)
def test_validation_rejects_bad_input(
    stack: str, overrides: dict[str, str], message: str, scratch: Path
) -> None:
    base = STORAGE_VARS if stack == "storage" else COMPUTE_VARS
    result = evaluate(stack, "1", {**base, **overrides}, scratch)
    assert result.value is None, f"{overrides} was accepted"
    assert "Invalid value for variable" in result.errors
    assert message in result.errors, result.errors


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("storage", {}),
        ("storage", {"create_bigquery": "true", "bigquery_release": "2026-10-31"}),
        ("compute", {}),
        ("compute", {"spark_runner": "serverless", "worker_count": "0", "zone": "europe-west1-c"}),
        ("compute", {"cron_schedule": "*/15 1-5 * jan,jul mon-fri", "idle_delete_ttl": "1209600s"}),
        (
            "compute",
            {"image": f"europe-west1-docker.pkg.dev/{PROJECT}/openlibrary/pipeline@sha256:{'a' * 64}"},
        ),
        ("compute", {"operators": '["user:alice@example.com", "group:ops@example.com"]'}),
        ("compute", {"dataproc_image_version": "2.3", "serverless_runtime_version": "3.0"}),
        ("compute", {"dataproc_image_version": "2.3.13-ubuntu22"}),
        ("compute", {"alert_email": "ops+openlibrary@example.com"}),
    ],
)
def test_validation_accepts_good_input(stack: str, overrides: dict[str, str], scratch: Path) -> None:
    base = STORAGE_VARS if stack == "storage" else COMPUTE_VARS
    assert evaluate_ok(stack, "1", {**base, **overrides}, scratch) == 1


# --- storage: the lake bucket, the image repository, BigQuery ---


def test_lake_bucket_is_private_versioned_and_deletable(storage: Stack) -> None:
    bucket = storage.resource("google_storage_bucket", "lake")
    assert bucket["name"] == "${local.bucket_name}"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["force_destroy"] is True
    assert only_block(bucket, "versioning")["enabled"] is True
    rules = [(only_block(rule, "condition"), only_block(rule, "action")) for rule in bucket["lifecycle_rule"]]
    noncurrent = [
        condition for condition, action in rules
        if action["type"] == "Delete" and "days_since_noncurrent_time" in condition
    ]  # fmt: skip
    assert noncurrent, "no lifecycle rule deletes noncurrent versions"
    assert noncurrent[0]["days_since_noncurrent_time"] == "${var.noncurrent_version_days}"
    assert noncurrent[0]["with_state"] == "ARCHIVED"
    assert storage.variables["noncurrent_version_days"]["default"] >= 1
    assert not storage.resources.get("google_storage_bucket_acl"), "uniform access: no ACLs"


def test_image_repository_keeps_recent_images(storage: Stack) -> None:
    repository = storage.resource("google_artifact_registry_repository", "images")
    assert repository["format"] == "DOCKER"
    assert repository["location"] == "${var.region}"
    assert repository["repository_id"] == "${var.repository_id}"
    assert storage.variables["repository_id"]["default"] == "openlibrary"
    assert repository["cleanup_policy_dry_run"] is False
    policies = {policy["action"]: policy for policy in repository["cleanup_policies"]}
    assert set(policies) == {"KEEP", "DELETE"}
    assert only_block(policies["KEEP"], "most_recent_versions")["keep_count"] == "${var.keep_image_versions}"
    assert only_block(policies["DELETE"], "condition")["older_than"].endswith("s")
    output = storage.outputs["image_repository"]
    assert output["value"] == "${local.image_repository}"
    assert output["depends_on"] == ["${google_artifact_registry_repository.images}"]


def test_bigquery_is_gated_by_create_bigquery(storage: Stack, scratch: Path) -> None:
    dataset = storage.resource("google_bigquery_dataset", "lake")
    assert dataset["count"] == "${var.create_bigquery ? 1 : 0}"
    assert dataset["delete_contents_on_destroy"] is True
    table = storage.resource("google_bigquery_table", "lake")
    assert table["for_each"] == "${local.bigquery_sources}"
    for kind, name in (
        ("google_bigquery_dataset_iam_member", "readers"),
        ("google_storage_bucket_iam_member", "bigquery_readers"),
    ):
        assert storage.resource(kind, name)["for_each"].startswith("${var.create_bigquery ?"), name
    assert evaluate_ok("storage", "local.bigquery_sources", STORAGE_VARS, scratch) == {}


def test_bigquery_external_tables_read_one_release_of_every_table_and_mart(
    storage: Stack, scratch: Path
) -> None:
    table = storage.resource("google_bigquery_table", "lake")
    external = only_block(table, "external_data_configuration")
    assert external["source_format"] == "PARQUET"
    assert external["autodetect"] is True
    assert external["source_uris"] == ["${each.value}"]
    assert table["deletion_protection"] is False

    chosen = {**STORAGE_VARS, "create_bigquery": "true", "bigquery_release": "2026-10-31"}
    sources = evaluate_ok("storage", "local.bigquery_sources", chosen, scratch)
    lake = f"gs://{BUCKET}/lake"
    expected = {table: f"{lake}/curated/2026-10-31/{table}/*.parquet" for table in CURATED}
    expected |= {mart: f"{lake}/marts/2026-10-31/{mart}/*.parquet" for mart in MARTS}
    assert sources == expected
    assert all(uri.count("*") == 1 for uri in sources.values()), "BigQuery allows one wildcard per URI"


# --- compute: identities and their grants ---


def member_of(body: dict[str, Any]) -> str:
    return body["member"]


LUIGI = "serviceAccount:${google_service_account.luigi.email}"
DATAPROC = "serviceAccount:${google_service_account.dataproc.email}"


def test_no_project_wide_storage_role_no_authoritative_iam_no_keys(storage: Stack, compute: Stack) -> None:
    for stack in (storage, compute):
        for kind, name, body in stack.all_resources():
            assert not kind.endswith(("_iam_policy", "_iam_binding")), f"{kind}.{name}: authoritative IAM"
            assert kind != "google_service_account_key", "no service account keys, ever"
            if kind == "google_project_iam_member":
                assert "storage" not in body["role"], f"{name}: project-wide storage role {body['role']}"
                assert body["role"] not in {"roles/owner", "roles/editor", "roles/viewer"}


def test_service_accounts_get_objects_on_the_lake_bucket_only(compute: Stack) -> None:
    grants = {
        (body["bucket"], body["role"], member_of(body))
        for body in compute.resources["google_storage_bucket_iam_member"].values()
    }  # fmt: skip
    staging = "${google_storage_bucket.dataproc_staging.name}"
    assert grants == {
        ("${var.lake_bucket}", "roles/storage.objectUser", LUIGI),
        ("${var.lake_bucket}", "roles/storage.objectUser", DATAPROC),
        (staging, "roles/storage.objectUser", DATAPROC),
        (staging, "roles/storage.objectViewer", LUIGI),
    }
    project_roles = {
        (body["role"], member_of(body)) for body in compute.resources["google_project_iam_member"].values()
    }
    assert project_roles == {
        ("${google_project_iam_custom_role.submitter.id}", LUIGI),
        ("roles/logging.logWriter", LUIGI),
        ("roles/dataproc.worker", DATAPROC),
    }
    pull = compute.resource("google_artifact_registry_repository_iam_member", "luigi_pull")
    assert (pull["role"], pull["member"], pull["repository"]) == (
        "roles/artifactregistry.reader", LUIGI, "${local.image_repository_id}",
    )  # fmt: skip


def test_vm_may_act_as_the_dataproc_account_for_either_runner(compute: Stack) -> None:
    """A Serverless batch and a cluster the runner creates again both run as the Dataproc account: the VM's
    account may act as that account, for both runners, and as no other."""
    acts_as = dict(compute.resource("google_service_account_iam_member", "luigi_acts_as_dataproc"))
    acts_as.pop("depends_on")  # the APIs (test_every_resource_waits_for_the_apis_it_calls)
    assert acts_as == {
        "service_account_id": "${google_service_account.dataproc.name}",
        "role": "roles/iam.serviceAccountUser",
        "member": LUIGI,
    }, "granted on the Dataproc account alone, whatever the runner (no count)"
    grants_to_luigi = [
        name for name, body in compute.resources["google_service_account_iam_member"].items()
        if body["member"] == LUIGI
    ]  # fmt: skip
    assert grants_to_luigi == ["luigi_acts_as_dataproc"]
    # the container may create the cluster from its first boot
    vm = compute.resource("google_compute_instance", "luigi")
    assert "${google_service_account_iam_member.luigi_acts_as_dataproc}" in vm["depends_on"]


def test_operators_reach_only_the_vm_through_iap(compute: Stack) -> None:
    grants = {
        (kind, body["role"])
        for kind, named in compute.resources.items()
        for body in named.values()
        if body.get("for_each") == "${toset(var.operators)}"
    }  # fmt: skip
    assert grants == {
        ("google_iap_tunnel_instance_iam_member", "roles/iap.tunnelResourceAccessor"),
        ("google_compute_instance_iam_member", "roles/compute.osAdminLogin"),
        ("google_service_account_iam_member", "roles/iam.serviceAccountUser"),
    }
    tunnel = compute.resource("google_iap_tunnel_instance_iam_member", "operators")
    assert tunnel["instance"] == "${google_compute_instance.luigi.name}"
    login = compute.resource("google_compute_instance_iam_member", "operators")
    assert login["instance_name"] == "${google_compute_instance.luigi.name}"
    acts_as = compute.resource("google_service_account_iam_member", "operators_on_vm_account")
    assert acts_as["service_account_id"] == "${google_service_account.luigi.name}"


# Each Dataproc client method and the IAM permissions it needs, from the "required permissions" tables of
# https://cloud.google.com/dataproc/docs/concepts/iam/iam (clusters, jobs, operations) and the REST reference
# of projects.locations.batches (create, get, list, delete). Creating a cluster or a batch that runs as a
# service account also needs actAs on that account: luigi_acts_as_dataproc, not the role.
DATAPROC_METHOD_PERMISSIONS = {
    "create_cluster": {"dataproc.clusters.create"},
    "get_cluster": {"dataproc.clusters.get"},
    "list_clusters": {"dataproc.clusters.list"},
    "update_cluster": {"dataproc.clusters.update"},
    "delete_cluster": {"dataproc.clusters.delete"},
    "start_cluster": {"dataproc.clusters.start"},
    "stop_cluster": {"dataproc.clusters.stop"},
    "submit_job": {"dataproc.jobs.create", "dataproc.clusters.use"},
    "submit_job_as_operation": {"dataproc.jobs.create", "dataproc.clusters.use"},
    "get_job": {"dataproc.jobs.get"},
    "list_jobs": {"dataproc.jobs.list"},
    "cancel_job": {"dataproc.jobs.cancel"},
    "update_job": {"dataproc.jobs.update"},
    "delete_job": {"dataproc.jobs.delete"},
    "create_batch": {"dataproc.batches.create"},
    "get_batch": {"dataproc.batches.get"},
    "list_batches": {"dataproc.batches.list"},
    "delete_batch": {"dataproc.batches.delete"},
    "get_operation": {"dataproc.operations.get"},
    "list_operations": {"dataproc.operations.list"},
    "cancel_operation": {"dataproc.operations.cancel"},
    "delete_operation": {"dataproc.operations.delete"},
}
# Waiting on the long-running operation a create returns polls operations.get (google.api_core's Operation).
OPERATION_WAITS = {"result", "done", "exception", "add_done_callback"}
RUNNER_CLASSES = {"dataproc": "DataprocJobRunner", "serverless": "DataprocServerlessRunner"}
CORE_CALLS = {"dataproc": {"submit_job", "get_job"}, "serverless": {"create_batch", "get_batch"}}


def dataproc_calls(runner_class: str) -> set[str]:
    """The Dataproc client methods `runner_class` of runners/dataproc.py (with its bases there) calls, and
    "get_operation" when it waits on an operation. A method of a client the table above doesn't know fails:
    its permission has to be looked up first."""
    tree = ast.parse((TERRAFORM.parent / "runners" / "dataproc.py").read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    assert runner_class in classes, f"runners/dataproc.py has no class {runner_class}: update RUNNER_CLASSES"
    lineage, pending = [], [runner_class]
    while pending:
        node = classes[pending.pop()]
        lineage.append(node)
        pending += [base.id for base in node.bases if isinstance(base, ast.Name) and base.id in classes]
    # the attributes holding a Dataproc client: properties annotated as returning dataproc_v1.…Client
    clients = {
        item.name for node in lineage for item in node.body
        if isinstance(item, ast.FunctionDef) and item.returns is not None
        and re.fullmatch(r"dataproc_v1\.\w+Client", ast.unparse(item.returns))
    }  # fmt: skip
    assert clients, f"{runner_class}: no Dataproc client property found"
    calls: set[str] = set()
    for node in lineage:
        for call in ast.walk(node):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            receiver, method = call.func.value, call.func.attr
            on_client = (
                isinstance(receiver, ast.Attribute)
                and receiver.attr in clients
                and (isinstance(receiver.value, ast.Name) and receiver.value.id == "self")
            )
            if on_client:
                assert method in DATAPROC_METHOD_PERMISSIONS, (
                    f"{runner_class} calls {method} on a Dataproc client: add it to "
                    "DATAPROC_METHOD_PERMISSIONS with its permission from the Dataproc IAM page"
                )
                calls.add(method)
            elif method in OPERATION_WAITS:
                calls.add("get_operation")
    return calls


@pytest.mark.parametrize("runner", sorted(RUNNER_CLASSES))
def test_submitter_role_holds_exactly_the_permissions_of_the_runners_calls(
    runner: str, compute: Stack, scratch: Path
) -> None:
    role = compute.resource("google_project_iam_custom_role", "submitter")
    assert role["permissions"] == "${local.submitter_permissions}"
    calls = dataproc_calls(RUNNER_CLASSES[runner])
    assert CORE_CALLS[runner] <= calls, f"{runner}: the calls were not found in runners/dataproc.py"
    needed = set().union(*(DATAPROC_METHOD_PERMISSIONS[call] for call in calls))
    permissions = evaluate_ok(
        "compute", "local.submitter_permissions", {**COMPUTE_VARS, "spark_runner": runner}, scratch
    )
    assert len(permissions) == len(set(permissions))
    assert set(permissions) == needed, (
        f"{runner}: the role has {sorted(set(permissions) - needed)} the runner doesn't use and lacks "
        f"{sorted(needed - set(permissions))} (calls: {sorted(calls)})"
    )


# --- compute: network and firewall ---


def test_firewall_lets_in_only_iap_to_ssh_and_dataproc_from_its_subnet(compute: Stack) -> None:
    rules = compute.resources["google_compute_firewall"]
    assert set(rules) == {"iap_ssh", "dataproc_internal"}
    for name, rule in rules.items():
        assert rule["direction"] == "INGRESS"
        assert "0.0.0.0/0" not in rule["source_ranges"], name
        for allow in rule["allow"]:
            assert "8082" not in allow.get("ports", []), f"{name} opens luigid's port"
    ssh = rules["iap_ssh"]
    assert ssh["source_ranges"] == [IAP_RANGE]
    assert ssh["allow"] == [{"protocol": "tcp", "ports": ["22"]}]
    assert ssh["target_tags"] == ["${local.vm_tag}"]
    internal = rules["dataproc_internal"]
    assert internal["source_ranges"] == ["${var.subnet_cidr}"]
    assert internal["target_service_accounts"] == ["${google_service_account.dataproc.email}"]


def test_subnet_has_private_google_access_and_egress_goes_through_nat(compute: Stack) -> None:
    subnet = compute.resource("google_compute_subnetwork", "main")
    assert subnet["private_ip_google_access"] is True
    nat = compute.resource("google_compute_router_nat", "nat")
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    assert only_block(nat, "subnetwork")["name"] == "${google_compute_subnetwork.main.id}"
    assert compute.resource("google_compute_network", "main")["auto_create_subnetworks"] is False


# --- compute: the VM ---


def test_vm_is_shielded_private_cos_with_oslogin_and_cloud_init(compute: Stack) -> None:
    vm = compute.resource("google_compute_instance", "luigi")
    shielded = only_block(vm, "shielded_instance_config")
    assert shielded == {"enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True}
    interface = only_block(vm, "network_interface")
    assert "access_config" not in interface, "the VM must have no external IP"
    assert interface["subnetwork"] == "${google_compute_subnetwork.main.id}"
    assert only_block(only_block(vm, "boot_disk"), "initialize_params")["image"].startswith(
        "projects/cos-cloud/global/images/family/"
    )
    assert compute.variables["cos_image_family"]["default"].startswith("cos-")
    assert only_block(vm, "service_account")["email"] == "${google_service_account.luigi.email}"
    metadata = vm["metadata"]
    assert metadata["user-data"] == "${local.cloud_init}"
    assert metadata["block-project-ssh-keys"] == "true"
    assert metadata["enable-oslogin"].lower() == "true"
    assert metadata["serial-port-enable"] == "false"
    assert not {"gce-container-declaration", "startup-script", "ssh-keys"} & set(metadata)
    assert only_block(vm, "lifecycle")["replace_triggered_by"] == ["${terraform_data.cloud_init}"]
    assert compute.resource("terraform_data", "cloud_init")["input"] == "${local.cloud_init}"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> values in order (keys repeat), continuation lines joined."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    logical = re.sub(r"\\\n\s*", " ", text)
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def render_cloud_init(overrides: dict[str, str], scratch: Path) -> tuple[str, dict[str, Any]]:
    text = evaluate_ok("compute", "local.cloud_init", {**COMPUTE_VARS, **overrides}, scratch)
    return text, yaml.safe_load(text)


# docker reads an env file with a bufio.Scanner: a longer line fails `docker run`.
DOCKER_MAX_LINE = 64 * 1024


def docker_env_file(content: str) -> dict[str, str]:
    """What `docker run --env-file` makes of `content`, by docker/cli's rules (pkg/kvfile): one KEY=VALUE a
    line (newline-separated), leading whitespace, blank lines and # lines skipped, a key without whitespace,
    the value as is, with no escapes, quotes or substitution, except that recent docker CLIs drop one pair of
    matching quotes around a value. Fails on a line docker would refuse or on a value that older and newer
    docker would read differently."""
    environment: dict[str, str] = {}
    for raw in content.split("\n"):
        assert len(raw.encode()) < DOCKER_MAX_LINE, f"line of {len(raw)} characters: docker can't read it"
        assert "\r" not in raw and "\0" not in raw, f"control character in {raw[:60]!r}"
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        assert equals and key and not re.search(r"[ \t]", key), f"docker would refuse or skip {line[:60]!r}"
        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        assert not quoted, f"{key}: docker versions disagree on {value[:60]!r} (quotes stripped or kept)"
        assert key not in environment, f"{key} twice"
        environment[key] = value
    return environment


def env_file(config: dict[str, Any]) -> tuple[str, dict[str, str]]:
    (entry,) = [item for item in config["write_files"] if item["path"].endswith(".env")]
    return entry["path"], docker_env_file(entry["content"])


@pytest.mark.parametrize("runner", ["dataproc", "serverless"])
def test_cloud_init_is_valid_yaml_and_passes_the_container_its_environment(
    runner: str, scratch: Path
) -> None:
    text, config = render_cloud_init({"spark_runner": runner}, scratch)
    assert text.startswith("#cloud-config\n"), "cloud-init needs the #cloud-config header on line 1"
    assert set(config) == {"write_files", "runcmd"}
    for item in config["write_files"]:
        assert set(item) == {"path", "permissions", "owner", "content"}
        assert item["path"].startswith("/etc/"), (
            "on COS only /etc (re-written every boot) and /var are writable"
        )
        assert re.fullmatch(r"0[0-7]{3}", item["permissions"]), "permissions must be a quoted octal string"
    path, environment = env_file(config)
    cluster_config = environment.pop("DATAPROC_CLUSTER_CONFIG", None)
    cluster_labels = environment.pop("DATAPROC_CLUSTER_LABELS", None)
    assert environment == {
        "CRON": "30 5 1 * *",
        "LAKE_ROOT": f"gs://{BUCKET}/lake",
        "SPARK_RUNNER": runner,
        "DATAPROC_PROJECT": PROJECT,
        "DATAPROC_REGION": "europe-west1",
        "DATAPROC_CLUSTER": "openlibrary" if runner == "dataproc" else "",
        "DATAPROC_SERVICE_ACCOUNT": DATAPROC_SA,
        "DATAPROC_SUBNETWORK": SUBNETWORK,
        "DATAPROC_RUNTIME_VERSION": "2.3",
    }
    # the cluster's configuration, to create it again (its content: the Dataproc tests below)
    assert cluster_config is not None and json.loads(cluster_config) == (
        default_cluster_config() if runner == "dataproc" else {}
    )
    # and its labels, which the cluster resource gets too (a cluster created again is labelled alike)
    assert cluster_labels is not None and json.loads(cluster_labels) == {"app": "openlibrary-pipeline"}
    assert not any(re.search(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIALS", name) for name in environment)

    (unit_file,) = [item for item in config["write_files"] if item["path"].endswith(".service")]
    assert unit_file["path"] == "/etc/systemd/system/openlibrary.service"
    service = parse_unit(unit_file["content"])["Service"]
    pre = [shlex.split(command.lstrip("-")) for command in service["ExecStartPre"]]
    (run,) = [shlex.split(command) for command in service["ExecStart"]]
    assert run[:2] == ["/usr/bin/docker", "run"] and run[-1] == IMAGE
    options = run[2:-1]
    assert {"--name", "openlibrary"} <= set(options) and options[options.index("--name") + 1] == "openlibrary"
    assert "--restart=always" in options
    assert options[options.index("-p") + 1] == "127.0.0.1:8082:8082", (
        "luigid must listen on the VM's loopback only"
    )
    volume = options[options.index("-v") + 1]
    assert re.fullmatch(r"/mnt/stateful_partition/[\w-]+/luigid:/var/lib/luigid", volume)
    assert options[options.index("--env-file") + 1] == path
    assert not any(option.startswith(("-e", "--env=")) and option != "--env-file" for option in options)

    credential_helper = [
        "/usr/bin/docker-credential-gcr",
        "configure-docker",
        "--registries=europe-west1-docker.pkg.dev",
    ]
    steps = [command[:3] for command in pre]
    assert credential_helper in steps
    assert steps.index(credential_helper) < steps.index(["/usr/bin/docker", "pull", IMAGE])
    assert pre[0][:2] == ["/bin/mkdir", "-p"] and volume.split(":")[0] in pre[0]
    assert any(key == "HOME" for key, _, _ in (value.partition("=") for value in service["Environment"]))
    assert service["ExecStop"] == ["/usr/bin/docker stop --time=60 openlibrary"], (
        "luigid saves its state on SIGTERM"
    )
    assert config["runcmd"] == ["systemctl daemon-reload", "systemctl start --no-block openlibrary.service"]


@pytest.mark.parametrize("runner", ["dataproc", "serverless"])
def test_every_container_variable_but_cron_sets_a_pipeline_setting(runner: str, scratch: Path) -> None:
    """The container reads its settings as SECTION_KEY variables (tasks/config.py): a variable Terraform
    passes under another name would be ignored. CRON is the crontab's (docker/render_crontab.py)."""
    _, rendered = render_cloud_init({"spark_runner": runner}, scratch)
    _, environment = env_file(rendered)
    settings = {
        f"{section.get_task_family()}_{name}".upper()
        for section in config.CONFIG_CLASSES for name, _ in section.get_params()
    }  # fmt: skip
    assert set(environment) - {"CRON"} <= settings, set(environment) - {"CRON"} - settings


def test_tunnel_and_log_commands_reach_the_vm_through_iap(compute: Stack, scratch: Path) -> None:
    command = shlex.split(evaluate_ok("compute", "local.luigid_tunnel_command", COMPUTE_VARS, scratch))
    assert command[:4] == ["gcloud", "compute", "ssh", "openlibrary-luigi"]
    assert "--tunnel-through-iap" in command
    assert command[command.index("--zone") + 1] == "europe-west1-b"
    assert command[command.index("--project") + 1] == PROJECT
    ssh = command[: command.index("--")]
    assert command[len(ssh) :] == ["--", "-N", "-L", "8082:127.0.0.1:8082"]
    logs = shlex.split(evaluate_ok("compute", "local.container_logs_command", COMPUTE_VARS, scratch))
    assert logs == [*ssh, "--command", "sudo docker logs --follow --tail 200 openlibrary"]
    for name in ("luigid_tunnel_command", "container_logs_command"):
        assert compute.outputs[name]["value"] == f"${{local.{name}}}"


def test_a_failed_run_alerts_on_its_failure_summary(compute: Stack, scratch: Path) -> None:
    """The alert matches what the container really prints when a run fails: the head of
    docker/failure_summary.py's summary, and run-pipeline's fallback line when the summary itself fails,
    in the container's log as the VM's logging agent writes it (cos_containers, jsonPayload.message)."""
    marker = evaluate_ok("compute", "local.run_failed_marker", COMPUTE_VARS, scratch)
    head = docker_module("failure_summary").summary(
        "", 30, "latest", "2026-11-03T06:00:00Z", datetime.now(UTC)
    )[0]
    assert marker in head, head
    run_pipeline = (TERRAFORM.parent / "docker" / "run-pipeline").read_text()
    assert f"{marker}: exit code" in run_pipeline

    policy = compute.resource("google_monitoring_alert_policy", "run_failed")
    (condition,) = policy["conditions"]
    terms = condition["condition_matched_log"][0]["filter"]
    assert "${google_compute_instance.luigi.instance_id}" in terms, "only this VM's container"
    assert "logs/cos_containers" in terms
    assert 'jsonPayload.message:\\"${local.run_failed_marker}\\"' in terms
    (strategy,) = policy["alert_strategy"]
    assert strategy["notification_rate_limit"], "Cloud Monitoring refuses a log-match alert without one"
    assert "--log-driver" not in evaluate_ok("compute", "local.cloud_init", COMPUTE_VARS, scratch), (
        "the logging agent reads the json-file logs of the container"
    )


def test_alert_email_adds_the_only_notification_channel(compute: Stack) -> None:
    channel = compute.resource("google_monitoring_notification_channel", "email")
    assert channel["count"] == '${var.alert_email == "" ? 0 : 1}'
    assert channel["type"] == "email"
    assert channel["labels"] == {"email_address": "${var.alert_email}"}
    policy = compute.resource("google_monitoring_alert_policy", "run_failed")
    assert policy["notification_channels"] == "${google_monitoring_notification_channel.email[*].id}"
    assert compute.variables["alert_email"]["default"] == ""


# --- compute: Dataproc ---


def expected_cluster_config(
    *, zone: str, master: str, worker: str, workers: int, disk_gb: int, image: str, ttl: str
) -> dict[str, Any]:
    """The Dataproc REST ClusterConfig for these variable values, written out by hand."""
    disk = {"bootDiskType": "pd-balanced", "bootDiskSizeGb": disk_gb}
    config: dict[str, Any] = {
        "configBucket": f"{PROJECT}-openlibrary-dataproc",
        "tempBucket": f"{PROJECT}-openlibrary-dataproc",
        "gceClusterConfig": {
            "zoneUri": zone,
            "subnetworkUri": SUBNETWORK,
            "internalIpOnly": True,
            "serviceAccount": DATAPROC_SA,
            "serviceAccountScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "shieldedInstanceConfig": {
                "enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True,
            },
        },
        "masterConfig": {"numInstances": 1, "machineTypeUri": master, "diskConfig": disk},
        "softwareConfig": {
            "imageVersion": image,
            "properties": {} if workers else {"dataproc:dataproc.allow.zero.workers": "true"},
        },
        "lifecycleConfig": {"idleDeleteTtl": ttl},
        "endpointConfig": {"enableHttpPortAccess": False},
    }  # fmt: skip
    if workers:  # a single-node cluster has no workerConfig at all (Dataproc's single node clusters page)
        config["workerConfig"] = {"numInstances": workers, "machineTypeUri": worker, "diskConfig": disk}
    return config


def default_cluster_config() -> dict[str, Any]:
    return expected_cluster_config(
        zone="europe-west1-b", master="n2-standard-4", worker="n2-standard-4", workers=2, disk_gb=100,
        image="2.3-debian12", ttl="3600s",
    )  # fmt: skip


# worker_count = 0 with every other cluster variable changed too, so each value is seen following its variable
SINGLE_NODE = {
    "worker_count": "0", "zone": "europe-west1-c", "master_machine_type": "n2-highmem-8",
    "worker_machine_type": "e2-standard-2", "dataproc_disk_gb": "250", "idle_delete_ttl": "7200s",
    "dataproc_image_version": "2.3.13-debian12",
}  # fmt: skip
CLUSTERS = [
    pytest.param({}, default_cluster_config(), id="default"),
    pytest.param(
        SINGLE_NODE,
        expected_cluster_config(
            zone="europe-west1-c",
            master="n2-highmem-8",
            worker="e2-standard-2",
            workers=0,
            disk_gb=250,
            image="2.3.13-debian12",
            ttl="7200s",
        ),
        id="single-node",
    ),
]


def container_cluster_config(overrides: dict[str, str], scratch: Path) -> str:
    """DATAPROC_CLUSTER_CONFIG as the container gets it: the VM's rendered cloud-init, read as YAML the way
    cloud-init does, its env file read the way `docker run --env-file` does."""
    _, config = render_cloud_init(overrides, scratch)
    return env_file(config)[1]["DATAPROC_CLUSTER_CONFIG"]


@pytest.mark.parametrize(("overrides", "expected"), CLUSTERS)
def test_the_container_gets_the_cluster_as_rest_cluster_config_json(
    overrides: dict[str, str], expected: dict[str, Any], scratch: Path
) -> None:
    text = container_cluster_config({"spark_runner": "dataproc", **overrides}, scratch)
    # [dataproc] cluster_config reads it unchanged (a whole JSON document: the env file has one line each)
    read = recursively_unfreeze(config.dataproc.cluster_config.parse(text))
    assert read == expected

    # and the runner's parser (google-cloud-dataproc's, which refuses field names the REST ClusterConfig
    # doesn't have, as a wrong one shows) takes it, reading the TTL as a duration
    proto = parse_cluster_config(read)
    with pytest.raises(ValueError, match="no field named"):
        parse_cluster_config(json.loads(text.replace('"zoneUri"', '"zone"')))
    ttl = int(expected["lifecycleConfig"]["idleDeleteTtl"].removesuffix("s"))
    assert proto.lifecycle_config.idle_delete_ttl == timedelta(seconds=ttl)


def test_serverless_gets_an_empty_cluster_config(scratch: Path) -> None:
    """No cluster to create again: "{}", which [dataproc] cluster_config reads as {} (the runner's "no
    config")."""
    text = container_cluster_config({"spark_runner": "serverless"}, scratch)
    assert text == "{}"
    assert recursively_unfreeze(config.dataproc.cluster_config.parse(text)) == {}


# Each argument of google_dataproc_cluster's cluster_config (dotted through its blocks) and the REST
# ClusterConfig field that carries the same setting.
REST_FIELD = {
    "staging_bucket": "configBucket",
    "temp_bucket": "tempBucket",
    "gce_cluster_config.zone": "gceClusterConfig.zoneUri",
    "gce_cluster_config.subnetwork": "gceClusterConfig.subnetworkUri",
    "gce_cluster_config.internal_ip_only": "gceClusterConfig.internalIpOnly",
    "gce_cluster_config.service_account": "gceClusterConfig.serviceAccount",
    "gce_cluster_config.service_account_scopes": "gceClusterConfig.serviceAccountScopes",
    "gce_cluster_config.shielded_instance_config.enable_secure_boot": (
        "gceClusterConfig.shieldedInstanceConfig.enableSecureBoot"
    ),
    "gce_cluster_config.shielded_instance_config.enable_vtpm": (
        "gceClusterConfig.shieldedInstanceConfig.enableVtpm"
    ),
    "gce_cluster_config.shielded_instance_config.enable_integrity_monitoring": (
        "gceClusterConfig.shieldedInstanceConfig.enableIntegrityMonitoring"
    ),
    **{
        f"{group}_config.{argument}": f"{group}Config.{field}"
        for group in ("master", "worker")
        for argument, field in (
            ("num_instances", "numInstances"),
            ("machine_type", "machineTypeUri"),
            ("disk_config.boot_disk_type", "diskConfig.bootDiskType"),
            ("disk_config.boot_disk_size_gb", "diskConfig.bootDiskSizeGb"),
        )
    },
    "software_config.image_version": "softwareConfig.imageVersion",
    "software_config.override_properties": "softwareConfig.properties",
    "lifecycle_config.idle_delete_ttl": "lifecycleConfig.idleDeleteTtl",
    "endpoint_config.enable_http_port_access": "endpointConfig.enableHttpPortAccess",
}
REST_MAPS = {"softwareConfig.properties"}  # map fields: one value, not fields to descend into


def rest_fields(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The leaf fields of a REST ClusterConfig by dotted path."""
    fields: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in REST_MAPS:
            fields.update(rest_fields(value, f"{path}."))
        else:
            fields[path] = value
    return fields


def block_arguments(body: dict[str, Any]) -> dict[str, str]:
    """Every argument of a parsed block, by dotted path through its nested blocks, as an expression whose
    value is a list: one value per block Terraform makes (one for a plain block, one per for_each element
    for a dynamic block, whose iterator `name.value` is rewritten to the list's own variable)."""
    arguments: dict[str, str] = {}

    def in_dynamic(name: str, for_each: str) -> Callable[[str], str]:
        iterator = re.compile(rf"\b{name}\.(key|value)\b")

        def per_element(text: str) -> str:
            element = iterator.sub(lambda found: found.group(1), text)
            return f"[for key, value in {for_each} : {element}]"

        return per_element

    def walk(block: dict[str, Any], prefix: str, per_block: Callable[[str], str]) -> None:
        for key, value in block.items():
            if key == "dynamic":
                for generated in value:
                    for name, dynamic in generated.items():
                        in_it = in_dynamic(name, as_expression(dynamic["for_each"]))
                        walk(only_block(dynamic, "content"), f"{prefix}{name}.", in_it)
            elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
                walk(only_block(block, key), f"{prefix}{key}.", per_block)
            else:
                arguments[f"{prefix}{key}"] = per_block(as_expression(value))

    walk(body, "", lambda text: f"[{text}]")
    return arguments


@pytest.mark.parametrize(("overrides", "expected"), CLUSTERS)
def test_the_cluster_resource_gets_exactly_the_cluster_config_the_container_gets(
    overrides: dict[str, str], expected: dict[str, Any], compute: Stack, scratch: Path
) -> None:
    """Every argument of google_dataproc_cluster.spark's cluster_config, evaluated by Terraform with the same
    variables, equals the REST field it corresponds to, and every REST field has its argument: the cluster
    Terraform creates and the one the runner creates again are the same (a single-node cluster: no
    worker_config block and no workerConfig)."""
    variables = {**COMPUTE_VARS, **overrides}
    arguments = block_arguments(
        only_block(compute.resource("google_dataproc_cluster", "spark"), "cluster_config")
    )
    unknown = set(arguments) - set(REST_FIELD)
    assert not unknown, f"cluster_config arguments with no REST field in REST_FIELD (add both): {unknown}"
    # a resource reference fails here ("undeclared resource"): the arguments must come from locals.tf
    values = evaluate_all("compute", arguments, variables, scratch)
    for argument, per_block in values.items():
        assert len(per_block) <= 1, f"{argument}: more than one block"
    from_resource = {
        REST_FIELD[argument]: per_block[0] for argument, per_block in values.items() if per_block
    }
    rendered = json.loads(container_cluster_config({"spark_runner": "dataproc", **overrides}, scratch))
    assert from_resource == rest_fields(rendered) == rest_fields(expected)


def test_dataproc_cluster_is_gated_and_made_after_what_its_config_names(
    compute: Stack, scratch: Path
) -> None:
    cluster = compute.resource("google_dataproc_cluster", "spark")
    assert cluster["count"] == "${local.use_cluster ? 1 : 0}"
    assert evaluate_ok("compute", "local.use_cluster", COMPUTE_VARS, scratch) is True
    assert (
        evaluate_ok("compute", "local.use_cluster", {**COMPUTE_VARS, "spark_runner": "serverless"}, scratch)
        is False
    )
    # names from locals, not references: what they name must be made first
    assert {
        "${google_storage_bucket.dataproc_staging}",
        "${google_compute_subnetwork.main}",
        "${google_service_account.dataproc}",
        "${google_project_iam_member.dataproc_worker}",
        "${google_compute_router_nat.nat}",
    } <= set(cluster["depends_on"])
    # the names in the config are those of the bucket, subnet and account the stack makes
    assert (
        compute.resource("google_storage_bucket", "dataproc_staging")["name"]
        == "${local.staging_bucket_name}"
    )
    assert compute.resource("google_compute_subnetwork", "main")["name"] == "${local.subnet_name}"
    assert compute.resource("google_service_account", "dataproc")["account_id"] == "${local.dataproc_sa_id}"
    assert compute.variables["idle_delete_ttl"]["default"] == "3600s"
    assert evaluate_ok("compute", "local.single_node", {**COMPUTE_VARS, "worker_count": "0"}, scratch) is True


class Release(NamedTuple):
    """What a Dataproc image or Serverless runtime runs, and its documented end of support."""

    spark: str
    python: str
    supported_until: date


# Dataproc on Compute Engine images by major.minor: "Dataproc image version list"
# (https://cloud.google.com/dataproc/docs/concepts/versioning/dataproc-version-clusters) for the dates, the
# 2.x.x release pages (dataproc-release-2.2, dataproc-release-2.3) for Spark and Python.
DATAPROC_IMAGES = {
    "2.2": Release(spark="3.5", python="3.11", supported_until=date(2027, 3, 31)),
    "2.3": Release(spark="3.5", python="3.11", supported_until=date(2027, 6, 9)),
}
# Serverless for Apache Spark runtimes: "Serverless for Apache Spark runtime versions"
# (https://cloud.google.com/dataproc-serverless/docs/concepts/versions/spark-runtime-versions) for the dates,
# the spark-runtime-X.Y component pages for Spark and Python.
SERVERLESS_RUNTIMES = {
    "1.2": Release(spark="3.5", python="3.12", supported_until=date(2026, 9, 30)),
    "2.2": Release(spark="3.5", python="3.12", supported_until=date(2026, 9, 30)),
    "2.3": Release(spark="3.5", python="3.11", supported_until=date(2027, 11, 26)),
    "3.0": Release(spark="4.0", python="3.12", supported_until=date(2027, 1, 31)),
}


def project_versions() -> tuple[str, str]:
    """The pinned pyspark's major.minor and the Python the project runs on (pyproject.toml)."""
    project = tomllib.loads((TERRAFORM.parent / "pyproject.toml").read_text())["project"]
    (pin,) = [dep for dep in project["dependencies"] if re.match(r"pyspark\b", dep)]
    spark = re.fullmatch(r"pyspark==(\d+\.\d+)\.\d+", pin)
    python = re.fullmatch(r">=(\d+\.\d+),<\d+\.\d+", project["requires-python"])
    assert spark and python, (pin, project["requires-python"])
    return spark.group(1), python.group(1)


def check_release(kind: str, version: str, releases: dict[str, Release]) -> None:
    major_minor = re.match(r"\d+\.\d+", version)
    assert major_minor and major_minor.group() in releases, (
        f"{kind} {version}: not in the table (add it from the docs)"
    )
    release = releases[major_minor.group()]
    spark, python = project_versions()
    assert release.supported_until >= date.today(), (
        f"{kind} {version} is past its end of support ({release.supported_until}): move to a supported one"
    )
    assert release.spark == spark, (
        f"{kind} {version} runs Spark {release.spark}, pyspark is pinned to {spark}"
    )
    assert release.python == python, f"{kind} {version} runs Python {release.python}, the project {python}"


def test_the_cluster_image_is_supported_and_runs_the_pinned_spark(scratch: Path) -> None:
    image = json.loads(container_cluster_config({"spark_runner": "dataproc"}, scratch))["softwareConfig"]
    check_release("Dataproc image", image["imageVersion"], DATAPROC_IMAGES)


def test_serverless_batches_get_a_supported_runtime_with_the_pinned_spark(scratch: Path) -> None:
    _, rendered = render_cloud_init({"spark_runner": "serverless"}, scratch)
    runtime = env_file(rendered)[1]["DATAPROC_RUNTIME_VERSION"]
    check_release("Serverless runtime", runtime, SERVERLESS_RUNTIMES)
    # and the variable reaches it: a later runtime is passed on unchanged
    _, rendered = render_cloud_init(
        {"spark_runner": "serverless", "serverless_runtime_version": "2.4"}, scratch
    )
    assert env_file(rendered)[1]["DATAPROC_RUNTIME_VERSION"] == "2.4"


# --- storage: Data Access audit logs ---


def test_cloud_storage_data_access_is_audited_and_the_bucket_skips_say_so(
    storage: Stack, compute: Stack
) -> None:
    """Data Access audit logs are off by default: the storage stack turns them on for Cloud Storage (reads
    and writes, nobody exempted), and that is the reason each bucket gives for having no usage-log bucket."""
    audit = storage.resource("google_project_iam_audit_config", "storage")
    assert (audit["project"], audit["service"]) == ("${var.project_id}", "storage.googleapis.com")
    configs = audit["audit_log_config"]
    assert sorted(item["log_type"] for item in configs) == ["DATA_READ", "DATA_WRITE"]
    assert not any(item.get("exempted_members") for item in configs)
    buckets = [
        (stack.name, name)
        for stack in (storage, compute)
        for name in stack.resources["google_storage_bucket"]
    ]
    reasons = [
        found for path in sorted(TERRAFORM.rglob("*.tf"))
        for found in re.findall(r"#checkov:skip=CKV_GCP_62:(.*)", path.read_text())
    ]  # fmt: skip
    assert len(reasons) == len(buckets), (buckets, reasons)
    assert all("Data Access audit logs" in reason for reason in reasons), reasons


def test_the_gitignore_keeps_state_and_provider_downloads_out_of_git() -> None:
    ignored = (TERRAFORM / ".gitignore").read_text().split()
    assert {".terraform/", "*.tfstate", "*.tfstate.*"} <= set(ignored)
