"""Transform benchmark: the pipeline's Spark job (spark/transform_dump.py, launched exactly as the local
runner launches it, with luigi.cfg's [spark] settings) on re-chunked parts, and the three references:

(a) the same job on the single .gz as downloaded (Spark reads a .gz file in one task);
(b) the original project's approach (bench/jobs/original.py) after `gzip -dc` to plain text;
(c) DuckDB reading the same .gz and writing the editions fields to Parquet (bench/duck.py).

1-core runs are pinned with `taskset -c 0` and `local[1]` (local[1] alone leaves the JVM's own threads,
GC and compression the second core).
"""

import json
import shlex
import shutil
import sys
from pathlib import Path

from bench import ROOT
from bench.ingest import DUMP, release_of
from bench.measure import Run, run_command
from bench.synth import SyntheticDump
from lake import open_lake
from runners.local import LocalSparkRunner, child_environment
from spark import catalog
from tasks import config
from tasks.transform import transform_arguments


def spark_settings() -> tuple[str, dict[str, str]]:
    """driver_memory and conf of the pipeline's [spark] section (luigi.cfg, environment)."""
    config.apply_environment()
    settings = config.spark()
    return settings.driver_memory, dict(settings.conf)


def _pin(cores: int) -> list[str]:
    return ["taskset", "-c", ",".join(str(core) for core in range(cores))]


def transform(lake_root: Path, megabytes: int, cores: int, log: Path, extra_conf: dict | None = None) -> Run:
    """TransformDump's Spark job on raw/{release}/editions of `lake_root`, on `cores` cores."""
    release = release_of(megabytes)
    driver_memory, conf = spark_settings()
    runner = LocalSparkRunner(f"local[{cores}]", driver_memory, {**conf, **(extra_conf or {})})
    for dataset in (catalog.CURATED, catalog.QUARANTINE):
        shutil.rmtree(lake_root.joinpath(*dataset.parent(release=release)), ignore_errors=True)
    lake = open_lake(str(lake_root))
    job = transform_arguments(lake, release, DUMP)
    command = runner.command(job.job, job.argv())
    run = run_command([*_pin(cores), *command], env=child_environment(), log=log, cwd=ROOT)
    metrics = lake.read_json(*catalog.TRANSFORM_METRICS.path(release=release, dump=DUMP))
    if metrics["written"] != metrics["lines"]:
        raise RuntimeError(f"transform of {release}: {metrics['written']} rows of {metrics['lines']} lines")
    return run


def single_gz_lake(folder: Path, megabytes: int, dump: SyntheticDump) -> Path:
    """A lake whose raw folder holds the downloaded .gz itself as its only part (reference a)."""
    raw = folder.joinpath(*catalog.RAW.path(release=release_of(megabytes), dump=DUMP))
    raw.mkdir(parents=True, exist_ok=True)
    link = raw / "whole.txt.gz"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(dump.path.resolve())
    manifest = {
        "release": release_of(megabytes),
        "dump": DUMP,
        "lines": dump.lines,
        "parts": [{"path": link.name, "lines": dump.lines, "bytes": dump.compressed_bytes}],
    }
    (raw / catalog.RAW.marker).write_text(json.dumps(manifest))
    return folder


def original(dump: SyntheticDump, work: Path, cores: int, log: Path) -> Run:
    """Reference (b): gunzip to text, then the original Spark job; one command, timed end to end."""
    driver_memory, conf = spark_settings()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    text, raw, out = work / "dump.txt", work / "raw", work / "out"
    submit = [
        *LocalSparkRunner(f"local[{cores}]", driver_memory, conf).submit_options(),
        str(ROOT / "bench" / "jobs" / "original.py"), str(text), str(raw), str(out),
    ]  # fmt: skip
    gunzip = f"gzip -dc {shlex.quote(str(dump.path))} > {shlex.quote(str(text))}"
    script = f"{gunzip} && {shlex.join(_pin(cores) + submit)}"
    try:
        return run_command(script, env=child_environment(), log=log, cwd=ROOT)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def duckdb(dump: SyntheticDump, work: Path, cores: int, log: Path) -> Run:
    """Reference (c): DuckDB on the same .gz, `cores` threads, pinned to as many cores."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "editions.parquet"
    out.unlink(missing_ok=True)
    command = [*_pin(cores), sys.executable, "-m", "bench.duck", str(dump.path), str(out), str(cores)]
    try:
        return run_command(command, env=child_environment(), log=log, cwd=ROOT)
    finally:
        out.unlink(missing_ok=True)
