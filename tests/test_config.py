"""Settings enter one way: luigi.cfg, then environment/.env (SECTION_KEY), then the command line."""

import configparser
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import luigi.configuration
import pytest
from luigi.cmdline_parser import CmdlineParser
from luigi.freezing import recursively_unfreeze

from bench.dumpserver import DumpServer
from tasks import config
from tasks.config import apply_environment
from tasks.release import ReleaseParameter
from tests.pipeline_helpers import (
    DUMPS,
    PROJECT,
    RELEASE,
    child_folder,
    luigi_config,
    run_luigi,
    sample_release,
    write_config_file,
)


@contextmanager
def environment_restored() -> Iterator[None]:
    """os.environ as it was, afterwards: load_dotenv adds the .env's variables to it."""
    with mock.patch.dict(os.environ):
        yield


@pytest.fixture
def pinned_config():
    with luigi_config({"lake": {"root": "./from-cfg"}, "spark": {"master": "local[3]"}}):
        yield


def test_environment_overrides_the_config_file(pinned_config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_ROOT", "gs://bucket/from-env")
    apply_environment()
    assert config.lake().root == "gs://bucket/from-env"
    assert config.spark().master == "local[3]"


def test_dotenv_file_is_read_without_overriding_the_environment(
    pinned_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SPARK_MASTER=local[1]\nLAKE_ROOT=/from-dotenv\n")
    monkeypatch.setenv("LAKE_ROOT", "/from-env")
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    with environment_restored():
        apply_environment(str(env_file))
        assert (config.lake().root, config.spark().master) == ("/from-env", "local[1]")


def test_command_line_wins(pinned_config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_ROOT", "/from-env")
    apply_environment()
    with CmdlineParser.global_instance(["IngestDump", "--dump", "works", "--lake-root", "./lake-check"]):
        assert config.lake().root == "./lake-check"


def test_every_setting_is_described() -> None:
    for config_class in config.CONFIG_CLASSES:
        for name, parameter in config_class.get_params():
            assert parameter.description, f"[{config_class.get_task_family()}] {name} has no description"


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-10-31T00:00"])
def test_a_release_must_be_a_date_or_latest(value: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ReleaseParameter().normalize(value)


def test_a_release_date_is_kept_as_given() -> None:
    assert ReleaseParameter().normalize("2026-10-31") == "2026-10-31"


def test_the_cluster_config_reaches_the_runner_from_the_environment(
    pinned_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """terraform/compute hands the container DATAPROC_CLUSTER_CONFIG (REST JSON) and DATAPROC_CLUSTER_LABELS;
    the runner parses the one and keeps the other."""
    from tasks.context import current_runner

    settings = {"PROJECT": "proj", "REGION": "europe-west1", "CLUSTER": "ol-cluster"}
    for key, value in settings.items():
        monkeypatch.setenv(f"DATAPROC_{key}", value)
    monkeypatch.setenv("SPARK_RUNNER", "dataproc")
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path))
    monkeypatch.setenv(
        "DATAPROC_CLUSTER_CONFIG",
        '{"lifecycleConfig": {"idleDeleteTtl": "3600s"}, "workerConfig": {"numInstances": 2}}',
    )
    monkeypatch.setenv("DATAPROC_CLUSTER_LABELS", '{"app": "openlibrary-pipeline"}')
    dataproc_keys = [*settings, "CLUSTER_CONFIG", "CLUSTER_LABELS"]
    keys = {"spark": {"runner": "local"}, "dataproc": {k.lower(): "" for k in dataproc_keys}}
    with luigi_config(keys):  # restores what apply_environment sets, for the tests that follow
        apply_environment()
        runner = current_runner()
    assert runner.cluster_config.lifecycle_config.idle_delete_ttl.total_seconds() == 3600
    assert runner.cluster_config.worker_config.num_instances == 2
    assert runner.cluster_labels == {"app": "openlibrary-pipeline"}


def test_an_empty_cluster_config_means_none(pinned_config, monkeypatch: pytest.MonkeyPatch) -> None:
    """`DATAPROC_CLUSTER_CONFIG=` as .env.example has it: no config, not a parse error."""
    monkeypatch.setenv("DATAPROC_CLUSTER_CONFIG", "")
    with luigi_config({"dataproc": {"cluster_config": '{"workerConfig": {"numInstances": 2}}'}}):
        apply_environment()
        assert dict(config.dataproc().cluster_config) == {}


@pytest.mark.parametrize(
    ("variable", "section", "key", "value"),
    [
        ("SMTP_PASSWORD", "smtp", "password", "p%ss"),
        ("SMTP_PASSWORD", "smtp", "password", "100%(done)s"),
        ("LAKE_ROOT", "lake", "root", "${HOME}/lake"),
    ],
)
def test_environment_values_are_taken_verbatim(
    pinned_config, monkeypatch: pytest.MonkeyPatch, variable: str, section: str, key: str, value: str
) -> None:
    """No `%` or `${...}` interpolation of what the environment gives (a `%` used to make this raise)."""
    monkeypatch.setenv(variable, value)
    with luigi_config({section: {key: "from-cfg"}}):
        apply_environment()
        assert luigi.configuration.get_config().get(section, key) == value


def test_dotenv_values_are_taken_verbatim(
    pinned_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LAKE_ROOT=${HOME}/lake%1\n")
    monkeypatch.delenv("LAKE_ROOT", raising=False)
    with luigi_config({"lake": {"root": "from-cfg"}}), environment_restored():
        apply_environment(str(env_file))
        assert config.lake().root == "${HOME}/lake%1"


def test_a_percent_in_the_environment_does_not_stop_a_run(tmp_path: Path) -> None:
    """A `luigi --module tasks` run with SMTP_PASSWORD=p%ss and `%` in LAKE_ROOT: the run ends well, its
    lake at the path as written."""
    lake = tmp_path / "lake%(x)s%"
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        environment = {"SMTP_PASSWORD": "p%ss", "LAKE_ROOT": str(lake)}
        completed = run_luigi(tmp_path, server.url, *INGEST_REDIRECTS, env=environment)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (lake / "raw" / RELEASE / "redirects" / "_MANIFEST.json").exists()


INGEST_REDIRECTS = ("IngestDump", "--release", RELEASE, "--dump", "redirects")  # a run of a few seconds


def test_the_luigi_command_reads_the_dotenv_of_its_working_folder(tmp_path: Path) -> None:
    """What cron lines and `make run` rely on: a `.env` where luigi starts sets LAKE_ROOT (over luigi.cfg)."""
    source = sample_release(tmp_path / "source")
    (child_folder(tmp_path) / ".env").write_text(f"LAKE_ROOT={tmp_path / 'lake-from-dotenv'}\n")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, *INGEST_REDIRECTS)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (tmp_path / "lake-from-dotenv" / "raw" / RELEASE / "redirects" / "_MANIFEST.json").exists()
    assert not (tmp_path / "lake").exists()


@pytest.fixture
def developer_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A developer's settings pointing elsewhere: a `.env` in the project folder (unless one is there already:
    then that one) and in this process's working folder, and SECTION_KEY variables in its environment. Yields
    the folder they point at."""
    elsewhere = tmp_path / "somewhere-else"
    dotenv = f"LAKE_ROOT={elsewhere}\nSPARK_RUNNER=serverless\nOPENLIBRARY_BASE_URL=file://{elsewhere}\n"
    (tmp_path / "developer").mkdir()
    (tmp_path / "developer" / ".env").write_text(dotenv)
    monkeypatch.chdir(tmp_path / "developer")
    monkeypatch.setenv("LAKE_ROOT", str(elsewhere))
    monkeypatch.setenv("INGEST_PART_MB", "not a number")
    project_dotenv = PROJECT / ".env"
    ours = not project_dotenv.exists()
    if ours:
        project_dotenv.write_text(dotenv)
    try:
        yield elsewhere
    finally:
        if ours:
            project_dotenv.unlink()


def test_a_developers_dotenv_and_shell_settings_change_no_test(
    developer_settings: Path, tmp_path: Path
) -> None:
    """Importing `tasks` applies nothing, and the luigi runs tests start get neither the developer's
    SECTION_KEY variables nor a `.env` of the project's folder or of the test's working folder."""
    config_file = write_config_file(tmp_path / "luigi.cfg", {"lake": {"root": str(tmp_path / "lake")}})
    probe = "import tasks; from tasks import config; print(config.lake().root, config.ingest().part_mb)"
    imported = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, "LUIGI_CONFIG_PATH": str(config_file)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == [str(tmp_path / "lake"), "64.0"]

    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        completed = run_luigi(tmp_path, server.url, *INGEST_REDIRECTS)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (tmp_path / "lake" / "raw" / RELEASE / "redirects" / "_MANIFEST.json").exists()
    assert not developer_settings.exists()


# README's settings table describes these defaults in words (what the empty value means)
DESCRIBED_DEFAULTS = {("dataproc", "staging"), ("dataproc", "endpoint")}


def readme_defaults(*sections: str) -> dict[tuple[str, str], str]:
    """(section, key) -> the default README.md's settings table gives for it ("" for —), for `sections`."""
    found: dict[tuple[str, str], str] = {}
    section = ""
    for line in (PROJECT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1].startswith("`"):
            continue
        section = cells[0].strip("`[]") or section
        keys = re.findall(r"`(\w+)`", cells[1])
        values = [value.strip().strip("`").replace("—", "") for value in cells[2].split(", ")]
        if section in sections and len(keys) == len(values):
            found.update({(section, key): value for key, value in zip(keys, values, strict=True)})
    return found


def test_the_readme_states_the_runner_defaults_the_code_has() -> None:
    """The defaults of [spark] and [dataproc] are stated once, in tasks/config.py: luigi.cfg does not repeat
    them, and README's table, written for people, states every one and is checked against them."""
    documented = readme_defaults("spark", "dataproc")
    shipped = configparser.ConfigParser(interpolation=None)
    shipped.read(PROJECT / "luigi.cfg")
    for config_class in (config.spark, config.dataproc):
        section = config_class.get_task_family()
        for name, parameter in config_class.get_params():
            assert not shipped.has_option(section, name), (
                f"luigi.cfg repeats the default of [{section}] {name}"
            )
            assert (section, name) in documented, f"README's settings table has no row for [{section}] {name}"
            if (section, name) in DESCRIBED_DEFAULTS:
                continue
            default, said = parameter._default, documented[section, name]
            if isinstance(default, float):
                assert float(said) == default, (section, name)
            elif isinstance(default, str):
                assert said == default, (section, name)
            else:
                assert json.loads(said) == recursively_unfreeze(default), (section, name)
