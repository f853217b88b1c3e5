"""The transform as it was before issue 15 (commit a630e3a), run beside today's for the "baseline-2" series.

That commit's spark/ package is extracted once into data/bench/baseline/ (`git archive a630e3a spark | tar
-x`). A baseline run is spark-submit with the runner's own options (master, driver memory, conf), but the
job file is the extracted spark/transform_dump.py, --py-files is a zip of the extracted package, and the
child's working directory and PYTHONPATH are the extracted copy, so its `spark` package is the one
imported (the editable install of today's code comes after them on sys.path). The job's arguments and
the metrics path come from the old package too (a short Python child that imports it and says where
from), and each run's log must name the old job file and zip, or the run is refused.
"""

import hashlib
import io
import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT

COMMIT = "a630e3a"  # the last commit before issue 15
FOLDER = ROOT / "data" / "bench" / "baseline"
JOB = "transform_dump"

# Run with the old package first on sys.path: its job arguments for one dump of a local lake, the metrics
# file the job writes, the output folders to clear, and where `spark` was imported from.
_ARGS_SCRIPT = """
import json, sys
import spark
from spark import catalog
from spark.contracts import TransformArgs
root, release, dump = sys.argv[1:]
def url(*parts):
    return "/".join([root.rstrip("/"), *(part.strip("/") for part in parts if part)])
args = TransformArgs(
    dump=dump,
    manifest=url(*catalog.MANIFEST.path(release=release, dump=dump)),
    curated=url(*catalog.CURATED.parent(release=release)),
    quarantine=url(*catalog.QUARANTINE.path(release=release, dump=dump)),
    metrics=url(*catalog.TRANSFORM_METRICS.path(release=release, dump=dump)),
)
print(json.dumps({
    "argv": args.argv(),
    "metrics": args.metrics,
    "outputs": [args.curated, url(*catalog.QUARANTINE.parent(release=release, dump=dump))],
    "imported": spark.__file__,
}))
"""


@dataclass(frozen=True)
class OldJob:
    """One run's worth of the old job: its arguments, the metrics file it writes, the folders it writes."""

    argv: list[str]
    metrics: Path
    outputs: list[Path]


def _commit_id() -> str:
    command = ["git", "-C", str(ROOT), "rev-parse", f"{COMMIT}^{{commit}}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def extract(folder: Path = FOLDER) -> Path:
    """The old spark/ package under `folder` (extracted once; again if the stamp names another commit)."""
    stamp, commit = folder / ".commit", _commit_id()
    if stamp.exists() and stamp.read_text() == commit and (folder / "spark" / f"{JOB}.py").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = f"git -C {shlex.quote(str(ROOT))} archive {commit} spark | tar -x -C {shlex.quote(str(folder))}"
    subprocess.run(["bash", "-o", "pipefail", "-c", archive], check=True)
    stamp.write_text(commit)
    return folder


def package_zip(folder: Path) -> Path:
    """The old spark/*.py zipped as spark/NAME.py (as the runner ships today's), cached by content hash."""
    sources = sorted((folder / "spark").glob("*.py"))
    digest, buffer = hashlib.sha256(), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            content = source.read_bytes()
            digest.update(source.name.encode() + b"\0" + content)
            info = zipfile.ZipInfo(f"spark/{source.name}", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, content)
    path = folder / f"spark-{digest.hexdigest()[:16]}.zip"
    if not path.exists():
        path.write_bytes(buffer.getvalue())
    return path


def environment(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with the old copy first on PYTHONPATH."""
    paths = [str(folder), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": ":".join(paths)}


def old_job(folder: Path, lake_root: Path, release: str, dump: str, env: dict[str, str]) -> OldJob:
    """The old job's arguments for `dump` of `release` in `lake_root`, computed by the old package."""
    result = subprocess.run(
        [sys.executable, "-c", _ARGS_SCRIPT, str(lake_root), release, dump],
        capture_output=True, text=True, check=True, cwd=folder, env=environment(folder, env),
    )  # fmt: skip
    found = json.loads(result.stdout)
    if not Path(found["imported"]).resolve().is_relative_to(folder.resolve()):
        raise RuntimeError(f"the baseline imported spark from {found['imported']}, not from {folder}")
    return OldJob(found["argv"], Path(found["metrics"]), [Path(path) for path in found["outputs"]])


def command(submit_options: Sequence[str], folder: Path, argv: Sequence[str]) -> list[str]:
    """The runner's spark-submit options with --py-files swapped for the old zip, then the old job file."""
    options = list(submit_options)
    options[options.index("--py-files") + 1] = str(package_zip(folder))
    return [*options, str(folder / "spark" / f"{JOB}.py"), *argv]


def check_log(log: Path, folder: Path) -> None:
    """Refuse a run whose log does not show Spark running the old job file (its call sites name it) with
    the old package (the zip Spark says it added)."""
    text = log.read_text(errors="replace")
    for expected in (str(folder / "spark" / f"{JOB}.py"), str(package_zip(folder))):
        if expected not in text:
            raise RuntimeError(f"{log} does not name {expected}: the baseline did not run the old code")
