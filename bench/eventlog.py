"""Where a Spark run's time goes: per-stage wall time, executor CPU, input, shuffle and spill, read from
Spark's event log (spark.eventLog.enabled), grouped by the job each stage ran in."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class StageCost:
    job: int
    stage: int
    name: str  # Spark's call site, e.g. "parquet at NativeMethodAccessorImpl.java:0"
    tasks: int
    seconds: float  # wall time of the stage
    cpu_s: float  # executor CPU time summed over its tasks
    run_s: float  # executor run time summed over its tasks (CPU + waiting: I/O, GC, locks)
    gc_s: float
    input_mb: float
    shuffle_read_mb: float
    shuffle_write_mb: float
    spill_mb: float


_METRICS = {
    "cpu_s": ("internal.metrics.executorCpuTime", 1e9),
    "run_s": ("internal.metrics.executorRunTime", 1e3),
    "gc_s": ("internal.metrics.jvmGCTime", 1e3),
    "input_mb": ("internal.metrics.input.bytesRead", 1 << 20),
    "shuffle_read_mb": ("internal.metrics.shuffle.read.localBytesRead", 1 << 20),
    "shuffle_write_mb": ("internal.metrics.shuffle.write.bytesWritten", 1 << 20),
    "spill_mb": ("internal.metrics.diskBytesSpilled", 1 << 20),
}


def stage_costs(event_log: Path) -> list[dict]:
    """One row per completed stage, in the order the jobs ran."""
    job_of: dict[int, int] = {}
    rows: list[StageCost] = []
    with event_log.open() as events:
        for line in events:
            event = json.loads(line)
            kind = event["Event"]
            if kind == "SparkListenerJobStart":
                for stage in event["Stage IDs"]:
                    job_of[stage] = event["Job ID"]
            elif kind == "SparkListenerStageCompleted":
                info = event["Stage Info"]
                values = {a["Name"]: a.get("Value") for a in info.get("Accumulables", [])}
                metrics = {
                    field: round(float(values.get(name) or 0) / scale, 2)
                    for field, (name, scale) in _METRICS.items()
                }
                rows.append(
                    StageCost(
                        job=job_of.get(info["Stage ID"], -1),
                        stage=info["Stage ID"],
                        name=info["Stage Name"],
                        tasks=info["Number of Tasks"],
                        seconds=round((info["Completion Time"] - info["Submission Time"]) / 1000, 2),
                        **metrics,
                    )
                )
    return [asdict(row) for row in sorted(rows, key=lambda row: (row.job, row.stage))]
