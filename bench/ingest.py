"""Ingest benchmark: IngestDump (HTTP from 127.0.0.1 -> local lake, and -> the GCS emulator) against the
floor `curl -s URL | gzip -dc > /dev/null` on the same files, in interleaved rounds.

Each IngestDump run is the real command line (`python -m luigi --module tasks IngestDump ...`) in a child
process, with the settings of luigi.cfg except the ones a measurement varies; its wall time, CPU time and
peak RSS are recorded (for the GCS runs also the emulator's CPU time meanwhile). Lakes live under
data/bench/ (local) or in the emulator's memory, and are emptied between runs.
"""

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.dumpserver import DumpServer
from bench.measure import Run, run_command, tree_cpu_seconds
from bench.synth import SyntheticDump
from source.release import dump_url
from spark import catalog

DUMP = "editions"


def release_of(megabytes: int) -> str:
    """The release date the synthetic dump of `megabytes` MB is served as (one date per size)."""
    return (dt.date(2000, 1, 1) + dt.timedelta(days=megabytes)).isoformat()


def serve_folder(folder: Path, dumps: Sequence[tuple[int, SyntheticDump]]) -> Path:
    """A folder of ol_dump_editions_{release}.txt.gz links to the synthetic dumps, for the server."""
    folder.mkdir(parents=True, exist_ok=True)
    for megabytes, dump in dumps:
        link = Path(dump_url(str(folder), DUMP, release_of(megabytes)))
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(dump.path.resolve())
    return folder


def floor(server: DumpServer, megabytes: int) -> Run:
    """What merely fetching and gunzipping the file costs: curl piped into GNU gzip."""
    return run_command(f"curl -sf {dump_url(server.url, DUMP, release_of(megabytes))} | gzip -dc > /dev/null")


def ingest_env(server: DumpServer, lake_root: str, **settings: str) -> dict[str, str]:
    """The environment of an IngestDump run: the bench server, no archive.org lookup, the given lake."""
    env = {
        **os.environ,
        "OPENLIBRARY_BASE_URL": server.url,
        "OPENLIBRARY_METADATA_URL": "",
        "LAKE_ROOT": lake_root,
    }
    env.update({key.upper(): value for key, value in settings.items()})
    return env


def ingest(server: DumpServer, megabytes: int, lake_root: str, log: Path, **settings: str) -> Run:
    """Run IngestDump for the dump of `megabytes` MB into `lake_root`; settings like ingest_part_mb="64"."""
    command = [
        sys.executable, "-m", "luigi", "--module", "tasks", "IngestDump",
        "--release", release_of(megabytes), "--dump", DUMP, "--local-scheduler", "--no-lock",
    ]  # fmt: skip
    return run_command(command, env=ingest_env(server, lake_root, **settings), log=log, cwd=ROOT)


def manifest(lake_root: Path, megabytes: int) -> dict:
    return json.loads(
        lake_root.joinpath(*catalog.MANIFEST.path(release=release_of(megabytes), dump=DUMP)).read_text()
    )


def empty_local(lake_root: Path) -> None:
    shutil.rmtree(lake_root, ignore_errors=True)


@dataclass(frozen=True)
class Emulator:
    """The GCS emulator a benchmark writes to: its URL, a client, and its pid (to measure its CPU)."""

    url: str
    client: Any
    pid: int


@contextmanager
def gcs_lake() -> Iterator[Emulator]:
    """fake-gcs-server on 127.0.0.1 with a bucket `bench`."""
    from bench.gcs_emulator import emulator_client, gcs_emulator_process

    with gcs_emulator_process() as (url, pid):
        client = emulator_client(url)
        client.create_bucket("bench")
        yield Emulator(url, client, pid)


def ingest_gcs(server: DumpServer, megabytes: int, emulator: Emulator, log: Path) -> Run:
    """IngestDump into gs://bench/lake on the emulator, with the CPU seconds the emulator's process tree
    spent meanwhile (beside the ingest's own cpu_s): together, how busy the cores were."""
    before = tree_cpu_seconds(emulator.pid)
    run = ingest(server, megabytes, "gs://bench/lake", log, storage_emulator_host=emulator.url)
    return replace(run, emulator_cpu_s=tree_cpu_seconds(emulator.pid) - before)


def empty_gcs(client: Any, prefix: str) -> None:
    bucket = client.bucket("bench")
    for blob in list(bucket.list_blobs(prefix=prefix)):
        blob.delete()
