"""The benchmark report (bench/report.py) on small results documents: the cold/warm breakdown it derives
from bench/jobs/twice.py's seconds, the JIT and short-job tables, and the goals judged round by round."""

import pytest

from bench.report import (
    Goal,
    Numbers,
    _jit_text,
    _limits,
    _start_and_stop,
    goals_section,
    projection_section,
    short_job_section,
    warmup_section,
)
from bench.transform import compile_seconds

MB = 1_000_000


def results(warmup: dict) -> dict:
    sizes = {"ingest": [40, 100, 400], "transform": [100, 400, 1600], "tiny": 1}
    inputs = {
        str(size): {"lines": size * 800, "uncompressed_bytes": size * MB, "compressed_bytes": size * MB // 4}
        for size in (1, 40, 100, 400, 1600)
    }
    return {
        "sizes": sizes,
        "inputs": inputs,
        "machine": {"nproc": 2},
        "ingest": {},
        "transform": {"spark-2": {"1": [{"seconds": 20.0}]}},
        "profile": [],
        "warmup": warmup,
        "settings": {"short_job_mb": 64.0},
    }


TWICE = {"build_cold_s": 4.0, "cold_s": 10.0, "build_warm_s": 1.5, "warm_s": 4.5, "process_s": 23.5}


def test_start_and_stop_is_the_process_time_less_the_two_rounds() -> None:
    assert _start_and_stop(TWICE) == 3.5


def test_the_section_has_a_row_per_size_with_the_derived_columns() -> None:
    rows = warmup_section(Numbers(results({"1": TWICE, "400": {**TWICE, "warm_s": 8.0, "process_s": 27.0}})))
    table = [line for line in rows if line.startswith("| 1") or line.startswith("| 4")]
    assert table == [
        "| 1 MB | 23.5 | 3.5 | 4.0 | 1.5 | 10.0 | 4.5 | 2.22x | 0.2 |",
        "| 400 MB | 27.0 | 3.5 | 4.0 | 1.5 | 10.0 | 8.0 | 1.25x | 50.0 |",
    ]


def test_without_the_measurement_there_is_no_section_and_the_fixed_cost_says_so() -> None:
    n = Numbers(results({}))
    assert warmup_section(n) == []
    goal = Goal("fixed_cost", "", "", "", False, "")
    assert "not broken down" in _limits(goal, n)


def test_the_fixed_cost_note_names_each_part() -> None:
    goal = Goal("fixed_cost", "", "", "", False, "")
    note = _limits(goal, Numbers(results({"1": TWICE})))
    assert "take 3.5 s" in note
    assert "4.0 s cold (1.5 s warm)" in note
    assert "10.0 s the first time, 4.5 s the second" in note


CITIME = """\
  C1 {speed: 311930.534 bytes/s; standard:  6.001 s, 1860741 bytes, 18560 methods; osr:  0.145 s, 56499 bytes, 142 methods; nmethods_size: 1 bytes; nmethods_code_size: 1 bytes}
  C2 {speed: 67261.189 bytes/s; standard: 21.764 s, 1482106 bytes, 2506 methods; osr:  0.806 s, 36032 bytes, 65 methods; nmethods_size: 1 bytes; nmethods_code_size: 1 bytes}

Individual compilation Tier times (for compiled methods only)
  Tier4 {speed: 67261.189 bytes/s; standard: 21.764 s, 1482106 bytes, 2506 methods; osr:  0.806 s, 36032 bytes, 65 methods; nmethods_size: 1 bytes; nmethods_code_size: 1 bytes}

Accumulated compiler times
----------------------------------------------------------
  Total compilation time   :  29.991 s
    Standard compilation   :  27.766 s, Average : 0.001 s
"""  # noqa: E501 - a JVM's -XX:+CITime summary as it prints it


def test_the_jit_summary_gives_each_compilers_standard_plus_osr_seconds_and_the_total() -> None:
    log = "26/12/07 INFO SparkContext: Successfully stopped SparkContext\n" + CITIME
    assert compile_seconds(log) == {"c1_s": 6.146, "c2_s": 22.57, "total_s": 29.991}


def test_a_c1_only_jvms_summary_has_no_c2_seconds() -> None:
    without_c2 = "\n".join(line for line in CITIME.splitlines() if "C2 {" not in line and "Tier4" not in line)
    assert compile_seconds(without_c2) == {"c1_s": 6.146, "c2_s": 0.0, "total_s": 29.991}


def test_a_log_without_the_jit_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="no -XX:\\+CITime summary"):
        compile_seconds(CITIME.split("Accumulated")[0])


def test_the_jit_table_and_the_notes_give_the_compilers_share() -> None:
    document = results({"1": TWICE, "400": TWICE})
    document["jit"] = {"400": {"c1_s": 6.0, "c2_s": 25.0, "total_s": 33.0, "wall_s": 35.0, "cpu_s": 66.0}}
    n = Numbers(document)
    rows = [line for line in warmup_section(n) if line.startswith("| 400 MB | 35.0")]
    assert rows == ["| 400 MB | 35.0 | 66.0 | 6.0 | 25.0 | 33.0 | 50 % | 71 % |"]
    note = _limits(Goal("throughput", "", "", "", False, ""), n)
    assert "At 400 MB the JVM's JIT compilers ran 33.0 CPU-s of the run's 66.0 (50 %)" in note
    assert "C2, one thread, 25.0 s of the 35.0 s" in note


def test_the_short_job_table_puts_each_run_on_the_side_of_the_jvm_it_had() -> None:
    document = results({})
    document["transform"] = {
        "spark-2": {"1": [{"seconds": 9.0}], "100": [{"seconds": 22.0}]},
        "spark-2-flip": {"1": [{"seconds": 12.0}], "100": [{"seconds": 20.0}, {"seconds": 21.0}]},
    }
    document["transform"]["spark-2"]["400"] = [{"seconds": 30.0, "peak_rss_mb": 1500.0}]
    document["transform"]["spark-2-flip"]["400"] = [{"seconds": 33.0, "peak_rss_mb": 1700.0}]
    section = short_job_section(Numbers(document))
    rows = [line for line in section if line.startswith("| 1") or line.startswith("| 4")]
    assert rows == [
        "| 1 MB | short | 9.0 | 12.0 | 0.75x | n/a | n/a |",  # 1 MB <= 64 MB: spark-2 was the short job
        "| 100 MB | not short | 20.5 | 22.0 | 0.93x | n/a | n/a |",
        "| 400 MB | not short | 33.0 | 30.0 | 1.10x | 1,700 | 1,500 |",
    ]
    assert "C1 only was faster at 1 MB, 100 MB; slower at 400 MB." in "".join(section)
    assert "at 1 MB the short job peaked at n/a MiB against n/a MiB" in "".join(section)


def test_without_the_flipped_series_there_is_no_short_job_table() -> None:
    assert short_job_section(Numbers(results({}))) == []


def test_a_short_jobs_jit_note_says_it_had_no_c2() -> None:
    document = results({})
    document["jit"] = {"1": {"c1_s": 4.0, "c2_s": 0.0, "total_s": 4.0, "wall_s": 9.0, "cpu_s": 16.0}}
    assert _jit_text(Numbers(document), 1) == (
        "At 1 MB (a short job: C1 only) the JVM's JIT compiler ran 4.0 CPU-s of the run's 16.0 (25 %)."
    )


def rounds_document(spark_1mb: list[float], baseline_1mb: list[float]) -> dict:
    """Three rounds (spark-2 ran three times at the middle size) with the given 1 MB times."""
    document = results({})
    document["transform"] = {
        "spark-2": {
            "400": [{"seconds": 30.0}] * 3,
            "1": [{"seconds": seconds} for seconds in spark_1mb],
        },
        "baseline-2": {"1": [{"seconds": seconds} for seconds in baseline_1mb]},
    }
    return document


def test_one_rounds_view_has_that_rounds_run_and_a_series_measured_once_in_every_round() -> None:
    n = Numbers(rounds_document([9.0, 12.0, 8.0], [20.0]))
    assert n.rounds() == 3
    assert [one.seconds("transform", "spark-2", 1) for one in n.by_round()] == [9.0, 12.0, 8.0]
    assert [one.seconds("transform", "baseline-2", 1) for one in n.by_round()] == [20.0, 20.0, 20.0]
    assert n.seconds("transform", "spark-2", 1) == 9.0  # the medians' view is unchanged


def test_a_series_missing_a_round_is_not_judged_in_it() -> None:
    n = Numbers(rounds_document([9.0, 12.0], [20.0, 20.0]))
    assert [one.seconds("transform", "spark-2", 1) for one in n.by_round()] == [9.0, 12.0, None]
    row = next(line for line in goals_section(n) if line.startswith("| 8 |"))
    assert row.endswith("| **missed** | 1 of 2 |")  # median 1.90x; 2.22x met, 1.67x missed, round 3 none


def test_the_goals_table_counts_the_rounds_met_and_lists_what_each_round_measured() -> None:
    section = goals_section(Numbers(rounds_document([9.0, 12.0, 8.0], [20.0, 20.0, 20.0])))
    row = next(line for line in section if line.startswith("| 8 |"))
    assert row.endswith("| 2.22x (20.0 s -> 9.0 s) | met | 2 of 3 |")
    assert (
        "- Goal 8: round 1 2.22x (20.0 s -> 9.0 s) (met); round 2 1.67x (20.0 s -> 12.0 s) (missed); "
        "round 3 2.50x (20.0 s -> 8.0 s) (met)." in section
    )
    unmeasured = next(line for line in section if line.startswith("| 1 |"))
    assert unmeasured.endswith("| n/a | n/a |")


def test_rounds_that_agree_are_not_listed() -> None:
    section = goals_section(Numbers(rounds_document([9.0, 8.0, 7.0], [20.0])))
    assert next(line for line in section if line.startswith("| 8 |")).endswith("| met | 3 of 3 |")
    assert not any(line.startswith("- Goal") for line in section)
    assert "### Goals the rounds disagree on\n" not in section


def projection_document(spark_2_at_400: float) -> dict:
    """spark-1 at 10 MB/s marginal (100 -> 400 MB), spark-2 at 300 MB / (spark_2_at_400 - 30 s)."""
    document = results({})
    document["transform"] = {
        "spark-1": {"100": [{"seconds": 50.0}], "400": [{"seconds": 80.0}]},
        "spark-2": {"100": [{"seconds": 30.0}], "400": [{"seconds": spark_2_at_400}]},
    }
    return document


def dataproc_lines(document: dict) -> list[str]:
    return [line for line in projection_section(Numbers(document)) if line.startswith("- **Dataproc")]


def test_the_dataproc_projection_takes_the_parallel_efficiency_measured_1_to_2_cores() -> None:
    (two_workers, *_) = dataproc_lines(projection_document(48.75))  # 16 MB/s: 1.6x on 2 cores
    assert "per-core 10.0 MB/s x 8 cores x 0.80 parallel efficiency as measured 1 -> 2 cores," in two_workers


def test_a_speed_up_above_linear_is_not_projected_onto_more_cores() -> None:
    (two_workers, *_) = dataproc_lines(projection_document(37.5))  # 40 MB/s: 4x on 2 cores
    assert (
        "per-core 10.0 MB/s x 8 cores x 1.00 parallel efficiency (1 -> 2 cores measured 2.00, above linear: "
        "noise)" in two_workers
    )
