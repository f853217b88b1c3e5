"""What passes between a task and its Spark job: the job's arguments as one dataclass (the task builds it
and turns it into argv; the job parses argv back into it), and the progress lines a job prints.

Pure Python (no pyspark, luigi or network): runners, tasks and jobs import it. A field `some_name` is the
option `--some-name`; a field without a default is required; a tuple of strings travels comma-separated;
an optional field left at None is not passed.
"""

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, ClassVar, Self

from spark.catalog import DUMPS

# A job's progress line on stdout: PROGRESS_PREFIX + a JSON object (spark/progress.py prints them, the local
# runner reads them).
PROGRESS_PREFIX = "OLPROGRESS "


def _option(field: dataclasses.Field) -> str:
    return "--" + field.name.replace("_", "-")


def _is_tuple(field: dataclasses.Field) -> bool:
    return typing.get_origin(field.type) is tuple


def _split(text: str) -> tuple[str, ...]:
    return tuple(item for item in text.split(",") if item)


@dataclasses.dataclass(frozen=True)
class JobArgs:
    """Base of a job's arguments: `job` names the job file (spark/{job}.py)."""

    job: ClassVar[str]

    def argv(self) -> list[str]:
        """The command-line arguments that parse() reads back into an equal object."""
        argv: list[str] = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            argv += [_option(field), ",".join(value) if _is_tuple(field) else str(value)]
        return argv

    @classmethod
    def parser(cls, description: str = "") -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(description=description or cls.__doc__)
        for field in dataclasses.fields(cls):
            required = field.default is dataclasses.MISSING
            parser.add_argument(
                _option(field),
                dest=field.name,
                required=required,
                type=_split if _is_tuple(field) else str,
                choices=field.metadata.get("choices"),
                help=field.metadata.get("help"),
            )
        return parser

    @classmethod
    def parse(cls, argv: Sequence[str] | None = None, description: str = "") -> Self:
        """The arguments of a job's command line; exits with a usage error (as argparse does) when wrong."""
        parser = cls.parser(description)
        try:
            return cls(**vars(parser.parse_args(argv)))
        except ValueError as error:
            parser.error(str(error))


def _arg(help: str, **metadata: Any) -> Any:
    return dataclasses.field(metadata={"help": help, **metadata})


def _optional(help: str) -> Any:
    return dataclasses.field(default=None, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class TransformArgs(JobArgs):
    """spark/transform_dump.py: one raw dump -> its curated tables, quarantine and metrics."""

    job: ClassVar[str] = "transform_dump"
    dump: str = _arg("which dump", choices=sorted(DUMPS))
    manifest: str = _arg("URL of raw/{release}/{dump}/_MANIFEST.json")
    curated: str = _arg("URL of curated/{release}")
    quarantine: str = _arg("URL of quarantine/{release}/{dump}")
    metrics: str = _arg("URL of the metrics JSON to write last")

    def __post_init__(self) -> None:
        if self.dump not in DUMPS:
            raise ValueError(f"unknown dump {self.dump!r}: one of {', '.join(DUMPS)}")


@dataclasses.dataclass(frozen=True)
class MartsArgs(JobArgs):
    """spark/build_marts.py: the curated tables of a release -> the marts, summary and metrics."""

    job: ClassVar[str] = "build_marts"
    curated: str = _arg("URL of curated/{release}")
    marts: str = _arg("URL of marts/{release}")
    summary: str = _arg("URL of the summary JSON the run report charts")
    metrics: str = _arg("URL of the metrics JSON to write last")
    dumps: tuple[str, ...] = _arg("comma-separated dumps whose tables exist")
    previous_release: str | None = _optional("date of the earlier release to compare with")
    previous_curated: str | None = _optional("URL of curated/{previous release}")

    def __post_init__(self) -> None:
        if (self.previous_release is None) != (self.previous_curated is None):
            raise ValueError("--previous-release and --previous-curated go together")
        unknown = [dump for dump in self.dumps if dump not in DUMPS]
        if unknown:
            raise ValueError(f"unknown dumps {unknown}: any of {', '.join(DUMPS)}")
