"""TCP ports of the servers the benchmarks and tests start on 127.0.0.1.

A server that can bind port 0 does (the OS picks a free port) and the test reads the port it got, so nothing
can take the port between choosing and binding: `listening_port` reads it for a child process, from Linux's
/proc. `free_port` is for a server that must be told its port before it starts (fake-gcs-server puts it in
the upload URLs it hands out): the caller binds it soon after and retries on a clash.
"""

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LISTEN = "0A"  # the state column of /proc/net/tcp for a listening socket


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; the caller binds it soon after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refused_port() -> Iterator[int]:
    """A port held for the block, bound but not listening: connecting to it is refused, and no server can
    bind it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def listening_port(process: subprocess.Popen, timeout: float) -> int:
    """The TCP port `process` (started with port 0) listens on, once it listens; raises when the process
    ends first or does not listen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (port := _listening(process.pid)) is None:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited ({process.returncode}) before it listened")
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {process.pid} did not listen on a TCP port within {timeout}s")
        time.sleep(0.05)
    return port


def _listening(pid: int) -> int | None:
    """The port of the first listening TCP socket among the process's open files, or None."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        tables = [Path(f"/proc/{pid}/net/{table}").read_text() for table in ("tcp", "tcp6")]
    except OSError:  # the process (or one of its files) went away meanwhile
        return None
    sockets = {link.removeprefix("socket:[").rstrip("]") for link in links if link.startswith("socket:[")}
    for table in tables:
        for line in table.splitlines()[1:]:
            local, state, inode = (line.split()[index] for index in (1, 3, 9))
            if state == LISTEN and inode in sockets:
                return int(local.rsplit(":", 1)[1], 16)
    return None
