"""Run every benchmark and write BENCHMARKS.md: `make bench` (BENCH_SCALE=full) or BENCH_SCALE=small.

python -m bench.run --scale full|small [--results data/bench/results.json] [--report BENCHMARKS.md]

Builds the synthetic inputs (cached under data/bench/input), serves them from 127.0.0.1, measures the
ingest and the transform side by side in interleaved rounds, profiles one Spark run, and renders the
results (data/bench/results.json) into the report.
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
from bench import ingest as ingest_bench
from bench import transform as transform_bench
from bench.dumpserver import DumpServer
from bench.eventlog import stage_costs
from bench.measure import Run
from bench.report import write_report
from bench.synth import SyntheticDump, build
from tasks import config

WORK = ROOT / "data" / "bench"


@dataclass(frozen=True)
class Scale:
    ingest_mb: tuple[int, int, int]  # small, medium, large: RSS compares the first and last
    transform_mb: tuple[int, int, int]  # marginal rates use the first two, scaling all three
    rounds: int  # repetitions of every interleaved measurement (medians are reported)
    levels: tuple[int, ...]  # compress_level values compared on the largest ingest input
    part_mbs: tuple[float, ...]  # part sizes compared by the transform on the medium input


SCALES = {
    "full": Scale((40, 100, 400), (100, 400, 1600), 3, (1, 2, 3, 6), (32, 64, 128, 256)),
    "small": Scale((4, 10, 40), (10, 40, 80), 1, (1, 6), (4, 16)),
}


@dataclass
class Results:
    scale: str
    machine: dict
    settings: dict
    inputs: dict = field(default_factory=dict)
    ingest: dict = field(default_factory=dict)  # series -> size -> [runs]
    levels: dict = field(default_factory=dict)  # level -> {"runs": [...], "part_bytes": n}
    transform: dict = field(default_factory=dict)  # series -> size -> [runs]
    part_sizes: dict = field(default_factory=dict)  # part_mb -> {"run": ..., "parts": n}
    profile: list = field(default_factory=list)
    profile_mb: int = 0
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
    }


def _record(series: dict, key: str, size: int, run: Run) -> None:
    series.setdefault(key, {}).setdefault(str(size), []).append(asdict(run))


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure_ingest(scale: Scale, server: DumpServer, results: Results, logs: Path) -> None:
    """Interleaved rounds: floor, IngestDump to a local lake, IngestDump to the GCS emulator, per size."""
    local = WORK / "lake-ingest"
    with ingest_bench.gcs_lake() as (emulator, client):
        for round_no in range(scale.rounds):
            for size in scale.ingest_mb:
                _say(f"ingest round {round_no + 1}/{scale.rounds}, {size} MB")
                _record(results.ingest, "floor", size, ingest_bench.floor(server, size))
                ingest_bench.empty_local(local)
                run = ingest_bench.ingest(server, size, str(local), logs / "ingest-local.log")
                _record(results.ingest, "local", size, run)
                run = ingest_bench.ingest(
                    server, size, "gs://bench/lake", logs / "ingest-gcs.log", storage_emulator_host=emulator
                )
                _record(results.ingest, "gcs", size, run)
                ingest_bench.empty_gcs(client, "lake/")
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
    for size in scale.transform_mb:
        _say(f"ingesting the {size} MB transform input")
        run = ingest_bench.ingest(server, size, str(lake), logs / "ingest-transform.log")
        _record(results.ingest, "transform-input", size, run)


def measure_transform(
    scale: Scale, lake: Path, dumps: dict[int, SyntheticDump], results: Results, logs: Path
) -> None:
    """Interleaved rounds of the pipeline's job on 2 and 1 cores and the references (a), (b), (c)."""
    small, medium, large = scale.transform_mb
    naive_lake = WORK / "lake-single-gz"
    for size in (small, medium):
        transform_bench.single_gz_lake(naive_lake, size, dumps[size])
    work = WORK / "work"
    for round_no in range(scale.rounds):
        for size in (small, medium):
            steps: list[tuple[str, Callable[[], Run]]] = [
                ("spark-2", lambda s=size: transform_bench.transform(lake, s, 2, logs / "spark-2.log")),
                ("spark-1", lambda s=size: transform_bench.transform(lake, s, 1, logs / "spark-1.log")),
                (
                    "single-gz",
                    lambda s=size: transform_bench.transform(naive_lake, s, 2, logs / "single.log"),
                ),
                (
                    "original",
                    lambda s=size: transform_bench.original(dumps[s], work, 2, logs / "original.log"),
                ),
                ("duckdb-2", lambda s=size: transform_bench.duckdb(dumps[s], work, 2, logs / "duckdb.log")),
                ("duckdb-1", lambda s=size: transform_bench.duckdb(dumps[s], work, 1, logs / "duckdb.log")),
            ]
            for name, step in steps:
                _say(f"transform round {round_no + 1}/{scale.rounds}, {size} MB: {name}")
                _record(results.transform, name, size, step())
        _say(f"transform round {round_no + 1}/{scale.rounds}, {large} MB: spark-2")
        _record(
            results.transform,
            "spark-2",
            large,
            transform_bench.transform(lake, large, 2, logs / "spark-2.log"),
        )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--results", type=Path, default=WORK / "results.json")
    parser.add_argument("--report", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    started = time.monotonic()
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = Results(scale=args.scale, machine=machine(), settings=settings())
    sizes = sorted(set(scale.ingest_mb) | set(scale.transform_mb))
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
        measure_part_sizes(scale, server, results, logs)
    results.machine["load_after"] = os.getloadavg()
    results.minutes = round((time.monotonic() - started) / 60, 1)
    args.results.write_text(json.dumps(asdict(results), indent=1))
    write_report(asdict(results), args.report)
    _say(f"done in {results.minutes} min: {args.report}")


if __name__ == "__main__":
    main()
