"""Print the pipeline's crontab (docker/crontab) with its schedule taken from $CRON, or fail saying why.

    CRON="0 6 2-8 * *" python render_crontab.py /opt/pipeline/crontab | crontab -u pipeline -

$CRON must be exactly five fields (minute hour day-of-month month day-of-week) in the syntax Debian's
cron reads: `*`, numbers, ranges `a-b`, steps `*/n` or `a-b/n`, lists `a,b`, and the names jan-dec /
sun-sat as single values. Unset, the default below applies. Anything else exits with status 2 and an
error naming CRON and the field at fault, so a bad schedule stops the container at start instead of
never running the pipeline.
"""

import os
import re
import sys
from pathlib import Path

# Open Library dates each release the last day of a month and uploads it over the following days. A
# run at 06:00 UTC on each of the days 2 to 8 picks the release up as soon as it is complete; a release
# still incomplete is refused (and retried the next day), and once the month's release is done the
# remaining runs find every task complete and finish in seconds.
DEFAULT_SCHEDULE = "0 6 2-8 * *"
PLACEHOLDER = "@SCHEDULE@"

_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_ITEM = re.compile(r"^(?P<span>\*|\d+|\d+-\d+)(?:/(?P<step>\d+))?$")


class ScheduleError(ValueError):
    """$CRON is not a five-field schedule Debian's cron accepts."""


def check_field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    """Raise ScheduleError unless `text` is a valid cron field whose numbers lie in [low, high]."""
    if text.lower() in names:
        return
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise ScheduleError(f"{name} field {text!r}: {item!r} is not *, N, N-M, */S or N-M/S")
        numbers = [int(n) for n in match["span"].split("-")] if match["span"] != "*" else []
        if any(not low <= n <= high for n in numbers):
            raise ScheduleError(f"{name} field {text!r}: values must lie in {low}-{high}")
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            raise ScheduleError(f"{name} field {text!r}: range {item!r} runs backwards")
        if match["step"] is not None and int(match["step"]) == 0:
            raise ScheduleError(f"{name} field {text!r}: a step must be at least 1")


def check_schedule(schedule: str) -> str:
    """The schedule's five fields joined by single spaces; ScheduleError when it is not valid."""
    fields = schedule.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(
            f"{schedule!r} has {len(fields)} fields; it needs exactly 5: minute hour day-of-month month "
            "day-of-week (e.g. '0 6 2-8 * *'; @monthly-style names are not accepted)"
        )
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        check_field(text, name, low, high, names)
    return " ".join(fields)


def render(template: str, schedule: str) -> str:
    """The crontab: `template` with its one schedule placeholder replaced by the checked schedule."""
    if template.count(PLACEHOLDER) != 1:
        raise ValueError(f"the crontab template must hold {PLACEHOLDER} exactly once")
    return template.replace(PLACEHOLDER, check_schedule(schedule))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: render_crontab.py CRONTAB_TEMPLATE  (schedule from $CRON)", file=sys.stderr)
        return 2
    schedule = os.environ.get("CRON", DEFAULT_SCHEDULE)
    try:
        sys.stdout.write(render(Path(argv[0]).read_text(), schedule))
    except ScheduleError as error:
        print(f"CRON={schedule!r} is not a valid schedule: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
