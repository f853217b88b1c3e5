"""Render data/bench/results.json (written by bench.run) as BENCHMARKS.md: the goals of issue 15 with
the target, the measured value and met/missed, the tables behind them (today's transform beside the one
before issue 15), the Spark profile and the projections.

python -m bench.report [data/bench/results.json] [BENCHMARKS.md]
"""

import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners.local import short_job

MB = 1_000_000
REAL_RELEASE_GB = {"authors": 0.6, "works": 4.0, "editions": 12.6}  # compressed, as published
DATAPROC_WORKERS = (2, 4, 8)
DATAPROC_CORES_PER_WORKER = 4  # n2-standard-4
DATAPROC_JOB_OVERHEAD_S = 45  # submit + driver start + executors, per transform job (an estimate)
CPU_BOUND_SHARE = 0.85  # GCS ingest + emulator using this share of the cores: the ingest is CPU-bound
SERIES = ("spark-2", "baseline-2", "spark-1", "single-gz", "original", "duckdb-2", "duckdb-1")
LABELS = {
    "spark-2": "transform_dump, 2 cores",
    "baseline-2": "transform_dump before issue 15 (a630e3a), 2 cores",
    "spark-1": "transform_dump, 1 core",
    "single-gz": "(a) single .gz, 2 cores",
    "original": "(b) original approach, 2 cores",
    "duckdb-2": "(c) DuckDB, 2 threads",
    "duckdb-1": "(c) DuckDB, 1 thread",
}


def _median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs)


def _sizes(results: dict[str, Any]) -> dict[str, Any]:
    """The sizes the run measured (older results: read off the series)."""
    if results.get("sizes"):
        return results["sizes"]
    return {
        "ingest": sorted(int(s) for s in results["ingest"]["floor"]),
        "transform": sorted(int(s) for s in results["transform"]["spark-2"])[-3:],
        "tiny": None,
    }


class Numbers:
    """The derived numbers of one results document: over all its rounds (medians), or over one round."""

    def __init__(self, results: dict[str, Any], round_no: int | None = None) -> None:
        self.r = results
        self.round_no = round_no  # None: every round; else only this round's runs (see runs())
        self.inputs = {int(size): info for size, info in results["inputs"].items()}
        sizes = _sizes(results)
        self.i_small, self.i_mid, self.i_large = sizes["ingest"]
        self.t_small, self.t_mid, self.t_large = sizes["transform"]
        self.tiny: int | None = sizes.get("tiny")
        self.cores = results["machine"]["nproc"]

    def mb(self, size: int) -> float:
        return self.inputs[size]["uncompressed_bytes"] / MB

    def lines(self, size: int) -> int:
        return self.inputs[size]["lines"]

    def _recorded(self, group: str, series: str, size: int | None) -> list[dict]:
        """Every run of a series at a size, whatever the view."""
        return self.r[group].get(series, {}).get(str(size), []) if size is not None else []

    def runs(self, group: str, series: str, size: int | None) -> list[dict]:
        """A series' runs at a size; in one round's view, that round's run (a series measured once, such as
        the job before issue 15 at the largest size, counts in every round; one missing a round, in none)."""
        runs = self._recorded(group, series, size)
        if self.round_no is None or len(runs) <= 1:
            return runs
        return runs[self.round_no : self.round_no + 1]

    def rounds(self) -> int:
        """How many interleaved rounds the run made (of spark-2 at the middle transform size)."""
        return len(self._recorded("transform", "spark-2", self.t_mid))

    def by_round(self) -> list["Numbers"]:
        """The same numbers round by round: each round ran every series side by side."""
        return [Numbers(self.r, round_no) for round_no in range(self.rounds())]

    def value(self, group: str, series: str, size: int | None, key: str) -> float | None:
        """The median of `key` over the runs of a series at a size that recorded it; None without any."""
        values = [run[key] for run in self.runs(group, series, size) if run.get(key) is not None]
        return statistics.median(values) if values else None

    def seconds(self, group: str, series: str, size: int | None) -> float | None:
        return self.value(group, series, size, "seconds")

    def rss(self, group: str, series: str, size: int | None) -> float | None:
        return self.value(group, series, size, "peak_rss_mb")

    def local_dir_mb(self, series: str, size: int | None) -> float | None:
        peak = self.value("transform", series, size, "local_dir_peak_bytes")
        return None if peak is None else peak / MB

    def marginal(self, group: str, series: str, small: int, large: int) -> float | None:
        """Uncompressed MB/s of the extra input between two sizes."""
        t_small, t_large = self.seconds(group, series, small), self.seconds(group, series, large)
        if t_small is None or t_large is None or t_large <= t_small:
            return None
        return (self.mb(large) - self.mb(small)) / (t_large - t_small)

    def rate(self, series: str) -> float | None:
        """A transform series' marginal rate between the two smaller transform sizes."""
        return self.marginal("transform", series, self.t_small, self.t_mid)

    def rate_large(self, series: str) -> float | None:
        """A transform series' marginal rate between the two larger transform sizes (None if unmeasured)."""
        return self.marginal("transform", series, self.t_mid, self.t_large)

    def per_record(self, group: str, series: str, small: int, large: int) -> float | None:
        """Marginal seconds per record between two sizes."""
        t_small, t_large = self.seconds(group, series, small), self.seconds(group, series, large)
        if t_small is None or t_large is None:
            return None
        return (t_large - t_small) / (self.lines(large) - self.lines(small))

    def ingest_seconds(self, size: int) -> float | None:
        """IngestDump to a local lake at `size`: the rounds' median, else the transform input's run."""
        return self.seconds("ingest", "local", size) or self.seconds("ingest", "transform-input", size)

    def end_to_end(self, size: int) -> float | None:
        """Ingest + spark-2 transform at `size`."""
        ingest, transform = self.ingest_seconds(size), self.seconds("transform", "spark-2", size)
        return None if ingest is None or transform is None else ingest + transform

    def gcs_cpu(self, size: int) -> tuple[float, float, float] | None:
        """(ingest CPU-s, emulator CPU-s, wall s) of the GCS ingest at `size`, medians; None if unmeasured."""
        parts = [self.value("ingest", "gcs", size, key) for key in ("cpu_s", "emulator_cpu_s", "seconds")]
        return None if None in parts else (parts[0], parts[1], parts[2])  # type: ignore[return-value]

    def gcs_share(self, small: int, large: int) -> float | None:
        """Share of the machine's cores the GCS ingest and the emulator kept busy on the extra input."""
        low, high = self.gcs_cpu(small), self.gcs_cpu(large)
        if low is None or high is None or high[2] <= low[2]:
            return None
        return (high[0] + high[1] - low[0] - low[1]) / ((high[2] - low[2]) * self.cores)


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _verdict(ok: bool | None, note: str = "") -> str:
    if ok is None:
        return "n/a"
    return ("met" + (f" ({note})" if note else "")) if ok else "**missed**"


def _check(value: float | None, test: Callable[[float], bool]) -> bool | None:
    return None if value is None else test(value)


def _all(checks: list[bool | None]) -> bool | None:
    return None if None in checks else all(checks)


@dataclass(frozen=True)
class Goal:
    """One goal of issue 15: what is compared, the target, what was measured, and whether it was met.

    `facts` are the numbers behind it, listed under "Goals missed" when it is missed.
    """

    key: str
    label: str
    target: str
    measured: str
    ok: bool | None
    facts: str
    note: str = ""  # said after "met" (e.g. which way a goal with alternatives was met)


def goal_throughput(n: Numbers) -> Goal:
    new, old = n.rate("spark-2"), n.rate("baseline-2")
    ratio = _ratio(new, old)
    # the same ratio over the largest sizes, where a fresh job's warm-up weighs least (shown, not judged)
    new_large, old_large = n.rate_large("spark-2"), n.rate_large("baseline-2")
    large = _ratio(new_large, old_large)
    beside = (
        f"; {n.t_mid} -> {n.t_large} MB: {_fmt(large, 2, 'x')} ({_fmt(new_large)} vs {_fmt(old_large)} MB/s)"
        if large
        else ""
    )
    return Goal(
        "throughput",
        f"Transform marginal throughput, 2 cores, vs before issue 15 ({n.t_small} -> {n.t_mid} MB)",
        ">= 2x",
        f"{_fmt(ratio, 2, 'x')} ({_fmt(new)} vs {_fmt(old)} MB/s){beside}",
        _check(ratio, lambda v: v >= 2),
        f"spark-2 {_fmt(new)} MB/s, baseline-2 {_fmt(old)} MB/s marginal ({n.t_small} -> {n.t_mid} MB).",
    )


def goal_duckdb(n: Numbers) -> Goal:
    ours, duck = n.rate("spark-2"), n.rate("duckdb-2")
    ratio = _ratio(ours, duck)
    return Goal(
        "duckdb",
        "Transform marginal throughput vs (c) DuckDB, 2 cores",
        ">= 0.8x",
        f"{_fmt(ratio, 2, 'x')} ({_fmt(ours)} vs {_fmt(duck)} MB/s)",
        _check(ratio, lambda v: v >= 0.8),
        f"spark-2 {_fmt(ours)} MB/s, DuckDB {_fmt(duck)} MB/s (2 threads), "
        f"{_fmt(n.rate('duckdb-1'))} MB/s (1 thread) marginal.",
    )


def goal_end_to_end(n: Numbers) -> Goal:
    sizes = (n.t_mid, n.t_large)
    ratios = {size: _ratio(n.seconds("transform", "original", size), n.end_to_end(size)) for size in sizes}
    facts = "; ".join(
        f"{size} MB: ingest {_fmt(n.ingest_seconds(size))} s + transform "
        f"{_fmt(n.seconds('transform', 'spark-2', size))} s = {_fmt(n.end_to_end(size))} s, "
        f"(b) {_fmt(n.seconds('transform', 'original', size))} s"
        for size in sizes
    )
    return Goal(
        "end_to_end",
        f"End to end (ingest + transform) vs (b) original approach, {n.t_mid} and {n.t_large} MB",
        ">= 1.5x faster at both",
        ", ".join(f"{_fmt(ratios[size], 2, 'x')} ({size} MB)" for size in sizes),
        _all([_check(ratios[size], lambda v: v >= 1.5) for size in sizes]),
        facts + ".",
    )


def goal_speedup(n: Numbers) -> Goal:
    two, one = n.rate("spark-2"), n.rate("spark-1")
    speedup = _ratio(two, one)
    return Goal(
        "speedup",
        "Transform speed-up, 1 -> 2 cores (marginal)",
        ">= 1.7x",
        _fmt(speedup, 2, "x"),
        _check(speedup, lambda v: v >= 1.7),
        f"1 core {_fmt(one)} MB/s, 2 cores {_fmt(two)} MB/s marginal ({n.t_small} -> {n.t_mid} MB).",
    )


def _per_record_costs(n: Numbers) -> tuple[float | None, float | None]:
    """spark-2's marginal seconds per record, small -> medium and medium -> large."""
    low = n.per_record("transform", "spark-2", n.t_small, n.t_mid)
    return low, n.per_record("transform", "spark-2", n.t_mid, n.t_large)


def goal_scaling(n: Numbers) -> Goal:
    low, high = _per_record_costs(n)
    change = None if low is None or high is None else 100 * (high / low - 1)
    micro = [None if cost is None else cost * 1e6 for cost in (low, high)]
    return Goal(
        "scaling",
        f"Per-record marginal cost, {n.t_mid} -> {n.t_large} MB vs {n.t_small} -> {n.t_mid} MB",
        "within 15 %",
        _fmt(change, 2, " %"),
        _check(change, lambda v: abs(v) <= 15),
        f"{_fmt(micro[0])} µs per record ({n.t_small} -> {n.t_mid} MB), "
        f"{_fmt(micro[1])} µs ({n.t_mid} -> {n.t_large} MB).",
    )


def goal_rss(n: Numbers) -> Goal:
    mid, large = n.rss("transform", "spark-2", n.t_mid), n.rss("transform", "spark-2", n.t_large)
    ratio = _ratio(large, mid)
    return Goal(
        "rss",
        f"Transform peak RSS flat: spark-2 at {n.t_large} MB / at {n.t_mid} MB",
        "<= 1.2x",
        f"{_fmt(ratio, 2, 'x')} ({_fmt(mid, 0)} -> {_fmt(large, 0)} MiB)",
        _check(ratio, lambda v: v <= 1.2),
        f"peak RSS {_fmt(mid, 0)} MiB at {n.t_mid} MB, {_fmt(large, 0)} MiB at {n.t_large} MB.",
    )


def goal_local_dir(n: Numbers) -> Goal:
    sizes = (n.t_mid, n.t_large)
    shares = {size: _ratio(n.local_dir_mb("spark-2", size), n.mb(size)) for size in sizes}
    before = n.local_dir_mb("baseline-2", n.t_mid)
    return Goal(
        "local_dir",
        "Spark local-dir peak (spark.local.dir) / uncompressed input, spark-2",
        "<= 0.3x",
        ", ".join(f"{_fmt(shares[size], 2, 'x')} ({size} MB)" for size in sizes),
        _all([_check(shares[size], lambda v: v <= 0.3) for size in sizes]),
        ", ".join(f"{_fmt(n.local_dir_mb('spark-2', size), 0)} MB at {size} MB" for size in sizes)
        + f"; before issue 15 {_fmt(before, 0)} MB at {n.t_mid} MB.",
    )


def goal_fixed_cost(n: Numbers) -> Goal:
    new, old = n.seconds("transform", "spark-2", n.tiny), n.seconds("transform", "baseline-2", n.tiny)
    ratio = _ratio(old, new)
    return Goal(
        "fixed_cost",
        f"Small dumps: transform of a {n.tiny} MB dump, before issue 15 / now",
        ">= 2x",
        f"{_fmt(ratio, 2, 'x')} ({_fmt(old)} s -> {_fmt(new)} s)",
        _check(ratio, lambda v: v >= 2),
        f"{n.tiny} MB dump: baseline-2 {_fmt(old)} s, spark-2 {_fmt(new)} s (whole job, start-up included).",
    )


def gcs_cpu_text(n: Numbers, size: int) -> str:
    """'ingest 1.9 CPU-s + emulator 1.6 CPU-s in 2.0 s wall on 2 cores = 88 % of the machine'."""
    cpu = n.gcs_cpu(size)
    if cpu is None:
        return "CPU not measured"
    ingest, emulator, wall = cpu
    share = (ingest + emulator) / (wall * n.cores)
    return (
        f"ingest {ingest:.1f} CPU-s + emulator {emulator:.1f} CPU-s in {wall:.1f} s wall on {n.cores} cores "
        f"= {100 * share:.0f} % of the machine"
    )


def goal_ingest_gcs(n: Numbers) -> Goal:
    floor = n.marginal("ingest", "floor", n.i_mid, n.i_large)
    ratio = _ratio(n.marginal("ingest", "gcs", n.i_mid, n.i_large), floor)
    share = n.gcs_share(n.i_mid, n.i_large)
    fast, bound = _check(ratio, lambda v: v >= 1.2), _check(share, lambda v: v >= CPU_BOUND_SHARE)
    ok = True if fast or bound else (None if fast is None else False)
    note = "" if fast or not bound else "CPU-bound"
    return Goal(
        "ingest_gcs",
        "Ingest HTTP -> GCS emulator vs `curl \\| gzip -dc` (marginal), or what bounds it",
        f">= 1.2x, or CPU-bound (ingest + emulator >= {100 * CPU_BOUND_SHARE:.0f} % of the cores, marginal)",
        f"{_fmt(ratio, 2, 'x')}; {n.i_large} MB: {gcs_cpu_text(n, n.i_large)}; marginal "
        f"{n.i_mid} -> {n.i_large} MB: {_fmt(None if share is None else 100 * share, 0, ' %')} of the cores",
        ok,
        f"{n.i_large} MB: {gcs_cpu_text(n, n.i_large)}; the extra input {n.i_mid} -> {n.i_large} MB kept "
        f"{_fmt(None if share is None else 100 * share, 0, ' %')} of the cores busy.",
        note,
    )


GOALS = (
    goal_throughput,
    goal_duckdb,
    goal_end_to_end,
    goal_speedup,
    goal_scaling,
    goal_rss,
    goal_local_dir,
    goal_fixed_cost,
    goal_ingest_gcs,
)


def _first_stage_share(n: Numbers) -> float | None:
    """The profiled run's first stage (read, classify, stage) as a share of its executor CPU."""
    profile = n.r.get("profile") or []
    total = sum(row["cpu_s"] for row in profile)
    return profile[0]["cpu_s"] / total if total else None


def _warm(n: Numbers, size: int | None) -> dict[str, float] | None:
    """bench/jobs/twice.py's cold and warm seconds at `size` (None when not measured)."""
    return (n.r.get("warmup") or {}).get(str(size))


def _warmup_text(n: Numbers, size: int | None) -> str:
    """'In one JVM the 400 MB job takes 30.1 s the first time and 18.2 s the second: ...' (empty when not
    measured)."""
    twice = _warm(n, size)
    if twice is None:
        return ""
    cold, warm = twice["cold_s"], twice["warm_s"]
    return (
        f"In one JVM the {size} MB job takes {cold:.1f} s the first time and {warm:.1f} s the second: "
        f"{cold - warm:.1f} s of a fresh job is warm-up (its read, parse and write code interpreted until "
        "the JIT has compiled it, on the same two cores as the tasks)."
    )


def _jit(n: Numbers, size: int | None) -> dict[str, float] | None:
    """The JIT's compile seconds and the run's wall and CPU seconds at `size` (None when not measured)."""
    return (n.r.get("jit") or {}).get(str(size))


def _jit_text(n: Numbers, size: int | None) -> str:
    """'At 400 MB the JIT compiled for 33.0 CPU-s of the run's 66.6 (50 %); ...' (empty when not measured)."""
    jit = _jit(n, size)
    if jit is None:
        return ""
    share = 100 * jit["total_s"] / jit["cpu_s"]
    if not jit["c2_s"]:
        return (
            f"At {size} MB (a short job: C1 only) the JVM's JIT compiler ran {jit['total_s']:.1f} CPU-s of "
            f"the run's {jit['cpu_s']:.1f} ({share:.0f} %)."
        )
    return (
        f"At {size} MB the JVM's JIT compilers ran {jit['total_s']:.1f} CPU-s of the run's "
        f"{jit['cpu_s']:.1f} ({share:.0f} %); C2, one thread, {jit['c2_s']:.1f} s of the "
        f"{jit['wall_s']:.1f} s the run took: on two cores, one core compiles for most of a fresh job."
    )


def _limits(goal: Goal, n: Numbers) -> str:
    """What limits a missed goal, from the measured numbers (empty when there is nothing to add)."""
    tiny = n.seconds("transform", "spark-2", n.tiny)
    ours, theirs = n.rate("spark-2"), n.marginal("transform", "original", n.t_small, n.t_mid)
    share = _first_stage_share(n)
    percent = _fmt(None if share is None else 100 * share, 0, " %")
    warm_mid = _warmup_text(n, n.t_mid)
    jit_small, jit_mid = _jit_text(n, n.t_small), _jit_text(n, n.t_mid)
    if goal.key in ("throughput", "scaling", "speedup"):
        parts = [
            f"The first stage (read, parse, classify, stage) is {percent} of the profiled job's executor "
            "CPU.",
            warm_mid,
            jit_small,
            jit_mid,
            "A marginal rate between two fresh jobs cancels only the part of the warm-up both sizes pay "
            "alike.",
        ]
        return " ".join(part for part in parts if part)
    if goal.key == "duckdb":
        return (
            f"The first stage (read, parse, classify, stage) is {percent} of the job's executor CPU. DuckDB "
            "reads the text with vectorised C++ and extracts only the fields it writes; the job parses "
            "every kept field with Jackson, checks every line for a quarantine reason and every ISBN's check "
            "digit, reads lists of uncommon shapes element by element (`spark/fields.py`: functions Spark "
            "evaluates without code generation), and writes three tables, the quarantine and the reconciled "
            "counts."
        )
    if goal.key == "end_to_end":
        return (
            f"The job's fixed cost: a {n.tiny} MB dump takes {_fmt(tiny)} s, which (b) pays far less of; per "
            f"extra MB the job is the faster ({_fmt(ours)} against {_fmt(theirs)} MB/s marginal), so the gap "
            f"narrows with the dump's size. {warm_mid} {jit_mid}"
        ).strip()
    if goal.key == "fixed_cost":
        twice = _warm(n, n.tiny)
        if twice is None:
            return "The fixed cost was not broken down in this run (bench/jobs/twice.py)."
        start, cold_build, warm_build = (
            _start_and_stop(twice),
            twice["build_cold_s"],
            twice["build_warm_s"],
        )
        return (
            f"Of a fresh {n.tiny} MB job (one JVM, bench/jobs/twice.py): starting and stopping the JVM and "
            f"the session take {start:.1f} s; building the DataFrames (Python, py4j, Catalyst) "
            f"{cold_build:.1f} s cold ({warm_build:.1f} s warm); the job itself {twice['cold_s']:.1f} s the "
            f"first time, {twice['warm_s']:.1f} s the second. So most of it is one-off JVM cost: cold code, "
            "and the classification's large expression trees built through py4j and analysed by Catalyst; "
            "the class archive cuts the class loading and a short job's C1-only JIT the compiling, not the "
            f"rest. {_jit_text(n, n.tiny)}"
        ).strip()
    if goal.key == "rss":
        memory = n.r["settings"]["driver_memory"]
        return (
            f"The heap (`driver_memory` = {memory}) grows as the larger input asks for it and is not handed "
            "back; the peak stays under that bound plus the JVM's own memory, which no larger dump can pass "
            "(see Memory below), so the ratio measures how far the heap grew toward its bound."
        )
    if goal.key == "ingest_gcs":
        return (
            "Neither 1.2x the floor nor CPU-bound: the ingest and the emulator together kept the cores busy "
            "only that share of the time, so the rest is waiting (on the emulator's answers to the chunk "
            "uploads, on the download), which this run does not break down further; this machine has no "
            "third core to give the emulator."
        )
    return ""


def what_limits(goal: Goal, n: Numbers) -> str:
    """The note under "Goals missed" for a missed goal: the numbers behind it and what limits it."""
    limits = _limits(goal, n)
    return f"- **{goal.label}** ({goal.target}): {goal.facts}" + (f" {limits}" if limits else "")


def rounds_met(per_round: list[Goal]) -> str:
    """In how many rounds a goal was met, each judged on its own runs ("2 of 3"; "n/a" when none could be)."""
    judged = [goal.ok for goal in per_round if goal.ok is not None]
    return f"{sum(judged)} of {len(judged)}" if judged else "n/a"


def split_rounds(number: int, per_round: list[Goal]) -> str:
    """A line for a goal the rounds disagree on (met in some, missed in others): what each round measured;
    empty when they agree."""
    if len({goal.ok for goal in per_round if goal.ok is not None}) < 2:
        return ""
    measured = "; ".join(
        f"round {round_no} {goal.measured} ({'met' if goal.ok else 'missed'})"
        for round_no, goal in enumerate(per_round, 1)
    )
    return f"- Goal {number}: {measured}."


def goals_section(n: Numbers) -> list[str]:
    goals = [make(n) for make in GOALS]
    out = [
        "## Goals\n",
        "The verdict judges the medians. *Rounds met* judges each interleaved round on its own runs (a "
        "series measured once counts in every round): a goal met on the medians but not in every round "
        "rests on this machine's noise.\n",
        "| # | goal | target | measured | verdict | rounds met |\n| ---: | --- | --- | --- | --- | --- |",
    ]
    rounds = n.by_round()
    per_round = [[make(one) for one in rounds] for make in GOALS]
    for number, (goal, each) in enumerate(zip(goals, per_round, strict=True), 1):
        out.append(
            f"| {number} | {goal.label} | {goal.target} | {goal.measured} | {_verdict(goal.ok, goal.note)} "
            f"| {rounds_met(each)} |"
        )
    out.append("")
    split = [line for number, each in enumerate(per_round, 1) if (line := split_rounds(number, each))]
    if split:
        out.append("### Goals the rounds disagree on\n")
        out.extend(split)
        out.append("")
    missed = [goal for goal in goals if goal.ok is False]
    if missed:
        out.append("### Goals missed, and what limits them\n")
        out.extend(what_limits(goal, n) for goal in missed)
        out.append("")
    return out


def header_section(n: Numbers) -> list[str]:
    r = n.r
    rounds = len(n.runs("ingest", "floor", n.i_large))
    return [
        "# Benchmarks\n",
        "Generated by `make bench` (`python -m bench.run`) from `data/bench/results.json`; do not edit by "
        f"hand. Scale: **{r['scale']}**, whole run {r['minutes']} min. Every ratio compares "
        "measurements taken side by side in the same run (interleaved rounds, medians of "
        f"{rounds}); throughputs are **marginal**: the extra "
        "uncompressed megabytes between two input sizes divided by the extra seconds, so start-up "
        "(Python, JVM, Spark session) cancels out. MB = 10^6 bytes of uncompressed dump.\n",
    ]


def machine_section(n: Numbers) -> list[str]:
    machine, settings = n.r["machine"], n.r["settings"]
    cores, threads = machine["cores_per_socket"], machine["threads_per_core"]
    kind = (
        "two physical cores (one thread each): a second core is a whole core, so 1 -> 2 cores can give "
        "close to 2x"
        if str(threads) == "1"
        else f"{cores} core(s) with {threads} hardware threads each: the second 'core' shares a physical core"
    )
    return [
        "## Machine\n",
        f"- {machine['nproc']} CPUs as the kernel sees them ({machine['model']}, "
        f"{machine['hypervisor'] or 'bare metal'} guest): {kind}.\n"
        f"- {machine['memory_gib']} GiB memory; Python {machine['python']}; {machine['gzip']}.\n"
        f"- Load average before / after the run: {', '.join(f'{x:.1f}' for x in machine['load_before'])} / "
        f"{', '.join(f'{x:.1f}' for x in machine.get('load_after', []))} (the machine is shared: "
        "absolute numbers move, side-by-side ratios much less).\n"
        f"- Settings measured (luigi.cfg): `[ingest] part_mb = {settings['part_mb']}`, `compress_level = "
        f"{settings['compress_level']}`; `[spark] driver_memory = {settings['driver_memory']}`, "
        f"`conf = {json.dumps(settings['spark_conf'])}`, "
        f"`short_job_mb = {settings.get('short_job_mb', 0)}`; the transform job's own session settings "
        f"(spark/transform_dump.py): `{json.dumps(settings.get('transform_session', {}))}`.\n",
    ]


def inputs_section(n: Numbers) -> list[str]:
    out = [
        "## Inputs\n",
        "Synthetic editions dumps (`bench/synth.py`): every line a real sample edition from `samples/` "
        "with a unique key and varied titles, works/author keys, ISBNs, page counts and dates, compressed "
        "by GNU `gzip -6`, served by `DumpServer` (`bench/dumpserver.py`, bodies sent with "
        "sendfile) from 127.0.0.1.\n",
        "| input | lines | uncompressed MB | compressed MB | ratio |\n| --- | ---: | ---: | ---: | ---: |",
    ]
    for size, info in sorted(n.inputs.items()):
        out.append(
            f"| {size} MB | {info['lines']:,} | {info['uncompressed_bytes'] / MB:,.1f} | "
            f"{info['compressed_bytes'] / MB:,.1f} | "
            f"{info['uncompressed_bytes'] / info['compressed_bytes']:.2f} |"
        )
    out.append("")
    return out


def ingest_table(n: Numbers) -> list[str]:
    sizes = (n.i_small, n.i_mid, n.i_large)
    floor_rate = n.marginal("ingest", "floor", n.i_mid, n.i_large)
    out = [
        "| series | " + " | ".join(f"{s} MB: s (peak RSS MiB)" for s in sizes)
        + f" | marginal MB/s ({n.i_mid} -> {n.i_large}) | vs floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for series, label in (
        ("floor", "curl \\| gzip -dc"),
        ("local", "IngestDump -> local"),
        ("gcs", "IngestDump -> GCS emulator"),
    ):
        cells = [
            f"{_fmt(n.seconds('ingest', series, s), 2)} ({_fmt(n.rss('ingest', series, s), 0)})"
            for s in sizes
        ]
        rate = n.marginal("ingest", series, n.i_mid, n.i_large)
        out.append(
            f"| {label} | {' | '.join(cells)} | {_fmt(rate, 0)} | {_fmt(_ratio(rate, floor_rate), 2, 'x')} |"
        )
    return out


def gcs_cpu_table(n: Numbers) -> list[str]:
    """Where the cores went during the GCS ingest runs: the ingest's and the emulator's CPU."""
    out = [
        f"\n### CPU during the GCS ingest\n\nCPU seconds (user + system, medians) of the IngestDump process "
        "tree (from wait4) and of fake-gcs-server's process tree (from /proc, before and after each run), "
        f"against wall seconds x {n.cores} cores.\n",
        "| input | wall s | ingest CPU-s | emulator CPU-s | share of the cores |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in (n.i_small, n.i_mid, n.i_large):
        cpu = n.gcs_cpu(size)
        if cpu is None:
            out.append(f"| {size} MB | n/a | n/a | n/a | n/a |")
            continue
        ingest, emulator, wall = cpu
        share = (ingest + emulator) / (wall * n.cores)
        out.append(f"| {size} MB | {wall:.2f} | {ingest:.2f} | {emulator:.2f} | {100 * share:.0f} % |")
    share = n.gcs_share(n.i_mid, n.i_large)
    out.append(
        f"\nOn the extra input ({n.i_mid} -> {n.i_large} MB) the two kept "
        f"{_fmt(None if share is None else 100 * share, 0, ' %')} of the cores busy.\n"
    )
    return out


def levels_table(n: Numbers) -> list[str]:
    out = [
        "\n### Compression level of the parts\n",
        f"On the {n.i_large} MB input, beside the floor in the same rounds (whole-run times, start-up "
        "included).\n",
        "| compress_level | codec | ingest s | floor s | floor / ingest | parts MB | ratio |\n"
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level, entry in sorted(n.r["levels"].items(), key=lambda item: int(item[0])):
        ingest_s, floor_s = _median(entry["runs"]), _median(entry["floor"])
        codec = "ISA-L" if int(level) <= 3 else "zlib"
        out.append(
            f"| {level} | {codec} | {ingest_s:.2f} | {floor_s:.2f} | {floor_s / ingest_s:.2f}x | "
            f"{entry['part_bytes'] / MB:,.1f} | {n.mb(n.i_large) * MB / entry['part_bytes']:.2f} |"
        )
    out.append("")
    return out


def ingest_section(n: Numbers) -> list[str]:
    out = [
        "## Ingest\n",
        "IngestDump as `python -m luigi --module tasks IngestDump ...` (start-up included, cancelled by the "
        "marginal rate): HTTP from 127.0.0.1 -> md5 -> gunzip (ISA-L) -> split into parts -> gzip (ISA-L) "
        "-> lake, in four threads (the lake writes in their own). The floor is `curl -s URL | gzip -dc > "
        "/dev/null` on the same URL.\n",
        *ingest_table(n),
    ]
    big = n.seconds("ingest", "transform-input", n.t_large)
    if big:
        out.append(
            f"\nIngest of the {n.t_large} MB transform input (one run, local lake): {big:.1f} s, "
            f"{n.mb(n.t_large) / big:,.0f} MB/s overall."
        )
    return [*out, *gcs_cpu_table(n), *levels_table(n)]


def _cell(n: Numbers, series: str, size: int) -> str:
    seconds = n.seconds("transform", series, size)
    if seconds is None:
        return "—"
    return f"{_fmt(seconds, 1)} ({_fmt(n.rss('transform', series, size), 0)})"


def transform_table(n: Numbers) -> list[str]:
    sizes = (n.t_small, n.t_mid, n.t_large)
    out = [
        "| series | " + " | ".join(f"{s} MB: s (peak RSS MiB)" for s in sizes)
        + f" | marginal MB/s ({n.t_small} -> {n.t_mid}) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for series in SERIES:
        cells = [_cell(n, series, s) for s in sizes]
        out.append(f"| {LABELS[series]} | {' | '.join(cells)} | {_fmt(n.rate(series), 1)} |")
    low, high = _per_record_costs(n)
    micro_low = None if low is None else low * 1e6
    micro_high = None if high is None else high * 1e6
    ends = "; ".join(
        f"at {size} MB: ingest {_fmt(n.ingest_seconds(size), 1)} s + transform "
        f"{_fmt(n.seconds('transform', 'spark-2', size), 1)} s = {_fmt(n.end_to_end(size), 1)} s, "
        "against (b) "
        f"{_fmt(n.seconds('transform', 'original', size), 1)} s"
        for size in (n.t_mid, n.t_large)
    )
    out.append(
        f"\nEnd to end {ends} ((b) includes its gunzip). Per-record marginal cost: "
        f"{_fmt(micro_low, 1)} µs ({n.t_small} -> {n.t_mid} MB), "
        f"{_fmt(micro_high, 1)} µs ({n.t_mid} -> {n.t_large} MB).\n"
    )
    return out


def before_after_section(n: Numbers) -> list[str]:
    """baseline-2 (the job before issue 15) against spark-2 at each size: time, peak RSS, local-dir peak."""
    baseline = n.r.get("baseline", {})
    sizes = [size for size in (n.tiny, n.t_small, n.t_mid, n.t_large) if size is not None]
    out = [
        "### Transform: before and after\n",
        f"The job as it was at commit {baseline.get('commit', 'a630e3a')} (before issue 15; "
        "`bench/baseline.py`: its `spark/` extracted and shipped instead of today's, the same settings, "
        "and the local runner as it then was, without what issue 15 added to it (the JIT option, the class "
        "archive and short jobs); each run's log must name the old job file and zip) against "
        "today's, both on 2 cores, "
        "in the same rounds. Local dir: the peak total size "
        "under the run's own `spark.local.dir`, sampled every 0.2 s. The "
        f"{n.t_large} MB baseline is one run.\n",
        "| input | before s | after s | before / after | before peak RSS MiB | after peak RSS MiB "
        "| before local dir MB | after local dir MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        old, new = n.seconds("transform", "baseline-2", size), n.seconds("transform", "spark-2", size)
        out.append(
            f"| {size} MB | {_fmt(old)} | {_fmt(new)} | {_fmt(_ratio(old, new), 2, 'x')} | "
            f"{_fmt(n.rss('transform', 'baseline-2', size), 0)} | "
            f"{_fmt(n.rss('transform', 'spark-2', size), 0)} | "
            f"{_fmt(n.local_dir_mb('baseline-2', size), 1)} | {_fmt(n.local_dir_mb('spark-2', size), 1)} |"
        )
    old, new = n.rate("baseline-2"), n.rate("spark-2")
    out.append(
        f"\nMarginal throughput ({n.t_small} -> {n.t_mid} MB): before {_fmt(old)} MB/s, after "
        f"{_fmt(new)} MB/s ({_fmt(_ratio(new, old), 2, 'x')}).\n"
    )
    return out


def is_short(n: Numbers, size: int) -> bool:
    """Whether the pipeline ran the transform of the `size` MB input as a short job."""
    return short_job(n.inputs[size]["uncompressed_bytes"], n.r["settings"].get("short_job_mb", 0))


def short_and_long(n: Numbers, size: int) -> tuple[str, str]:
    """The series that ran the `size` MB transform as a short job, and the one that ran it as a long one."""
    return ("spark-2", "spark-2-flip") if is_short(n, size) else ("spark-2-flip", "spark-2")


def short_job_section(n: Numbers) -> list[str]:
    """spark-2 against spark-2-flip (the short-job choice turned round) at each size both ran."""
    sizes = [size for size in (n.tiny, n.t_small, n.t_mid) if n.seconds("transform", "spark-2-flip", size)]
    if not sizes:
        return []
    threshold = n.r["settings"].get("short_job_mb", 0)
    out = [
        "### Short jobs\n",
        f"A transform of a dump of at most `[spark] short_job_mb` = {threshold} MB (uncompressed) is a short "
        "job: the runner starts its driver with `-XX:TieredStopAtLevel=1 -XX:+UseParallelGC` (C1 only, no "
        "optimising compiler; the parallel collector). The job (2 cores) each way, in the same rounds: "
        "`spark-2` as the pipeline chose, `spark-2-flip` the other way.\n",
        "| input | the pipeline's choice | short (C1 only) s | not short s | short / not short "
        "| short peak RSS MiB | not short peak RSS MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    faster, slower = [], []
    for size in sizes:
        series = short_and_long(n, size)
        short, long = (n.seconds("transform", name, size) for name in series)
        short_rss, long_rss = (n.rss("transform", name, size) for name in series)
        ratio = _ratio(short, long)
        if ratio is not None:
            (faster if ratio < 1 else slower).append(size)
        out.append(
            f"| {size} MB | {'short' if is_short(n, size) else 'not short'} | {_fmt(short)} | "
            f"{_fmt(long)} | {_fmt(ratio, 2, 'x')} | {_fmt(short_rss, 0)} | {_fmt(long_rss, 0)} |"
        )
    sides = [f"{word} at {', '.join(f'{size} MB' for size in found)}" for word, found in
             (("faster", faster), ("slower", slower)) if found]  # fmt: skip
    measured = f"Here C1 only was {'; '.join(sides)}. " if sides else ""
    first = sizes[0]
    short_rss, long_rss = (n.rss("transform", name, first) for name in short_and_long(n, first))
    out.append(
        f"\n{measured}C1's code is quicker to make and slower to run than C2's: what it saves is bounded "
        "(the compiling of a fresh job), what it costs grows with the input, so the threshold stays on the "
        "small side of the cross-over. The parallel collector grows the heap sooner than G1: at "
        f"{first} MB the short job peaked at {_fmt(short_rss, 0)} MiB against {_fmt(long_rss, 0)} MiB, "
        "within `driver_memory` all the same.\n"
    )
    return out


def part_size_section(n: Numbers) -> list[str]:
    out = [
        "### Part size\n",
        f"The {n.t_mid} MB input re-chunked into parts of each size, transformed on 2 cores "
        "(one run each).\n",
        "| part_mb (MiB) | parts | transform s |\n| ---: | ---: | ---: |",
    ]
    for part_mb, entry in sorted(n.r["part_sizes"].items(), key=lambda item: float(item[0])):
        out.append(f"| {part_mb} | {entry['parts']} | {entry['run']['seconds']:.1f} |")
    out.append("")
    return out


def transform_section(n: Numbers) -> list[str]:
    return [
        "## Transform\n",
        "The pipeline's job `spark/transform_dump.py` as the local runner launches it (spark-submit, "
        "luigi.cfg's `[spark]` settings), editions dump -> `editions`, `edition_authors`, `edition_isbns`, "
        "quarantine and metrics, beside the same job as it was before issue 15 (baseline-2). References: "
        "**(a)** the same job on the single downloaded `.gz`; **(b)** "
        "the original project's approach (`bench/jobs/original.py`: `gzip -dc` to text, 5-column CSV, "
        "`repartition(24)`, raw Parquet written and read back, one `get_json_object` per field); **(c)** "
        "DuckDB (`bench/duck.py`) reading the same `.gz` and writing the editions fields to Parquet. "
        "1-core runs: `taskset -c 0` with `local[1]` (or 1 DuckDB thread).\n",
        *transform_table(n),
        *before_after_section(n),
        *short_job_section(n),
        *part_size_section(n),
    ]


def profile_section(n: Numbers) -> list[str]:
    profile, size = n.r["profile"], n.r["profile_mb"]
    out = [
        f"### Where Spark's time goes ({size} MB, 2 cores, from the event log)\n",
        "| job | stage | call site | tasks | wall s | CPU s | run s | GC s | input MiB | shuffle read MiB "
        "| shuffle write MiB | spill MiB |\n"
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in profile:
        out.append(
            f"| {row['job']} | {row['stage']} | {row['name']} | {row['tasks']} | {row['seconds']:.1f} | "
            f"{row['cpu_s']:.1f} | {row['run_s']:.1f} | {row['gc_s']:.1f} | {row['input_mb']:.0f} | "
            f"{row['shuffle_read_mb']:.0f} | {row['shuffle_write_mb']:.0f} | {row['spill_mb']:.0f} |"
        )
    total_cpu = sum(row["cpu_s"] for row in profile)
    out.append(f"\nExecutor CPU in all stages: {total_cpu:.1f} s for {size} MB.\n")
    out.append(ANALYSIS)
    return out


def _start_and_stop(twice: dict[str, float]) -> float:
    """The twice job's process time less its two builds and two runs: JVM, Spark session, shutdown."""
    rounds = ("build_cold_s", "cold_s", "build_warm_s", "warm_s")
    return twice["process_s"] - sum(twice[key] for key in rounds)


def warmup_section(n: Numbers) -> list[str]:
    """The job run twice in one JVM (bench/jobs/twice.py), when the run measured it."""
    warmup = n.r.get("warmup") or {}
    if not warmup:
        return []
    out = [
        "### Cold and warm: the job twice in one JVM\n",
        "`bench/jobs/twice.py`, on 2 cores with the runner's settings, in one Spark session: each round "
        "first only builds the job's DataFrames (Python, py4j, Catalyst's analysis and the staged frame's "
        "planning; nothing is read), then runs the whole job. The first round pays what every fresh job "
        "pays once: Catalyst cold for the build; the read, parse and write code interpreted until the JIT "
        "has compiled it (on the same two cores as the tasks) for the run. The second does the same on warm "
        "code. Start and stop: the process's wall time less the four (JVM, Spark session, shutdown). One "
        "run each.\n",
        "| input | process s | start + stop s | build, cold s | build, warm s | job, first s | job, second s "
        "| first / second | second: MB/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, twice in sorted(warmup.items(), key=lambda item: int(item[0])):
        cold, warm = twice["cold_s"], twice["warm_s"]
        out.append(
            f"| {size} MB | {twice['process_s']:.1f} | {_start_and_stop(twice):.1f} | "
            f"{twice['build_cold_s']:.1f} | {twice['build_warm_s']:.1f} | {cold:.1f} | {warm:.1f} | "
            f"{cold / warm:.2f}x | {n.mb(int(size)) / warm:.1f} |"
        )
    out.append("")
    out.extend(jit_section(n))
    out.extend(class_archive_section(n))
    return out


def jit_section(n: Numbers) -> list[str]:
    """The JIT's compile time in a fresh job at each size (-XX:+CITime), when the run measured it."""
    jit = n.r.get("jit") or {}
    if not jit:
        return []
    out = [
        "### The JIT's share of a fresh job\n",
        "The job (2 cores, the runner's settings) with `-XX:+CITime`: the CPU seconds the JVM's JIT "
        "compilers spent (C1: quick code; C2: optimised code, one thread on two cores), against the run's "
        "wall and CPU seconds (the whole process tree). One run each.\n",
        "| input | wall s | CPU s | C1 s | C2 s | JIT total s | JIT / CPU | C2 / wall |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, row in sorted(jit.items(), key=lambda item: int(item[0])):
        out.append(
            f"| {size} MB | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | {row['c1_s']:.1f} | "
            f"{row['c2_s']:.1f} | {row['total_s']:.1f} | {100 * row['total_s'] / row['cpu_s']:.0f} % | "
            f"{100 * row['c2_s'] / row['wall_s']:.0f} % |"
        )
    out.append(
        "\nThe compiles are spread over thousands of methods: Spark's generated code, Janino compiling it, "
        "Catalyst, class loading, Java serialisation of tasks, Jackson, Parquet; none is a large part. "
        'Compiling with C1 only is what a short job does ("Short jobs" above: faster on a small input, '
        "slower on a large one); raising the C2 thresholds made the medium job slower (single runs, not part "
        "of this bench), so a job that is not short keeps the JIT as the JVM sets it.\n"
    )
    return out


def class_archive_section(n: Numbers) -> list[str]:
    """What the first local job pays to write the class archive, when the run measured it."""
    archive = n.r.get("class_archive") or {}
    if not archive:
        return []
    tiny = n.seconds("transform", "spark-2", n.tiny)
    return [
        f"The first local job on a machine writes the runner's class archive "
        f"({archive['archive_bytes'] / 1e6:,.0f} MB in the user's cache; `runners/class_archive.py`): the "
        f"{n.tiny} MB transform took {archive['first_run_s']:.1f} s then, {_fmt(tiny)} s (median) once the "
        "archive exists.\n"
    ]


def _efficiency_text(measured: float, used: float) -> str:
    if measured > used:
        return f"{used:.2f} parallel efficiency (1 -> 2 cores measured {measured:.2f}, above linear: noise)"
    return f"{used:.2f} parallel efficiency as measured 1 -> 2 cores"


def projection_section(n: Numbers) -> list[str]:
    ratio = statistics.mean(
        info["uncompressed_bytes"] / info["compressed_bytes"] for info in n.inputs.values()
    )
    total_gb = sum(REAL_RELEASE_GB.values()) * ratio
    per_core, local = n.rate("spark-1"), n.rate("spark-2")
    measured = (_ratio(local, per_core) or 1.0) / 2
    efficiency = min(measured, 1.0)  # more cores cannot do more than their share: above 1 is noise
    # the local projection takes the largest sizes' rate when measured: a real dump is larger still
    largest = n.rate_large("spark-2")
    local, interval = (largest, (n.t_mid, n.t_large)) if largest else (local, (n.t_small, n.t_mid))
    local_rate = n.marginal("ingest", "local", n.i_mid, n.i_large)
    out = [
        "## Projection for a real release\n",
        f"Published sizes (compressed): authors {REAL_RELEASE_GB['authors']} GB, works "
        f"{REAL_RELEASE_GB['works']} GB, editions {REAL_RELEASE_GB['editions']} GB; at this input's "
        f"compression ratio ({ratio:.2f}) that is about {total_gb:,.0f} GB of JSON lines. Assumes every dump "
        "costs what the synthetic editions cost per MB (editions, the largest, is also the richest record), "
        "and leaves out the small dumps and the marts.\n",
    ]
    if not (local and per_core):
        return out
    local_h = total_gb * 1000 / local / 3600
    ingest_min = total_gb * 1000 / local_rate / 60 if local_rate else None
    out.append(
        f"- **Locally, 2 cores**: transforms about {local_h:.1f} h at {local:.1f} MB/s (marginal, "
        f"{interval[0]} -> {interval[1]} MB); the ingest is "
        f"CPU-bound at {_fmt(local_rate, 0)} MB/s ({_fmt(ingest_min, 0)} min), in practice bounded by the "
        "download from archive.org (17.2 GB compressed: 1.9 h at 2.5 MB/s, 0.2 h at 25 MB/s), "
        "and runs beside the transforms (`--workers 3`, one Spark job at a time).\n"
    )
    for workers in DATAPROC_WORKERS:
        cores = workers * DATAPROC_CORES_PER_WORKER
        seconds = total_gb * 1000 / (per_core * cores * efficiency) + 3 * DATAPROC_JOB_OVERHEAD_S
        out.append(
            f"- **Dataproc, {workers} x n2-standard-4 workers ({cores} cores)**: about "
            f"{seconds / 60:,.0f} min of transforms (per-core {per_core:.1f} MB/s x {cores} cores x "
            f"{_efficiency_text(measured, efficiency)}, + "
            f"{DATAPROC_JOB_OVERHEAD_S} s start-up per job), plus the ingest on the VM as above.\n"
        )
    return out


def render(results: dict[str, Any]) -> str:
    n = Numbers(results)
    sections = (
        header_section,
        machine_section,
        inputs_section,
        goals_section,
        ingest_section,
        transform_section,
        profile_section,
        warmup_section,
        projection_section,
    )
    out = [line for section in sections for line in section(n)]
    out.append(MEMORY)
    return "\n".join(out) + "\n"


ANALYSIS = """\
What the profile shows, and what the job does about it (issue 15):

- **One read of the parts.** The first job reads and classifies every line (gunzip, line splitting,
  UTF-8 check, `from_json` with the explicit schema, the field kinds of `spark/fields.py`, the reasons,
  the ISBN checks) into the staged frame, persisted `DISK_ONLY`. Repeated keys are then counted from the
  staged key column (a small shuffle of keys), not from a second read of the parts as before issue 15
  (then a fifth of the CPU); only the parts that hold a repeated key are read and classified again, to rank
  those records with their raw lines. The synthetic input has none, like most monthly dumps.
- **The staged frame is columnar.** Spark's cache keeps columns; every record field is its own column, so
  each table, the quarantine and the counts read only the columns they use, and the raw line is kept only
  for lines that go to quarantine (a good record's line was most of the cache). Local disk use is the
  "local-dir peak" above.
- **ISBNs are checked once per edition**, in the first read, by a compiled common path (at most two bare
  values per column, nearly every edition) that the general path (every ISBN-shaped run of any text) is
  tested against; `edition_isbns` and the `isbns_refused` counts read the result. Before, the ISBN
  expressions ran three times, in per-element functions that Spark does not compile.
- **The commonest shapes are read by patterns** (`spark/fields.py`): a list whose every element is plain
  for its kind (bare references, author entries of the two common shapes, texts with no object or null,
  integers in digits) is joined once and read by compiled string functions instead of per-element
  functions, which Spark evaluates without code generation; bare references and `{"type", "value"}`
  objects (every record's `created` and `last_modified`) are read without a JSON parser; any other shape
  takes the general path, and the tests check both paths give the same record.
- **Spark's generated code is compiled.** The first stage's generated method is over the JVM's 8000-byte
  limit, which the JVM leaves to its interpreter; the local runner runs the driver with
  `-XX:-DontCompileHugeMethods`.
- **Spark's classes are loaded from an archive.** The local runner starts the driver JVM from a
  class-data-sharing archive of the classes a Spark job loads (`runners/class_archive.py`), which the
  first local job writes: the classes are not parsed and verified again by every job.
- **One read-back.** The written tables' rows and the quarantine's reasons are counted in one Spark job
  (the tables read with their contract's schema), not one per table plus a footer read each.
- **What is left**: most of a fresh job's time is one-off JVM cost ("Cold and warm" below): the read,
  parse and write code runs interpreted until the JIT has compiled it, and the JIT's compilers use the
  same two cores as the tasks (C2 alone, one thread, is busy for most of a fresh job's wall time up to
  400 MB: "The JIT's share" below); the classification's large expression trees are built through py4j
  and analysed by a cold Catalyst. Warm, the first stage is Jackson's parse, the classification and the
  staged frame's write.
"""

MEMORY = """\
## Memory for a 2-core, 8 GB machine

In local mode all of Spark runs in the driver JVM, so `[spark] driver_memory` is its heap. No task holds
more than its input partition (at most 128 MB of compressed parts, ~0.5 GB of JSON, which the 1.6 GB
input already reaches), the staged frame lives on local disk, and the repeated-key window sees only the
repeated keys. The JVM grows its heap toward `driver_memory` as a larger input asks for it and does not
hand it back, so the peak RSS rises with the input up to that bound (plus the JVM's own memory) and no
further: past it Spark spills or fails, it does not take more. The default `driver_memory = 2g` ran every
size here; on an 8 GB machine keep it at 2g-3g (the JVM adds about 1 GB of its own; the Python driver,
the OS and the page cache need the rest). Budget local disk (`spark.local.dir`, /tmp by default) for
the staged frame: the local-dir peak above, per MB of dump. The full editions dump was not run here
(about 55 GB of JSON): this is a projection, not a measurement.
"""


def write_report(results: dict[str, Any], path: Path) -> None:
    path.write_text(render(results))


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/bench/results.json")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("BENCHMARKS.md")
    write_report(json.loads(source.read_text()), target)
