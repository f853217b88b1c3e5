"""The container's crontab: rendered from $CRON (checked at start, with a clear error), exactly five time
fields that croniter (an independent reader) accepts, the default monthly window, and the job's
environment file (docker/job-env) carrying the container's environment through cron intact."""

import datetime
import itertools
import re
import subprocess
from pathlib import Path

import pytest
from croniter import croniter

from tests.docker_helpers import DOCKER, PROJECT, docker_module, job_lines, rendered_crontab

render_crontab = docker_module("render_crontab")
DEFAULT_SCHEDULE = render_crontab.DEFAULT_SCHEDULE


def schedule_of(crontab: str) -> str:
    [line] = job_lines(crontab)
    return " ".join(line.split()[:5])


def test_without_cron_the_default_monthly_window_is_installed() -> None:
    completed = rendered_crontab(None)
    assert completed.returncode == 0, completed.stderr
    [line] = job_lines(completed.stdout)
    fields = line.split(None, 5)
    assert " ".join(fields[:5]) == DEFAULT_SCHEDULE and croniter.is_valid(DEFAULT_SCHEDULE)
    assert fields[5].startswith("{ . /run/pipeline/job.env && /opt/pipeline/run-pipeline; }")
    assert "SHELL=/bin/bash" in completed.stdout.splitlines()  # the job line is bash, as the tests run it
    assert 'MAILTO=""' in completed.stdout.splitlines()
    assert "@SCHEDULE@" not in completed.stdout


def test_the_default_runs_daily_at_6_utc_on_the_2nd_to_the_8th_of_each_month() -> None:
    start = datetime.datetime(2026, 10, 31, 12, 0)
    runs = list(itertools.islice(croniter(DEFAULT_SCHEDULE, start).all_next(datetime.datetime), 9))
    november = [datetime.datetime(2026, 11, day, 6, 0) for day in range(2, 9)]
    assert runs == [*november, datetime.datetime(2026, 12, 2, 6, 0), datetime.datetime(2026, 12, 3, 6, 0)]


def test_the_makefile_default_is_the_image_default() -> None:
    [default] = re.findall(r"^CRON \?= (.+)$", (PROJECT / "Makefile").read_text(), flags=re.MULTILINE)
    assert default.strip() == DEFAULT_SCHEDULE


@pytest.mark.parametrize(
    "cron",
    ["*/15 * * * *", "0 3 1 * *", "30 4 1-7 * 1", "0 6 2-8 jul *", "0 0 * * sun", "5 1-23/2 1,15 * 0-7",
     " 0  6   2-8 * * "],
)  # fmt: skip
def test_a_valid_cron_becomes_the_job_schedule(cron: str) -> None:
    completed = rendered_crontab(cron)
    assert completed.returncode == 0, completed.stderr
    schedule = schedule_of(completed.stdout)
    assert schedule == " ".join(cron.split())
    assert croniter.is_valid(schedule)


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("0 6 2-8 *", "has 4 fields; it needs exactly 5"),
        ("0 0 6 2-8 * *", "has 6 fields; it needs exactly 5"),
        ("@monthly", "has 1 fields"),
        ("", "has 0 fields"),
        ("60 6 * * *", "minute field '60': values must lie in 0-59"),
        ("0 24 * * *", "hour field '24': values must lie in 0-23"),
        ("0 6 0 * *", "day of month field '0': values must lie in 1-31"),
        ("0 6 * 13 *", "month field '13': values must lie in 1-12"),
        ("0 6 * * 8", "day of week field '8': values must lie in 0-7"),
        ("0 6 8-2 * *", "range '8-2' runs backwards"),
        ("*/0 6 * * *", "a step must be at least 1"),
        ("0 6 2-8 * *;reboot", "day of week field '*;reboot'"),
        ("0 6 L * *", "day of month field 'L'"),
        ("0 6 * jan,jul *", "'jan' is not *, N"),  # Debian's crontab(5): no lists or ranges of names
    ],
)
def test_a_bad_cron_stops_the_start_with_a_clear_error(cron: str, reason: str) -> None:
    completed = rendered_crontab(cron)
    assert completed.returncode == 2
    assert completed.stdout == ""  # nothing to install
    assert completed.stderr.startswith(f"CRON={cron!r} is not a valid schedule: ")
    assert reason in completed.stderr


def test_the_check_never_accepts_what_croniter_rejects() -> None:
    tokens = ["*", "0", "7", "1-5", "5-1", "*/2", "1-9/3", "59", "60", "0,30", "mon", "jan", "L", "?", "1#2"]
    for minute, day, month, weekday in itertools.product(tokens, repeat=4):
        schedule = f"{minute} 6 {day} {month} {weekday}"
        try:
            render_crontab.check_schedule(schedule)
        except render_crontab.ScheduleError:
            continue
        assert croniter.is_valid(schedule), schedule


def test_job_env_carries_the_container_environment_through_cron_intact(tmp_path: Path) -> None:
    environment = {
        "PATH": "/opt/venv/bin:/usr/bin:/bin",
        "LAKE_ROOT": "gs://bucket/lake with space",
        "DATAPROC_SUBNETWORK": 'projects/p/regions/r/subnetworks/it\'s "quoted" $HOME `date`',
        "SPARK_CONF": '{"spark.x": "a\nb"}',
        "HOME": "/root",
        "SHELL": "/bin/sh",
    }
    written = subprocess.run(
        [str(DOCKER / "job-env")], env=environment, capture_output=True, text=True, check=True
    )
    job_env = tmp_path / "job.env"
    job_env.write_text(written.stdout)
    seen = subprocess.run(
        ["env", "-i", "HOME=/home/pipeline", "SHELL=/bin/bash", "PATH=/usr/bin:/bin", "bash", "-c",
         f". {job_env} && env -0"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    received = dict(item.split("=", 1) for item in seen.split("\0") if item)
    for name in ("PATH", "LAKE_ROOT", "DATAPROC_SUBNETWORK", "SPARK_CONF"):
        assert received[name] == environment[name], name
    assert (
        received["HOME"] == "/home/pipeline" and received["SHELL"] == "/bin/bash"
    )  # cron's, for the job user
    assert "HOME=" not in written.stdout and "SHELL=" not in written.stdout
