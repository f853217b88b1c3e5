"""A real luigid (Luigi's central scheduler and visualiser) for tests, and its JSON API."""

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.ports import listening_port

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


def start_luigid(*args: str, log: Path | None = None, **popen: Any) -> tuple[subprocess.Popen, int]:
    """luigid on a port of the OS's choosing on 127.0.0.1, with ARGS, once it answers: the process and the
    port. Its output goes to the end of `log` (nowhere when None)."""
    command = [str(Path(sys.executable).parent / "luigid"), "--address", "127.0.0.1", "--port", "0", *args]
    with log.open("ab") if log else open(os.devnull, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, **popen)
    try:
        port = listening_port(process, STARTUP_S)
        wait_until_answering(port, process, log)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, port


@contextmanager
def running_luigid(state: Path) -> Iterator[int]:
    """luigid on a free 127.0.0.1 port, its state and logs in `state`; yields the port, then SIGTERM (so it
    saves its state) and waits."""
    state.mkdir(parents=True, exist_ok=True)
    process, port = start_luigid("--state-path", str(state / "state.pickle"), "--logdir", str(state))
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
