"""Transform benchmark: the pipeline's Spark job (spark/transform_dump.py, launched exactly as the local
runner launches it, with luigi.cfg's [spark] settings) on re-chunked parts, and the three references:

(a) the same job on the single .gz as downloaded (Spark reads a .gz file in one task);
(b) the original project's approach (bench/jobs/original.py) after `gzip -dc` to plain text;
(c) DuckDB reading the same .gz and writing the editions fields to Parquet (bench/duck.py).

And the job as it was before issue 15 (baseline(): commit a630e3a's spark/, see bench/baseline.py), with
the same settings and the runner as it was then: no JIT option, no class archive and no short jobs, the
three things issue 15 added to the local runner. A run can be given its own spark.local.dir, whose peak
size it records.

1-core runs are pinned with `taskset -c 0` and `local[1]` (local[1] alone leaves the JVM's own threads,
GC and compression the second core).
"""

import json
import re
import shlex
import shutil
import sys
from pathlib import Path

from bench import ROOT
from bench import baseline as old_code
from bench.ingest import DUMP, release_of
from bench.measure import Run, run_command
from bench.synth import SyntheticDump
from lake import open_lake
from runners.local import LocalSparkRunner, child_environment, short_job, spark_class_archive
from spark import catalog
from tasks import config
from tasks.transform import input_bytes, transform_arguments


def spark_settings() -> tuple[str, dict[str, str]]:
    """driver_memory and conf of the pipeline's [spark] section (luigi.cfg, environment)."""
    config.apply_environment()
    settings = config.spark()
    return settings.driver_memory, dict(settings.conf)


def _pin(cores: int) -> list[str]:
    return ["taskset", "-c", ",".join(str(core) for core in range(cores))]


def is_short(lake_root: Path, megabytes: int) -> bool:
    """Whether TransformDump runs the transform of raw/{release}/editions as a short job ([spark] short_job_mb
    against the manifest's uncompressed bytes)."""
    location = catalog.MANIFEST.path(release=release_of(megabytes), dump=DUMP)
    manifest = open_lake(str(lake_root)).read_json(*location)
    return short_job(input_bytes(manifest), config.spark().short_job_mb)


def _runner(cores: int, extra_conf: dict[str, str], short: bool) -> LocalSparkRunner:
    """The local runner as TransformDump gets it ([spark] settings), on `cores` cores, plus `extra_conf`;
    `short`: the driver tuned for a short job."""
    driver_memory, conf = spark_settings()
    archive = spark_class_archive() if config.spark().class_archive else None
    return LocalSparkRunner(
        f"local[{cores}]", driver_memory, {**conf, **extra_conf}, class_archive=archive, short=short
    )


def _runner_before_issue_15(cores: int, extra_conf: dict[str, str]) -> LocalSparkRunner:
    """The local runner as it was at a630e3a: the same settings, no JIT option, no class archive, no short
    jobs."""
    driver_memory, conf = spark_settings()
    return LocalSparkRunner(f"local[{cores}]", driver_memory, {**conf, **extra_conf}, driver_java_options="")


def _local_dir_conf(folder: Path | None) -> dict[str, str]:
    """spark.local.dir = `folder`, created empty (no conf when None)."""
    if folder is None:
        return {}
    _remove(folder)
    folder.mkdir(parents=True)
    return {"spark.local.dir": str(folder)}


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _check_written(metrics: dict, release: str) -> None:
    if metrics["written"] != metrics["lines"]:
        raise RuntimeError(f"transform of {release}: {metrics['written']} rows of {metrics['lines']} lines")


def transform(
    lake_root: Path,
    megabytes: int,
    cores: int,
    log: Path,
    extra_conf: dict | None = None,
    local_dir: Path | None = None,
    flip_short: bool = False,
) -> Run:
    """TransformDump's Spark job on raw/{release}/editions of `lake_root`, on `cores` cores.

    `local_dir`: Spark's spark.local.dir for this run (emptied first); the run records its peak size.
    `flip_short`: run a short job as a long one and a long one as short, to measure what the choice gives.
    """
    release = release_of(megabytes)
    short = is_short(lake_root, megabytes) != flip_short
    runner = _runner(cores, {**(extra_conf or {}), **_local_dir_conf(local_dir)}, short)
    for dataset in (catalog.CURATED, catalog.QUARANTINE):
        shutil.rmtree(lake_root.joinpath(*dataset.parent(release=release)), ignore_errors=True)
    lake = open_lake(str(lake_root))
    job = transform_arguments(lake, release, DUMP)
    command = runner.command(job.job, job.argv())
    try:
        run = run_command(
            [*_pin(cores), *command], env=child_environment(), log=log, cwd=ROOT, watch=local_dir
        )
    except BaseException:
        if runner.class_archive:
            runner.class_archive.discard()
        raise
    finally:
        _remove(local_dir)
    if runner.class_archive:
        runner.class_archive.publish()  # as the runner does after a job: later runs start from it
    _check_written(lake.read_json(*catalog.TRANSFORM_METRICS.path(release=release, dump=DUMP)), release)
    return run


# -XX:+CITime: the JVM prints, at exit, the time its JIT compilers spent (their own threads' CPU time)
JIT_TIMES = {"driver": "-XX:+CITime"}
_COMPILER_LINE = re.compile(r"^\s*(C1|C2) \{speed: [^;]*; standard:\s*([0-9.]+) s,[^;]*; osr:\s*([0-9.]+) s")
_TOTAL_LINE = re.compile(r"^\s*Total compilation time\s*:\s*([0-9.]+) s")


def compile_seconds(log: str) -> dict[str, float]:
    """C1's, C2's and the total seconds of JIT compilation a -XX:+CITime JVM printed at exit (standard and
    on-stack-replacement compiles; the total adds the compiles the JIT gave up). A JVM with C1 only (a short
    job's) prints no C2 line: C2's seconds are 0."""
    seen: dict[str, float] = {}
    for line in log.splitlines():
        if match := _COMPILER_LINE.match(line):
            seen[f"{match[1].lower()}_s"] = round(float(match[2]) + float(match[3]), 3)
        elif match := _TOTAL_LINE.match(line):
            seen["total_s"] = float(match[1])
    if not {"c1_s", "total_s"} <= set(seen):
        raise ValueError(f"no -XX:+CITime summary in the log (found {sorted(seen)})")
    return {"c1_s": seen["c1_s"], "c2_s": seen.get("c2_s", 0.0), "total_s": seen["total_s"]}


def jit_profile(lake_root: Path, megabytes: int, log: Path) -> dict[str, float]:
    """transform() on 2 cores with the JIT's compile times printed: those, and the run's wall and CPU s."""
    run = transform(
        lake_root, megabytes, 2, log, extra_conf={"spark.driver.extraJavaOptions": JIT_TIMES["driver"]}
    )
    return {**compile_seconds(log.read_text(errors="replace")), "wall_s": run.seconds, "cpu_s": run.cpu_s}


TWICE_MARKER = "BENCH_TWICE "  # the line bench/jobs/twice.py prints its seconds on


def twice(lake_root: Path, megabytes: int, cores: int, log: Path) -> dict[str, float]:
    """bench/jobs/twice.py on raw/{release}/editions of `lake_root`: the job's run() cold, then warm, in one
    JVM (the runner and settings of transform()), and the whole process's wall time."""
    release = release_of(megabytes)
    job = transform_arguments(open_lake(str(lake_root)), release, DUMP)
    submit = _runner(cores, {}, is_short(lake_root, megabytes)).submit_options()
    command = [*_pin(cores), *submit, str(ROOT / "bench" / "jobs" / "twice.py"), *job.argv()]
    run = run_command(command, env=child_environment(), log=log, cwd=ROOT)
    (line,) = [line for line in log.read_text().splitlines() if line.startswith(TWICE_MARKER)]
    return {**json.loads(line.removeprefix(TWICE_MARKER)), "process_s": round(run.seconds, 2)}


def baseline(lake_root: Path, megabytes: int, cores: int, log: Path, local_dir: Path | None = None) -> Run:
    """The transform job of commit a630e3a (bench/baseline.py) as the runner then launched it: transform()'s
    settings without the runner's issue-15 JVM options; the old job file, package, arguments and folder."""
    release = release_of(megabytes)
    code = old_code.extract()
    env = old_code.environment(code, child_environment())
    job = old_code.old_job(code, lake_root, release, DUMP, env)
    for folder in job.outputs:
        shutil.rmtree(folder, ignore_errors=True)
    options = _runner_before_issue_15(cores, _local_dir_conf(local_dir)).submit_options()
    command = old_code.command(options, code, job.argv)
    try:
        run = run_command([*_pin(cores), *command], env=env, log=log, cwd=code, watch=local_dir)
    finally:
        _remove(local_dir)
    old_code.check_log(log, code)
    _check_written(json.loads(job.metrics.read_text()), release)
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
        "uncompressed_bytes": dump.uncompressed_bytes,
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
