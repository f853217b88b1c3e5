"""Completion that looks upstream: a derived output is stale once an input it was built from is gone."""

import luigi
from luigi.task import flatten


def complete_with_inputs(task: luigi.Task) -> bool:
    """True when the task's own outputs exist and every task it requires is complete too.

    Deleting a curated table's _SUCCESS then re-runs that transform and what is built from it (marts, report),
    and nothing else.
    """
    outputs = flatten(task.output())
    return all(output.exists() for output in outputs) and all(
        dep.complete() for dep in flatten(task.requires())
    )
