"""Every setting of the pipeline: one luigi.Config class per luigi.cfg section (the class name is the
section name, hence lower case).

Precedence, highest first: command line (`--lake-root ./other`), environment variables and `.env`
(`LAKE_ROOT=...`, i.e. SECTION_KEY in capitals), luigi.cfg, the defaults below.

Importing this module (or `tasks`) changes nothing: the environment and `.env` are applied by the command-line
entry points, with apply_environment(). `luigi --module tasks ...` is one of them: luigi imports the package
itself, which then applies them (see is_luigi_command).
"""

import configparser
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import luigi
import luigi.batch_notifier
import luigi.configuration
import luigi.notifications
from dotenv import load_dotenv

from spark import catalog
from tasks.errors import CheckedOnCommandLine, SettingError

DUMPS = tuple(catalog.DUMPS)
_ACCEPTED_DUMPS = ", ".join(DUMPS)


class OptionalDictParameter(luigi.DictParameter):
    """A JSON object, where an empty value (an unset SECTION_KEY= line in .env) means {}."""

    def parse(self, source: str) -> Any:
        return super().parse(source.strip() or "{}")


class DumpParameter(CheckedOnCommandLine, luigi.ChoiceParameter):
    """One dump's name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=DUMPS, **kwargs)

    def normalize(self, x: Any) -> str:
        if x not in DUMPS:
            raise SettingError(f"not a dump; use one of {_ACCEPTED_DUMPS}")
        return str(x)


class DumpsParameter(CheckedOnCommandLine, luigi.ListParameter):
    """Dumps by name, given as `authors,works` or as a JSON list `["authors", "works"]`."""

    _ACCEPTED = f"use any of {_ACCEPTED_DUMPS}, as authors,works or a JSON list"

    def parse(self, x: str) -> tuple[str, ...]:
        text = x.strip()
        if text.startswith("["):
            try:
                names = json.loads(text)
            except json.JSONDecodeError as error:
                raise SettingError(f"not a JSON list ({error.msg}); {self._ACCEPTED}") from None
        else:
            names = [name.strip() for name in text.split(",")] if text else []
        return self.normalize(names)

    def normalize(self, x: Any) -> tuple[str, ...]:
        names = list(x) if isinstance(x, list | tuple) else None
        if not names:
            raise SettingError(f"no dumps given; {self._ACCEPTED}")
        for name in names:
            if name not in DUMPS:
                raise SettingError(f"{name!r} is not a dump; {self._ACCEPTED}")
            if names.count(name) > 1:
                raise SettingError(f"{name!r} is given twice; {self._ACCEPTED}")
        return tuple(names)


class openlibrary(luigi.Config):
    base_url = luigi.Parameter(
        default="https://openlibrary.org/data",
        description="Where the dumps are: ol_dump_{dump}_{release}.txt.gz below it. http(s):// or file://",
    )
    metadata_url = luigi.Parameter(
        default="https://archive.org/metadata",
        description="archive.org metadata API listing each release file's md5; empty: skip that check",
    )
    dumps = DumpsParameter(
        default=DUMPS,
        description=f"Dumps to process, any of {_ACCEPTED_DUMPS}: authors,works or a JSON list",
    )
    timeout_s = luigi.FloatParameter(
        default=60.0, significant=False, description="Seconds to wait for Open Library's servers per request"
    )


class lake(luigi.Config):
    root = luigi.Parameter(
        default="./data", description="Root of the data lake: a local folder, or gs://BUCKET/PREFIX"
    )
    upload_chunk_kib = luigi.IntParameter(
        default=8192,
        significant=False,
        description="GCS resumable-upload chunk in KiB (a multiple of 256): memory per object being written",
    )
    retry_s = luigi.FloatParameter(
        default=300.0,
        significant=False,
        description="Seconds a GCS write keeps retrying 429/5xx answers and dropped connections, then fails",
    )


class ingest(luigi.Config):
    part_mb = luigi.FloatParameter(
        default=64,
        significant=False,
        description="Uncompressed MB per raw part (Spark reads one part per task)",
    )
    compress_level = luigi.IntParameter(
        default=1,
        significant=False,
        description="gzip level (1-9) of the raw parts: 1-3 use ISA-L (1 is fastest), 4-9 zlib (much slower)",
    )


class spark(luigi.Config):
    runner = luigi.ChoiceParameter(
        default="local",
        choices=["local", "dataproc", "serverless"],
        significant=False,
        description="Where Spark jobs run: local (spark-submit), dataproc (cluster), serverless (batches)",
    )
    master = luigi.Parameter(
        default="local[*]",
        significant=False,
        description="Spark master of the local runner: local[N] or spark://HOST:PORT of a standalone "
        "cluster you run yourself (its workers must see the lake path; executors run the venv's Python)",
    )
    driver_memory = luigi.Parameter(
        default="2g",
        significant=False,
        description="spark.driver.memory (in local mode, all of Spark's memory)",
    )
    conf = luigi.DictParameter(
        default={},
        significant=False,
        description="Extra Spark properties of local runs as JSON, e.g. "
        '{"spark.sql.shuffle.partitions": "8"}; Dataproc jobs take [dataproc] properties instead',
    )
    class_archive = luigi.BoolParameter(
        default=True,
        significant=False,
        parsing=luigi.BoolParameter.EXPLICIT_PARSING,
        description="Local runs start the driver JVM from a class-data-sharing archive of Spark's classes, "
        "written by the first local job into ~/.cache/openlibrary-pipeline (runners/class_archive.py)",
    )
    short_job_mb = luigi.FloatParameter(
        default=64.0,
        significant=False,
        description="A local transform of a dump of at most this many uncompressed MB (10^6 bytes) is short: "
        "its driver JVM compiles with C1 only and uses the parallel collector (runners/local.py); 0: none",
    )


class dataproc(luigi.Config):
    project = luigi.Parameter(default="", significant=False, description="Google Cloud project of Dataproc")
    region = luigi.Parameter(default="europe-west1", significant=False, description="Dataproc region")
    cluster = luigi.Parameter(
        default="", significant=False, description="Cluster that runs the jobs when [spark] runner = dataproc"
    )
    cluster_config = OptionalDictParameter(
        default={},
        significant=False,
        description="ClusterConfig (Dataproc REST JSON) to create the cluster again when it is missing "
        "(deleted when idle); empty: a missing cluster fails the job. terraform/compute sets it",
    )
    cluster_labels = OptionalDictParameter(
        default={},
        significant=False,
        description="Labels (JSON object) of a cluster created again, as Terraform labels the first one. "
        "terraform/compute sets it",
    )
    runtime_version = luigi.Parameter(
        default="2.3",
        significant=False,
        description="Serverless runtime: a supported one running the pinned pyspark's Spark (2.3 = Spark "
        "3.5, Python 3.11, supported until 2027-11-26); another fails before anything is submitted",
    )
    batch_ttl_s = luigi.FloatParameter(
        default=14400.0,
        significant=False,
        description="Seconds after which Dataproc ends a Serverless batch still running (its "
        "execution_config.ttl): 600 to 1209600, at most job_timeout_s",
    )
    service_account = luigi.Parameter(
        default="", significant=False, description="Service account of Serverless batches (empty: default)"
    )
    subnetwork = luigi.Parameter(
        default="", significant=False, description="Subnetwork URI of Serverless batches (empty: default)"
    )
    staging = luigi.Parameter(
        default="",
        significant=False,
        description="gs:// folder for the job files and zipped spark/ package (empty: {lake root}/_staging)",
    )
    endpoint = luigi.Parameter(
        default="",
        significant=False,
        description="Dataproc API endpoint (empty: {region}-dataproc.googleapis.com)",
    )
    poll_s = luigi.FloatParameter(
        default=15.0, significant=False, description="Seconds between job state polls"
    )
    job_timeout_s = luigi.FloatParameter(
        default=21600.0,
        significant=False,
        description="Seconds a task waits for its Dataproc job or batch; then it fails (a cluster job is "
        "cancelled, a batch is left to its ttl)",
    )
    properties = OptionalDictParameter(
        default={},
        significant=False,
        description="Spark properties (JSON object of strings) of Dataproc jobs and batches, e.g. "
        '{"spark.executor.memory": "8g"}; [spark] conf is for local runs only',
    )
    id_prefix = luigi.Parameter(
        default="",
        significant=False,
        description="Start of this deployment's job and batch ids (1-16 lowercase letters, digits, hyphens, "
        "starting with a letter); empty: derived from [lake] root, so two lakes never share a job",
    )


CONFIG_CLASSES: tuple[type[luigi.Config], ...] = (openlibrary, lake, ingest, spark, dataproc)
# Luigi's own failure notices ([email], [smtp], [batch_email]), settable the same way (EMAIL_RECEIVER,
# SMTP_HOST, SMTP_PASSWORD from the environment, never from a committed file).
NOTIFICATION_CLASSES: tuple[type[luigi.Config], ...] = (
    luigi.notifications.email,
    luigi.notifications.smtp,
    luigi.batch_notifier.batch_email,
)


class _VerbatimOverrides(configparser.Interpolation):
    """The config's interpolation (`%(name)s`, `${VAR}`), except for the keys set from the environment:
    those are used exactly as given, so `SMTP_PASSWORD=p%ss` or `LAKE_ROOT=${HOME}` mean what they say."""

    def __init__(self, inner: configparser.Interpolation) -> None:
        self.inner = inner
        self.verbatim: set[tuple[str, str]] = set()

    def before_get(self, parser: Any, section: str, option: str, value: str, defaults: Any) -> str:
        if (section, option) in self.verbatim:
            return value
        return self.inner.before_get(parser, section, option, value, defaults)

    def before_set(self, parser: Any, section: str, option: str, value: str) -> str:
        if (section, option) in self.verbatim:
            return value
        return self.inner.before_set(parser, section, option, value)

    def before_read(self, parser: Any, section: str, option: str, value: str) -> str:
        return self.inner.before_read(parser, section, option, value)

    def before_write(self, parser: Any, section: str, option: str, value: str) -> str:
        return self.inner.before_write(parser, section, option, value)


def _verbatim_overrides(config: configparser.ConfigParser) -> _VerbatimOverrides:
    """The config's _VerbatimOverrides, installed around its own interpolation on first use."""
    current = config._interpolation  # ConfigParser has no public way to set it
    if not isinstance(current, _VerbatimOverrides):
        current = _VerbatimOverrides(current)
        config._interpolation = current
    return current


def environment_settings() -> Iterator[tuple[str, str, str]]:
    """(section, key, variable) of each setting the environment can give: LAKE_ROOT for [lake] root."""
    for config_class in CONFIG_CLASSES + NOTIFICATION_CLASSES:
        section = config_class.get_task_family()
        for name, _ in config_class.get_params():
            yield section, name, f"{section}_{name}".upper()


def apply_environment(dotenv_path: str | None = None) -> dict[tuple[str, str], str]:
    """Load `.env` (of the working folder unless `dotenv_path` is given), then let SECTION_KEY environment
    variables override luigi.cfg (the CLI still wins). For the command-line entry points. Returns the
    variable that set each (section, key) it set.

    An environment value is taken verbatim: no `%` or `${...}` interpolation.
    """
    load_dotenv(dotenv_path or os.path.join(os.getcwd(), ".env"), override=False, interpolate=False)
    config = luigi.configuration.get_config()
    overrides = _verbatim_overrides(config)
    applied: dict[tuple[str, str], str] = {}
    for section, name, variable in environment_settings():
        value = os.environ.get(variable)
        if value is not None:
            if not config.has_section(section):
                config.add_section(section)
            overrides.verbatim.add((section, name))
            config.set(section, name, value)
            applied[section, name] = variable
    return applied


def is_luigi_command() -> bool:
    """True in the `luigi` command (its console script, or `python -m luigi`), which imports `tasks` from
    `--module tasks` before it reads any setting; false in any other program that imports it."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return (main_spec is not None and main_spec.name == "luigi.__main__") or Path(sys.argv[0]).name == "luigi"
