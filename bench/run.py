"""Run every benchmark and write BENCHMARKS.md: `make bench` (BENCH_SCALE=full) or BENCH_SCALE=small.

python -m bench.run --scale full|small [--results data/bench/results.json] [--report BENCHMARKS.md]

Builds the synthetic inputs (cached under data/bench/input), serves them from 127.0.0.1, measures the
ingest and the transform side by side in interleaved rounds (today's transform beside the one before
issue 15, "baseline-2", and the references), profiles one Spark run, and renders the results
(data/bench/results.json) into the report.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import ROOT
from bench import baseline as old_code
from bench import ingest as ingest_bench
from bench import transform as transform_bench
from bench.dumpserver import DumpServer
from bench.eventlog import stage_costs
from bench.measure import Run
from bench.report import write_report
from bench.synth import SyntheticDump, build
from runners import class_archive
from spark import transform_dump
from tasks import config

WORK = ROOT / "data" / "bench"


@dataclass(frozen=True)
class Scale:
    ingest_mb: tuple[int, int, int]  # small, medium, large: RSS compares the first and last
    transform_mb: tuple[int, int, int]  # marginal rates use the first two, scaling all three
    tiny_mb: int  # a dump so small that its transform is the job's fixed cost
    rounds: int  # repetitions of every interleaved measurement (medians are reported)
    levels: tuple[int, ...]  # compress_level values compared on the largest ingest input
    part_mbs: tuple[float, ...]  # part sizes compared by the transform on the medium input


SCALES = {
    "full": Scale((40, 100, 400), (100, 400, 1600), 1, 3, (1, 3, 6), (32, 64, 128)),
    "small": Scale((4, 10, 40), (10, 40, 80), 1, 1, (1, 6), (4, 16)),
}
# The transform series run at each size in every round (the baseline at the largest size: first round only)
SMALL_SERIES = (
    "spark-2", "spark-2-flip", "baseline-2", "spark-1", "single-gz", "original", "duckdb-2", "duckdb-1"
)  # fmt: skip
TINY_SERIES = ("spark-2", "spark-2-flip", "baseline-2")
LARGE_SERIES = ("spark-2", "original")
LARGE_ONCE = ("baseline-2",)


@dataclass
class Results:
    scale: str
    machine: dict
    settings: dict
    sizes: dict = field(default_factory=dict)  # "ingest", "transform": the three sizes; "tiny": one
    baseline: dict = field(default_factory=dict)  # the code of the baseline-2 series: commit, package zip
    inputs: dict = field(default_factory=dict)
    ingest: dict = field(default_factory=dict)  # series -> size -> [runs]
    levels: dict = field(default_factory=dict)  # level -> {"runs": [...], "part_bytes": n}
    transform: dict = field(default_factory=dict)  # series -> size -> [runs]
    part_sizes: dict = field(default_factory=dict)  # part_mb -> {"run": ..., "parts": n}
    profile: list = field(default_factory=list)
    profile_mb: int = 0
    warmup: dict = field(default_factory=dict)  # size -> bench/jobs/twice.py's cold_s, warm_s, process_s
    jit: dict = field(default_factory=dict)  # size -> JIT compile s (c1_s, c2_s, total_s), wall_s, cpu_s
    class_archive: dict = field(default_factory=dict)  # the first job (it writes the archive): s, bytes
    minutes: float = 0.0


def machine() -> dict:
    """What the numbers were measured on: CPUs as the kernel sees them, memory, load, versions."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    gzip_version = subprocess.run(["gzip", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "nproc": os.cpu_count(),
        "model": fields.get("Model name", "?"),
        "threads_per_core": fields.get("Thread(s) per core", "?"),
        "cores_per_socket": fields.get("Core(s) per socket", "?"),
        "sockets": fields.get("Socket(s)", "?"),
        "hypervisor": fields.get("Hypervisor vendor", ""),
        "memory_gib": round(total_kb / (1 << 20), 1),
        "load_before": os.getloadavg(),
        "python": platform.python_version(),
        "gzip": gzip_version,
    }


def settings() -> dict:
    config.apply_environment()
    ingest, spark = config.ingest(), config.spark()
    return {
        "part_mb": ingest.part_mb,
        "compress_level": ingest.compress_level,
        "driver_memory": spark.driver_memory,
        "spark_conf": dict(spark.conf),
        "short_job_mb": spark.short_job_mb,
        "transform_session": dict(transform_dump.SESSION_SETTINGS),
    }


def _record(series: dict, key: str, size: int, run: Run) -> None:
    series.setdefault(key, {}).setdefault(str(size), []).append(asdict(run))


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure_ingest(scale: Scale, server: DumpServer, results: Results, logs: Path) -> None:
    """Interleaved rounds: floor, IngestDump to a local lake, IngestDump to the GCS emulator (with the
    emulator's CPU time), per size."""
    local = WORK / "lake-ingest"
    with ingest_bench.gcs_lake() as emulator:
        for round_no in range(scale.rounds):
            for size in scale.ingest_mb:
                _say(f"ingest round {round_no + 1}/{scale.rounds}, {size} MB")
                _record(results.ingest, "floor", size, ingest_bench.floor(server, size))
                ingest_bench.empty_local(local)
                run = ingest_bench.ingest(server, size, str(local), logs / "ingest-local.log")
                _record(results.ingest, "local", size, run)
                run = ingest_bench.ingest_gcs(server, size, emulator, logs / "ingest-gcs.log")
                _record(results.ingest, "gcs", size, run)
                ingest_bench.empty_gcs(emulator.client, "lake/")
    ingest_bench.empty_local(local)


def measure_levels(scale: Scale, server: DumpServer, results: Results, logs: Path) -> None:
    """compress_level on the largest ingest input: time (beside the floor) and the parts' size."""
    size = scale.ingest_mb[-1]
    lake = WORK / "lake-levels"
    for round_no in range(scale.rounds):
        for level in scale.levels:
            _say(f"compress_level {level}, round {round_no + 1}/{scale.rounds}")
            entry = results.levels.setdefault(str(level), {"runs": [], "floor": []})
            entry["floor"].append(asdict(ingest_bench.floor(server, size)))
            ingest_bench.empty_local(lake)
            run = ingest_bench.ingest(
                server, size, str(lake), logs / "ingest-levels.log", ingest_compress_level=str(level)
            )
            entry["runs"].append(asdict(run))
            entry["part_bytes"] = sum(part["bytes"] for part in ingest_bench.manifest(lake, size)["parts"])
    ingest_bench.empty_local(lake)


def prepare_transform_lake(
    scale: Scale, server: DumpServer, lake: Path, logs: Path, results: Results
) -> None:
    """Ingest the transform inputs with the configured settings (also an ingest run at the largest size)."""
    ingest_bench.empty_local(lake)
    for size in (scale.tiny_mb, *scale.transform_mb):
        _say(f"ingesting the {size} MB transform input")
        run = ingest_bench.ingest(server, size, str(lake), logs / "ingest-transform.log")
        _record(results.ingest, "transform-input", size, run)
    _say("the first local job: it writes the runner's class archive, which every later run starts from")
    run = transform_bench.transform(lake, scale.tiny_mb, 2, logs / "class-archive.log")
    archives = list(class_archive.cache_folder().glob(f"{class_archive.ARCHIVE_PREFIX}*.jsa"))
    archive_bytes = sum(archive.stat().st_size for archive in archives)
    results.class_archive = {"first_run_s": run.seconds, "archive_bytes": archive_bytes}


def transform_steps(
    lake: Path, dumps: dict[int, SyntheticDump], logs: Path
) -> dict[str, Callable[[int], Run]]:
    """Each transform series as a function of the input size; spark-2 and baseline-2 each get their own
    spark.local.dir, whose peak size they record. spark-2-flip is spark-2 with the short-job choice turned
    round ([spark] short_job_mb): a long job where spark-2 is short, a short one where it is not."""
    naive_lake, work, local_dir = WORK / "lake-single-gz", WORK / "work", WORK / "local-dir"
    return {
        "spark-2": lambda s: transform_bench.transform(
            lake, s, 2, logs / "spark-2.log", local_dir=local_dir / "spark-2"
        ),
        "spark-2-flip": lambda s: transform_bench.transform(
            lake, s, 2, logs / "spark-2-flip.log", flip_short=True
        ),
        "baseline-2": lambda s: transform_bench.baseline(
            lake, s, 2, logs / "baseline-2.log", local_dir=local_dir / "baseline-2"
        ),
        "spark-1": lambda s: transform_bench.transform(lake, s, 1, logs / "spark-1.log"),
        "single-gz": lambda s: transform_bench.transform(naive_lake, s, 2, logs / "single.log"),
        "original": lambda s: transform_bench.original(dumps[s], work, 2, logs / "original.log"),
        "duckdb-2": lambda s: transform_bench.duckdb(dumps[s], work, 2, logs / "duckdb.log"),
        "duckdb-1": lambda s: transform_bench.duckdb(dumps[s], work, 1, logs / "duckdb.log"),
    }


def _round_plan(scale: Scale, round_no: int) -> list[tuple[int, tuple[str, ...]]]:
    """(size, series) in the order one round runs them."""
    small, medium, large = scale.transform_mb
    at_large = LARGE_SERIES + (LARGE_ONCE if round_no == 0 else ())
    return [(small, SMALL_SERIES), (medium, SMALL_SERIES), (scale.tiny_mb, TINY_SERIES), (large, at_large)]


def measure_transform(
    scale: Scale, lake: Path, dumps: dict[int, SyntheticDump], results: Results, logs: Path
) -> None:
    """Interleaved rounds of the pipeline's job on 2 and 1 cores, the job before issue 15 (baseline-2) and
    the references (a), (b), (c)."""
    small, medium, _ = scale.transform_mb
    naive_lake = WORK / "lake-single-gz"
    for size in (small, medium):
        transform_bench.single_gz_lake(naive_lake, size, dumps[size])
    steps = transform_steps(lake, dumps, logs)
    for round_no in range(scale.rounds):
        for size, series in _round_plan(scale, round_no):
            for name in series:
                _say(f"transform round {round_no + 1}/{scale.rounds}, {size} MB: {name}")
                _record(results.transform, name, size, steps[name](size))
    shutil.rmtree(naive_lake, ignore_errors=True)


def measure_part_sizes(scale: Scale, server: DumpServer, results: Results, logs: Path) -> None:
    """The transform (2 cores) of the medium input re-chunked into parts of each size."""
    size = scale.transform_mb[1]
    lake = WORK / "lake-parts"
    for part_mb in scale.part_mbs:
        _say(f"part size {part_mb} MiB: ingest and transform {size} MB")
        ingest_bench.empty_local(lake)
        ingest_bench.ingest(server, size, str(lake), logs / "ingest-parts.log", ingest_part_mb=str(part_mb))
        parts = len(ingest_bench.manifest(lake, size)["parts"])
        run = transform_bench.transform(lake, size, 2, logs / "spark-parts.log")
        results.part_sizes[str(part_mb)] = {"run": asdict(run), "parts": parts}
    ingest_bench.empty_local(lake)


def profile_transform(scale: Scale, lake: Path, results: Results, logs: Path) -> None:
    """One more 2-core run of the medium input with Spark's event log on, broken down by stage."""
    size = scale.transform_mb[1]
    events = WORK / "events"
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    _say(f"profiling the {size} MB transform")
    conf = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": f"file://{events}"}
    transform_bench.transform(lake, size, 2, logs / "spark-profile.log", extra_conf=conf)
    (log,) = events.iterdir()
    results.profile = stage_costs(log)
    results.profile_mb = size
    for megabytes in (scale.tiny_mb, *scale.transform_mb):
        _say(f"JIT compile times of the {megabytes} MB transform")
        results.jit[str(megabytes)] = transform_bench.jit_profile(lake, megabytes, logs / "spark-jit.log")


def measure_warmup(scale: Scale, lake: Path, results: Results, logs: Path) -> None:
    """The job's run() twice in one JVM (bench/jobs/twice.py) on the tiny and the medium input, 2 cores: what
    a fresh JVM pays once, apart from the per-record cost."""
    for size in (scale.tiny_mb, scale.transform_mb[1]):
        _say(f"the {size} MB transform cold and warm in one JVM")
        results.warmup[str(size)] = transform_bench.twice(lake, size, 2, logs / "twice.log")


def add_warmup(scale: Scale, results_file: Path, report: Path, logs: Path) -> None:
    """measure_warmup on the transform lake a full run left, added to its results; the report made again."""
    results = Results(**json.loads(results_file.read_text()))
    measure_warmup(scale, WORK / "lake-transform", results, logs)
    results_file.write_text(json.dumps(asdict(results), indent=1))
    write_report(asdict(results), report)
    _say(f"warm-up added: {report}")


def baseline_code() -> dict:
    """Extract the baseline's code (once) and say which it is."""
    folder = old_code.extract()
    return {"commit": old_code.COMMIT, "folder": str(folder), "package": old_code.package_zip(folder).name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--results", type=Path, default=WORK / "results.json")
    parser.add_argument("--report", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--only-warmup",
        action="store_true",
        help="measure only the cold/warm runs, on the lake and into the results a full run of --scale left",
    )
    args = parser.parse_args()
    scale = SCALES[args.scale]
    started = time.monotonic()
    os.environ["XDG_CACHE_HOME"] = str(WORK / "cache")  # the runner's class archive: the bench's own
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if args.only_warmup:
        add_warmup(scale, args.results, args.report, logs)
        return
    shutil.rmtree(WORK / "cache", ignore_errors=True)  # a full run's first job writes the archive afresh
    results = Results(scale=args.scale, machine=machine(), settings=settings())
    results.sizes = {"ingest": scale.ingest_mb, "transform": scale.transform_mb, "tiny": scale.tiny_mb}
    results.baseline = baseline_code()
    sizes = sorted({*scale.ingest_mb, *scale.transform_mb, scale.tiny_mb})
    dumps = {}
    for size in sizes:
        _say(f"input: {size} MB synthetic editions dump")
        dumps[size] = build(WORK / "input", size)
        results.inputs[str(size)] = {
            "lines": dumps[size].lines,
            "uncompressed_bytes": dumps[size].uncompressed_bytes,
            "compressed_bytes": dumps[size].compressed_bytes,
        }
    serve = ingest_bench.serve_folder(WORK / "serve", list(dumps.items()))
    lake = WORK / "lake-transform"
    with DumpServer(serve) as server:
        measure_ingest(scale, server, results, logs)
        measure_levels(scale, server, results, logs)
        prepare_transform_lake(scale, server, lake, logs, results)
        measure_transform(scale, lake, dumps, results, logs)
        profile_transform(scale, lake, results, logs)
        measure_warmup(scale, lake, results, logs)
        measure_part_sizes(scale, server, results, logs)
    results.machine["load_after"] = os.getloadavg()
    results.minutes = round((time.monotonic() - started) / 60, 1)
    args.results.write_text(json.dumps(asdict(results), indent=1))
    write_report(asdict(results), args.report)
    _say(f"done in {results.minutes} min: {args.report}")


if __name__ == "__main__":
    main()
