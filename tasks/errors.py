"""Errors a person can read: what they fix is said in one line, without a traceback.

USER_ERRORS are the problems of input and surroundings, not of the code: a value the pipeline doesn't
accept (SettingError, a ValueError whose message says what is accepted), a release refused or out of reach
(ReleaseError), a dump file that can't be downloaded or is corrupt (DownloadError, CorruptDumpError), a
lake that can't be written (LakeError). Where the luigi command meets one before any
task ran, it ends with refuse(): that one line and [retcode] scheduling_error, as luigi itself ends a
command whose lock is taken (PidLockAlreadyTakenExit, a SystemExit) with already_running. Later, luigi's
log shows them as one line (OneLineErrors). Every other exception keeps its traceback.
"""

import argparse
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import luigi
import luigi.retcodes

from lake import LakeError
from source.download import DownloadError
from source.rechunk import CorruptDumpError
from source.release import ReleaseError


class SettingError(ValueError):
    """A value of a parameter or setting that isn't accepted; the message says what is."""


class Refused(SystemExit):
    """The luigi command refused its input before any task ran; the reason is already printed."""


def refuse(reason: str) -> NoReturn:
    """Print `reason` as one line and end the command with [retcode] scheduling_error."""
    sys.stderr.write(f"ERROR: {reason}\n")
    sys.stderr.flush()
    raise Refused(luigi.retcodes.retcode().scheduling_error)


def _checking_action(parameter: luigi.Parameter) -> type[argparse.Action]:
    """An argparse action storing the flag's value once `parameter` parses it, refusing it otherwise."""

    class CheckedValue(argparse.Action):
        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: str | Sequence[Any] | None,
            option_string: str | None = None,
        ) -> None:
            try:
                parameter.parse(values)
            except ValueError as error:
                refuse(f"{option_string} {values}: {error}")
            setattr(namespace, self.dest, values)

    return CheckedValue


class CheckedOnCommandLine:
    """Mixin of a luigi.Parameter whose command-line flag is parsed as luigi parses the command line: a value
    its parse() refuses ends the command with one line naming the flag, before any task is built."""

    def _parser_kwargs(self, param_name: str, task_name: str | None = None) -> dict[str, Any]:
        kwargs = super()._parser_kwargs(param_name, task_name)  # type: ignore[misc]
        if kwargs.get("action") == "store":
            kwargs["action"] = _checking_action(self)  # type: ignore[arg-type]
        return kwargs


USER_ERRORS: tuple[type[Exception], ...] = (
    SettingError,
    ReleaseError,
    DownloadError,
    CorruptDumpError,
    LakeError,
)
_TRACEBACK = "\nTraceback (most recent call last):\n"
_FINAL_LINE = re.compile(r"(?P<name>[A-Za-z_][\w.]*): (?P<message>[^\n]*)")


def _qualified_names(classes: Sequence[type]) -> Iterator[str]:
    """How a traceback names each class and its subclasses: module.QualifiedName."""
    for cls in classes:
        yield f"{cls.__module__}.{cls.__qualname__}"
        yield from _qualified_names(cls.__subclasses__())


class OneLineErrors(logging.Filter):
    """Shows a user error in luigi's log as its message, on the line that says what failed.

    Luigi logs a failed run() with the exception attached ("Worker ... failed  Task(...)") and a failed
    complete() or requires() with the traceback already in the message ("Will not run Task(...) or any
    dependencies due to error in complete() method:" then the traceback, whose last line names the
    exception): both are cut down to one line when the exception is one of USER_ERRORS.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, USER_ERRORS):
            self._replace(record, f"{record.getMessage()}: {error}")
        elif isinstance(record.msg, str) and _TRACEBACK in record.msg:
            head, _, trace = record.getMessage().partition(_TRACEBACK)
            final = _FINAL_LINE.fullmatch(trace.rstrip("\n").rsplit("\n", 1)[-1])
            if final and final["name"] in set(_qualified_names(USER_ERRORS)):
                self._replace(record, f"{head} {final['message']}")
        return True

    @staticmethod
    def _replace(record: logging.LogRecord, message: str) -> None:
        record.msg, record.args, record.exc_info, record.exc_text = message, None, None, None


def describe_failure(exception: BaseException) -> str | None:
    """A user error's one line, for a task's on_failure (the scheduler's and the e-mail's explanation);
    None for any other exception, which keeps luigi's traceback."""
    return str(exception) if isinstance(exception, USER_ERRORS) else None
