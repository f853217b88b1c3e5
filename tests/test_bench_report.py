"""The benchmark report's cold/warm breakdown (bench/report.py): what it derives from bench/jobs/twice.py's
seconds, on a small results document."""

from bench.report import Goal, Numbers, _limits, _start_and_stop, warmup_section

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
