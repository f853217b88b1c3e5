"""Tell luigid that the tasks a stopped run was running have failed (run-pipeline, after a SIGTERM).

    python fail_stopped_tasks.py --worker-id pipeline-run-2026-11-03T06:00:00Z-57

A run stopped by `docker stop` dies with its tasks still RUNNING in luigid, which keeps them so until the
worker has been silent for [scheduler] worker_disconnect_delay: a run started before then would find them
taken and do nothing. Marking them FAILED at once (with the reason) lets the next run take them again.
Prints one line per task; exits 0 even when luigid can't be reached (the stop goes on regardless).
"""

import argparse
import sys
from collections.abc import Sequence

import luigi.interface
import luigi.rpc

REASON = "stopped by SIGTERM (docker stop) while running: nothing of it is marked complete"


def scheduler_url() -> str:
    """The luigid this run reported to (luigi's [core] scheduler settings)."""
    core = luigi.interface.core()
    return (core.scheduler_url or f"http://{core.scheduler_host}:{core.scheduler_port}").rstrip("/")


def fail_running_tasks(scheduler: luigi.rpc.RemoteScheduler, worker_id: str) -> list[str]:
    """Mark FAILED every task luigid lists as RUNNING on `worker_id`; the ids of those tasks."""
    running = scheduler.task_list(status="RUNNING", upstream_status="", search=None) or {}
    failed = []
    for task_id, task in running.items():
        if task.get("worker_running") == worker_id:
            scheduler.add_task(
                worker=worker_id, task_id=task_id, status="FAILED", expl=REASON, runnable=False
            )
            failed.append(task_id)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-id", required=True, help="the --worker-id the stopped run was given")
    args = parser.parse_args(argv)
    url = scheduler_url()
    scheduler = luigi.rpc.RemoteScheduler(url, connect_timeout=5)
    try:
        failed = fail_running_tasks(scheduler, args.worker_id)
    except luigi.rpc.RPCError as error:
        print(f"could not tell luigid at {url} that the stopped tasks failed: {error}")
        return 0
    for task_id in failed:
        print(f"marked FAILED in luigid (stopped by SIGTERM): {task_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
