"""Bench job: the transform job twice in one Spark session, to tell what a fresh JVM pays once from the
steady per-record cost.

spark-submit bench/jobs/twice.py --dump editions --manifest URL --curated URL --quarantine URL --metrics URL

Each round first builds the job's DataFrames alone (Python, py4j and Catalyst's analysis and planning of the
classification, nothing read), then runs the whole job (run(), which builds them again and does the work).
In the first round Catalyst is cold for the build, and the read, parse and write code is cold for the run
(interpreted until the JIT has compiled it); the second round does the same on warm code. Prints one line:
BENCH_TWICE {"build_cold_s": ..., "cold_s": ..., "build_warm_s": ..., "warm_s": ...}.
"""

import json
import sys
import time
from collections.abc import Callable

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from spark.contracts import TransformArgs
from spark.jobio import read_json
from spark.transform_dump import classify, part_urls, read_lines, run, stage

MARKER = "BENCH_TWICE "  # bench/transform.py TWICE_MARKER: the job ships without bench/


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 2)


def build(spark: SparkSession, args: TransformArgs) -> None:
    """The classification built and the staged frame planned (persisting plans it), then dropped: what the
    job does before its first Spark job reads anything."""
    lines = read_lines(spark, part_urls(args.manifest, read_json(spark, args.manifest)))
    stage(classify(lines, args.dump), args.dump).persist(StorageLevel.DISK_ONLY).unpersist()


def main() -> None:
    args = TransformArgs.parse(sys.argv[1:], description=__doc__ or "")
    spark = SparkSession.builder.appName("transform_dump twice").getOrCreate()
    seconds: dict[str, float] = {}
    try:
        for round_name in ("cold", "warm"):
            seconds[f"build_{round_name}_s"] = _timed(lambda: build(spark, args))
            seconds[f"{round_name}_s"] = _timed(lambda: run(spark, args))
    finally:
        spark.stop()
    print(MARKER + json.dumps(seconds), flush=True)


if __name__ == "__main__":
    main()
