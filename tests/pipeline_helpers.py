"""Helpers for the tests that run the Luigi graph: test configuration, sample releases, reading outputs."""

import configparser
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import luigi
import luigi.configuration
import pyarrow.parquet as pq
from luigi.task_register import Register

from source.sample import SAMPLE_RELEASE, build_sample_release
from tasks.config import environment_settings

RELEASE = SAMPLE_RELEASE
DUMPS = ("authors", "works", "editions", "ratings", "reading-log", "redirects")
SPARK_CONF = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}

PROJECT = Path(__file__).resolve().parent.parent


def pipeline_settings(base_url: str, lake_root: Path) -> dict[str, dict[str, str]]:
    """The luigi.cfg sections a test run uses: small parts (so dumps split), 2 local cores, no Spark UI."""
    return {
        "openlibrary": {
            "base_url": base_url,
            "metadata_url": base_url.rsplit("/data", 1)[0]
            + "/metadata",  # the test server, never archive.org
            "dumps": json.dumps(list(DUMPS)),
            "timeout_s": "10",
        },
        "lake": {"root": str(lake_root)},
        "ingest": {"part_mb": "0.1", "compress_level": "1"},
        "spark": {
            "runner": "local",
            "master": "local[2]",
            "driver_memory": "1g",
            "conf": json.dumps(SPARK_CONF),
        },
    }


@contextmanager
def luigi_config(settings: dict[str, dict[str, str]]) -> Iterator[None]:
    """Pin the given configuration for the duration of a test, then restore the previous values."""
    config = luigi.configuration.get_config()
    previous: list[tuple[str, str, str | None]] = []
    for section, values in settings.items():
        if not config.has_section(section):
            config.add_section(section)
        for key, value in values.items():
            previous.append((section, key, config.get(section, key, None)))
            config.set(section, key, value)
    Register.clear_instance_cache()
    try:
        yield
    finally:
        for section, key, value in reversed(previous):
            if value is None:
                config.remove_option(section, key)
            else:
                config.set(section, key, value)
        Register.clear_instance_cache()


def write_config_file(path: Path, settings: dict[str, dict[str, str]]) -> Path:
    """The project's luigi.cfg with `settings` on top, as one file for luigi processes started by a test: they
    run in its folder (see luigi_command), not in the project's."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(PROJECT / "luigi.cfg")
    config.read_dict(settings)
    with path.open("w") as out:
        config.write(out)
    return path


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the variables that set the pipeline's configuration (LAKE_ROOT,
    SPARK_RUNNER, SMTP_PASSWORD, ...: SECTION_KEY), plus `extra`: what a process started by a test gets, so a
    setting in the developer's shell cannot change what it runs."""
    settings = {variable for _, _, variable in environment_settings()}
    return {**{name: value for name, value in os.environ.items() if name not in settings}, **(extra or {})}


def sample_release(folder: Path, extra_lines: dict[str, list[str]] | None = None) -> Path:
    """The bundled sample release as gz files in `folder`, with `extra_lines` appended to some dumps."""
    build_sample_release(folder)
    for dump, lines in (extra_lines or {}).items():
        path = folder / f"ol_dump_{dump}_{RELEASE}.txt.gz"
        content = gzip.decompress(path.read_bytes()) + "".join(lines).encode("utf-8")
        with gzip.GzipFile(path, "wb", mtime=0) as out:
            out.write(content)
    return folder


def source_lines(folder: Path, dump: str) -> list[str]:
    """The lines of a dump as served, decoded: the oracle the tests compute expectations from."""
    return (
        gzip.decompress((folder / f"ol_dump_{dump}_{RELEASE}.txt.gz").read_bytes())
        .decode("utf-8")
        .splitlines()
    )


def read_table(folder: Path) -> list[dict[str, Any]]:
    """All rows of a Parquet folder written by Spark, read with pyarrow (an independent reader)."""
    assert (folder / "_SUCCESS").exists(), f"{folder} is not complete"
    return pq.read_table(folder).to_pylist()


def child_folder(parent: Path) -> Path:
    """An empty folder in `parent` for a process a test starts to work in: no `.env` but one the test puts
    there (a developer's .env in the project folder is not read), and nothing named like a package of the
    project (`python -m` puts the working folder first on sys.path)."""
    folder = parent / "cwd"
    folder.mkdir(exist_ok=True)
    return folder


def luigi_command(
    config: Path, *args: str, local_scheduler: bool = True, env: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """`python -m luigi --module tasks ARGS [--local-scheduler]` and its environment: child_environment(env),
    configured by the luigi.cfg at `config` (from write_config_file). Run it in child_folder(...)."""
    command = [sys.executable, "-m", "luigi", "--module", "tasks", *args]
    if local_scheduler:
        command.append("--local-scheduler")
    return command, child_environment({**(env or {}), "LUIGI_CONFIG_PATH": str(config)})


def run_luigi(
    tmp_path: Path, base_url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m luigi --module tasks ARGS --local-scheduler` run to its end in a child process, configured
    by pipeline_settings(base_url, tmp_path / "lake") (in tmp_path / "luigi.cfg") and `env`."""
    config = write_config_file(tmp_path / "luigi.cfg", pipeline_settings(base_url, tmp_path / "lake"))
    command, environment = luigi_command(config, *args, env=env)
    return subprocess.run(
        command, cwd=child_folder(tmp_path), env=environment, capture_output=True, text=True, timeout=timeout
    )


# luigi.cfg [retcode]: the exit codes cron and make see, as README.md documents them
ALREADY_RUNNING, NOT_RUN, TASK_FAILED, SCHEDULING_ERROR, UNHANDLED_EXCEPTION = 10, 25, 30, 35, 40
TIMING = {"started_at", "duration_s"}  # the keys of a manifest or metrics document that differ run to run


def without_timing(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in TIMING}


def raw_files(lake: Path, dump: str = "works") -> dict[str, bytes]:
    """The files of raw/{RELEASE}/{dump} (parts and manifest) by name; empty when the folder is absent."""
    folder = lake / "raw" / RELEASE / dump
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.exists() else {}


def comparable_ingest(files: dict[str, bytes]) -> dict[str, Any]:
    """raw_files() with the manifest parsed and its timing left out: equal for two runs that produced the
    same parts, byte for byte, and the same manifest."""
    return {
        name: without_timing(json.loads(data)) if name == "_MANIFEST.json" else data
        for name, data in files.items()
    }
