"""The local driver JVM's class-data-sharing (CDS) archive: Spark's classes parsed and verified once.

A fresh Spark driver loads some 15,000 classes from pyspark's jars, parsing and verifying each, in code the
JIT has not compiled yet; that is a large part of every local job's fixed cost. Java 17 can write the
classes a run loaded into an archive when the JVM exits (-XX:ArchiveClassesAtExit) and map it into later
JVMs (-XX:SharedArchiveFile). The first local job on a machine writes it (a few seconds more, once); every
later one starts from it.

The archive is only valid for the Java and the jars it was written with, so its file name carries a
fingerprint of both: a new pyspark or a new Java gets a new archive on its next job, and an archive the JVM
cannot use is ignored by the JVM (the job runs without it). It lives in the user's cache folder
($XDG_CACHE_HOME or ~/.cache, then openlibrary-pipeline/); when that folder cannot be written, jobs run
without an archive. What a killed job's JVM had begun to write (a .tmp file of a process that is gone) is
removed by the next job that writes an archive.

A driver whose Java options load an agent (-javaagent, -agentlib, -agentpath) or start a Flight Recorder
recording runs without the archive: with either, Java 17 can crash on the first class it maps from a
dynamic archive (SIGSEGV in KlassFactory::check_shared_class_file_load_hook). So does one whose options
manage class-data sharing themselves (-Xshare:off, their own archive).
"""

import hashlib
import logging
import os
from pathlib import Path

logger = logging.getLogger("luigi-interface")

ARCHIVE_PREFIX = "spark-classes-"
# The JVM logs CDS warnings (classes it could not archive, an archive it cannot use) on stdout, in the job's
# output; they change nothing about the job, so only errors are shown.
QUIET = "-Xlog:cds*=error"


# Java options under which the driver must not use the archive (see the module's docstring).
CONFLICTING_OPTIONS = (
    "-javaagent:",
    "-agentlib:",
    "-agentpath:",
    "-XX:StartFlightRecording",
    "-XX:+FlightRecorder",
    "-Xshare:off",
    "-XX:SharedArchiveFile=",
    "-XX:ArchiveClassesAtExit=",
)
# Environment variables the java launcher and the JVM add options from.
JAVA_OPTION_VARIABLES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


def conflicting_option(*options: str) -> str | None:
    """The name of the first Java option in `options` (Java command-line options, space-separated) under
    which the driver must not use the archive ("-javaagent", never its value, which may hold a secret); None
    when there is none."""
    for option in " ".join(options).split():
        for name in CONFLICTING_OPTIONS:
            if option.startswith(name):
                return name.rstrip(":=")
    return None


def cache_folder() -> Path:
    """$XDG_CACHE_HOME/openlibrary-pipeline, or ~/.cache/openlibrary-pipeline."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openlibrary-pipeline"


def fingerprint(java: str, jars: Path) -> str:
    """A short hash of the Java executable (resolved path, size, mtime) and of the jars (names, sizes)."""
    digest = hashlib.sha256()
    java_file = Path(java).resolve()
    stat = java_file.stat()
    digest.update(f"{java_file}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    for jar in sorted(jars.glob("*.jar")):
        digest.update(f"{jar.resolve()}|{jar.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def _running(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ClassArchive:
    """The archive at `path`: used when it exists, else written by this job's JVM and published after it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending = path.with_name(f"{path.name}.{os.getpid()}.tmp")

    @classmethod
    def for_spark(cls, java: str, jars: Path, folder: Path | None = None) -> "ClassArchive":
        """The archive of this Java and these jars, in `folder` (the user's cache folder by default)."""
        folder = folder or cache_folder()
        return cls(folder / f"{ARCHIVE_PREFIX}{fingerprint(java, jars)}.jsa")

    def java_options(self, *given: str) -> list[str]:
        """Map the archive when there is one; else write it at exit, if its folder can be written. Neither
        when the driver's other Java options (`given`, and the Java environment variables) have one of
        CONFLICTING_OPTIONS."""
        conflict = conflicting_option(*given, *(os.environ.get(name, "") for name in JAVA_OPTION_VARIABLES))
        if conflict:
            logger.info("the driver runs without the class archive: its Java options include %s", conflict)
            return []
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}", QUIET]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            logger.info("no class archive for Spark (%s): jobs start without one", error)
            return []
        if not os.access(self.path.parent, os.W_OK):
            logger.info("no class archive for Spark: %s is not writable", self.path.parent)
            return []
        self.remove_abandoned()
        return [f"-XX:ArchiveClassesAtExit={self.pending}", QUIET]

    def remove_abandoned(self) -> None:
        """Remove the pending archives of processes that have ended without publishing or discarding them
        (a killed job's): each is as large as an archive."""
        for pending in self.path.parent.glob(f"{ARCHIVE_PREFIX}*.jsa.*.tmp"):
            pid = pending.name.rsplit(".", 2)[-2]
            if pid.isdigit() and not _running(int(pid)):
                pending.unlink(missing_ok=True)
                logger.info("removed the class archive a stopped job left unfinished: %s", pending)

    def publish(self) -> None:
        """After a successful job: the archive its JVM wrote becomes the one later jobs use."""
        if self.pending.is_file():
            self.pending.replace(self.path)
            logger.info("wrote the class archive for Spark: %s", self.path)

    def discard(self) -> None:
        """After a failed job: drop what its JVM may have written."""
        self.pending.unlink(missing_ok=True)
