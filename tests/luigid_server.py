"""A real luigid (Luigi's central scheduler and visualiser) for tests, and its JSON API."""

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.ports import free_port

STARTUP_S = 30


def scheduler_api(port: int, method: str, **data: object) -> dict[str, Any]:
    """Call luigid's /api/{method} (e.g. task_list with status=DONE) and return its response."""
    query = urllib.parse.urlencode({"data": json.dumps(data)})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/{method}?{query}", timeout=5) as response:
        return json.load(response)["response"]


def wait_until_answering(port: int, process: subprocess.Popen, log: Path | None = None) -> None:
    """Return once luigid on `port` answers its API; raise (with the end of `log`, if given) when the process
    ends first or it does not answer within STARTUP_S."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            scheduler_api(port, "task_list", status="DONE")
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                tail = f":\n{log.read_text()[-3000:]}" if log else ""
                raise RuntimeError(f"luigid did not come up{tail}") from None
            time.sleep(0.2)


@contextmanager
def running_luigid(state: Path) -> Iterator[int]:
    """luigid on a free 127.0.0.1 port, its state and logs in `state`; yields the port, then SIGTERM (so it
    saves its state) and waits."""
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "luigid"), "--address", "127.0.0.1", "--port", str(port),
         "--state-path", str(state / "state.pickle"), "--logdir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_answering(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
