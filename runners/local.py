"""Run a job with the spark-submit that ships with pyspark, on this machine (local master by default)."""

import collections
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from runners.base import JobProgress, SparkJobError, job_file, package_zip
from runners.class_archive import ClassArchive
from spark.contracts import PROGRESS_PREFIX as PROGRESS

logger = logging.getLogger("luigi-interface")

_TAIL_LINES = 60
# What a local Spark needs to read and write gs:// (Dataproc has it built in).
GCS_CONNECTOR_CONF = {
    "spark.jars.packages": "com.google.cloud.bigdataoss:gcs-connector:hadoop3-2.2.21",
    "spark.hadoop.fs.gs.impl": "com.google.cloud.hadoop.fs.gcs.GoogleHadoopFileSystem",
}
# The JVM leaves methods over 8000 bytes of bytecode to its interpreter; Spark's generated code for the
# transform's first stage is larger (its log says "Generated method too long to be JIT compiled"), so the
# driver, which runs every task in local mode, compiles them too. Added to any driver Java options given.
DRIVER_JAVA_OPTIONS = "-XX:-DontCompileHugeMethods"
# A job over a small input ends before the JIT's optimising compiler (C2) pays back the core it takes from
# the tasks: such a job's driver compiles with C1 only and collects with the parallel collector (see
# short_job() and BENCHMARKS.md, "Short jobs"). Above the threshold C1's code costs more than it saves.
SHORT_JOB_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseParallelGC"


def short_job(input_bytes: int | None, short_job_mb: float) -> bool:
    """Whether a job over `input_bytes` uncompressed bytes is short ([spark] short_job_mb, MB = 10^6; 0: no
    job is). A job of unknown input size is not."""
    return short_job_mb > 0 and input_bytes is not None and input_bytes <= short_job_mb * 1_000_000


def java_executable() -> str:
    """The java Spark will use; a clear error when there is none."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        raise SparkJobError(
            "Java is required to run Spark locally and none was found (JAVA_HOME unset and no java on PATH). "
            "Install Java 17, e.g. `apt-get install openjdk-17-jre-headless`, or run on Dataproc."
        )
    return candidate


def pyspark_jars() -> Path:
    """The jars folder of the installed pyspark (the driver's classpath)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise SparkJobError("pyspark is not installed: install the project (pip install -e .)")
    return Path(spec.origin).parent / "jars"


def spark_class_archive() -> ClassArchive | None:
    """The CDS archive of this Java and pyspark (None without Java: the job then says Java is missing)."""
    try:
        return ClassArchive.for_spark(java_executable(), pyspark_jars())
    except SparkJobError:
        return None


def spark_submit_executable() -> str:
    beside_python = Path(sys.executable).parent / "spark-submit"
    found = str(beside_python) if beside_python.exists() else shutil.which("spark-submit")
    if not found:
        raise SparkJobError("spark-submit not found: install the project (pip install -e .) to get pyspark")
    return found


def child_environment() -> dict[str, str]:
    """The environment of a spark-submit child: this Python runs the driver and the workers."""
    return {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}


def parse_progress(line: str) -> JobProgress | None:
    """A job's `OLPROGRESS {json}` line as a JobProgress; None for any other line (or a garbled one).

    A step can run several Spark stages one after another, so the tasks of the stage running now say how far
    into its step the job is, but never that the step is over: only the job's last line (`finished`) is 100 %.
    """
    if not line.startswith(PROGRESS):
        return None
    try:
        seen = json.loads(line.removeprefix(PROGRESS))
        step_no, steps = int(seen["step_no"]), int(seen["steps"])
        done, tasks = int(seen["tasks_done"]), int(seen["tasks"])
    except (ValueError, KeyError, TypeError):
        return None
    detail = f"{seen.get('step', 'step')} (step {step_no} of {steps})"
    if seen.get("finished") is True:
        return JobProgress(fraction=1.0, detail=detail + ", finished")
    within = min(done / tasks, _MOST_OF_A_STEP) if tasks else 0.0
    if tasks:
        detail += f", {done}/{tasks} tasks"
    return JobProgress(fraction=min(1.0, max(0.0, (step_no - 1 + within) / steps)), detail=detail)


_MOST_OF_A_STEP = 0.95


class ProgressReader:
    """Reads a job's output lines and keeps the progress from going back when a step starts a new stage."""

    def __init__(self) -> None:
        self.highest = 0.0

    def read(self, line: str) -> JobProgress | None:
        """The progress `line` reports, never below an earlier one; None if it is no progress line."""
        progress = parse_progress(line)
        if progress is None:
            return None
        self.highest = max(self.highest, progress.fraction)
        return JobProgress(fraction=self.highest, detail=progress.detail)


def _staged_package() -> str:
    """Write the zipped spark/ package once per code version and return its path."""
    version, content = package_zip()
    path = Path(tempfile.gettempdir()) / f"openlibrary-spark-{version}.zip"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return str(path)


class LocalSparkRunner:
    """spark-submit on this machine; the job file plus the zipped spark/ package, like Dataproc receives."""

    def __init__(
        self,
        master: str,
        driver_memory: str,
        conf: dict[str, str],
        connector: str | None = None,
        class_archive: ClassArchive | None = None,
        driver_java_options: str = DRIVER_JAVA_OPTIONS,
        short: bool = False,
    ) -> None:
        self.master = master
        self.driver_memory = driver_memory
        self.conf = dict(conf)
        self.connector = connector
        self.class_archive = class_archive  # the driver JVM's CDS archive (runners/class_archive.py)
        self.driver_java_options = driver_java_options  # before the archive's and any given in conf
        self.short = short  # a short job: its driver also gets SHORT_JOB_JAVA_OPTIONS

    def check_connector(self) -> None:
        """Fail early when the lake needs a connector jar (gs:// needs the GCS connector) Spark won't have."""
        jars = " ".join(self.conf.get(key, "") for key in ("spark.jars", "spark.jars.packages"))
        if self.connector and self.connector not in jars:
            raise SparkJobError(
                f"this lake needs the {self.connector} jar on Spark's classpath and [spark] conf has none: "
                f"set [spark] conf = {json.dumps(GCS_CONNECTOR_CONF)} (see README, Going to Google Cloud), "
                "or run Spark on Dataproc"
            )

    def submit_options(self) -> list[str]:
        """spark-submit with what comes before a job file: master, driver memory, the spark/ package, conf."""
        conf = {"spark.sql.session.timeZone": "UTC", **self.conf}
        given = conf.get("spark.driver.extraJavaOptions", "")
        default = conf.get("spark.driver.defaultJavaOptions", "")
        archive = self.class_archive.java_options(default, given) if self.class_archive else []
        short = [SHORT_JOB_JAVA_OPTIONS] if self.short else []
        options = [self.driver_java_options, *short, *archive, given]
        conf["spark.driver.extraJavaOptions"] = " ".join(option for option in options if option)
        command = [
            spark_submit_executable(),
            "--master",
            self.master,
            "--driver-memory",
            self.driver_memory,
            "--py-files",
            _staged_package(),
        ]
        for key, value in sorted(conf.items()):
            command += ["--conf", f"{key}={value}"]
        return command

    def command(self, job: str, args: Sequence[str]) -> list[str]:
        return [*self.submit_options(), str(job_file(job)), *args]

    def run(
        self,
        job: str,
        args: Sequence[str],
        on_status: Callable[[str], None] | None = None,
        job_key: str | None = None,
        on_tracking_url: Callable[[str], None] | None = None,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> None:
        """Run the job to its end in a child spark-submit (a local job has no id to re-attach to)."""
        self.check_connector()
        java_executable()
        command = self.command(job, args)
        env = child_environment()
        logger.info("spark-submit %s %s", job, " ".join(args))
        if self.short:
            logger.info("short job (small input): the driver runs with %s", SHORT_JOB_JAVA_OPTIONS)
        if on_status:
            on_status(f"running Spark job {job} on {self.master}")
        tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        progress_reader = ProgressReader()
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, errors="replace"
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                progress = progress_reader.read(line)
                if progress is not None:
                    if on_progress:
                        on_progress(progress)
                    continue
                tail.append(line.rstrip("\n"))
                logger.debug("[%s] %s", job, line.rstrip("\n"))
        if self.class_archive:  # both do nothing when the JVM was given no archive to write
            (self.class_archive.publish if process.returncode == 0 else self.class_archive.discard)()
        if process.returncode != 0:
            output = "\n".join(tail)
            raise SparkJobError(f"Spark job {job} failed (exit {process.returncode}); last output:\n{output}")
