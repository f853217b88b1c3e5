"""A job's own Spark settings (spark.jobio.run_job): the session gets each one the submitter left unset, and
a property the submitter set stays as they set it. Run through a real spark-submit, as the runners do."""

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from runners.local import LocalSparkRunner, child_environment

JOB = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    from spark.jobio import run_job

    SETTINGS = json.loads(sys.argv[2])


    def report(spark, out):
        conf = spark.sparkContext.getConf()
        imported = sorted(set(dir(spark.sparkContext._jvm)) & {"functions", "PythonUtils", "Column"})
        values = {key: conf.get(key, None) for key in SETTINGS}
        Path(out).write_text(json.dumps({**values, "imported": imported}))


    run_job("settings", report, sys.argv[1], SETTINGS)
    """
)


def session_conf(tmp_path: Path, settings: dict[str, str], submitted: dict[str, str]) -> dict[str, Any]:
    """The values of `settings`' keys in the session a spark-submit job gets from run_job(settings), submitted
    with `submitted` as its --conf, and which of pyspark's common JVM classes its JVM view imports by name."""
    job, out = tmp_path / "job.py", tmp_path / "conf.json"
    job.write_text(JOB)
    conf = {"spark.ui.enabled": "false", **submitted}
    runner = LocalSparkRunner("local[1]", "512m", conf, class_archive=None)
    command = [*runner.submit_options(), str(job), str(out), json.dumps(settings)]
    done = subprocess.run(command, env=child_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_job_settings_apply_unless_the_submitter_set_them(tmp_path: Path) -> None:
    settings = {
        "spark.rdd.compress": "true",  # Spark's default is false
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.sql.inMemoryColumnarStorage.batchSize": "1234",
    }
    submitted = {"spark.serializer": "org.apache.spark.serializer.JavaSerializer"}
    assert session_conf(tmp_path, settings, submitted) == {
        "spark.rdd.compress": "true",
        "spark.serializer": "org.apache.spark.serializer.JavaSerializer",
        "spark.sql.inMemoryColumnarStorage.batchSize": "1234",
        "imported": ["Column", "PythonUtils", "functions"],  # jobio.JVM_IMPORTS, by their short names
    }
