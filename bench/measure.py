"""Timing helpers: run a command as a child process and record its wall time, CPU time and peak memory;
sample a folder's size while it runs; read the CPU time of a running process tree from /proc."""

import contextlib
import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.2  # how often a watched folder's size is sampled


@dataclass(frozen=True)
class Run:
    seconds: float  # wall-clock time of the command
    peak_rss_mb: float  # the largest resident set of the child or any of its descendants, in MiB
    cpu_s: float = 0.0  # user + system CPU of the child and the descendants it waited for
    local_dir_peak_bytes: int | None = None  # the largest total size seen under the watched folder
    emulator_cpu_s: float | None = None  # CPU the GCS emulator's process tree used meanwhile


class CommandFailed(RuntimeError):
    """A benchmarked command exited non-zero; the message carries the end of its output."""


def folder_bytes(folder: Path) -> int:
    """The total size of the files below `folder` (0 if it is missing); files vanishing meanwhile skipped."""
    total, pending = 0, [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
    return total


class FolderPeak:
    """A thread sampling the size of `folder` every SAMPLE_SECONDS while the block runs; `peak` is the
    largest total seen (bytes)."""

    def __init__(self, folder: Path, interval: float = SAMPLE_SECONDS) -> None:
        self.folder, self.interval, self.peak = folder, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="folder-peak", daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, folder_bytes(self.folder))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "FolderPeak":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from every /proc/<n>/stat)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and all its living descendants, each with the CPU of
    the children it already reaped (utime, stime, cutime, cstime of /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        fields = _stat_fields(current)
        if fields is None:
            continue
        total += sum(int(value) for value in fields[11:15])
        pending.extend(_children(current))
    return total / ticks


def _wait(process: subprocess.Popen[bytes]) -> resource.struct_rusage:
    """Wait for `process` and set its exit code on it; returns its rusage (its descendants' included)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage


def run_command(
    command: Sequence[str] | str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    watch: Path | None = None,
) -> Run:
    """Run `command` (a list, or a string for bash), wait for it, and return its wall time, CPU time and
    peak RSS; with `watch`, also the peak total size of that folder while it ran (sampled).

    The output goes to `log` (or is discarded); a failure raises CommandFailed with the log's tail.
    """
    argv = ["bash", "-o", "pipefail", "-c", command] if isinstance(command, str) else list(command)
    out = log.open("wb") if log else subprocess.DEVNULL
    try:
        with FolderPeak(watch) if watch else contextlib.nullcontext() as sampler:
            started = time.perf_counter()
            environment = dict(env) if env is not None else None
            process = subprocess.Popen(argv, env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
            usage = _wait(process)
            seconds = time.perf_counter() - started
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log else ""
        raise CommandFailed(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    return Run(
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
        local_dir_peak_bytes=sampler.peak if sampler else None,
    )
