"""The image's HEALTHCHECK: exit 0 when luigid answers its task-list API with JSON, 1 otherwise.

python healthcheck.py [URL]     (default http://127.0.0.1:8082, luigid inside the container)
"""

import json
import sys
import urllib.parse
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8082"
TIMEOUT_S = 5


def check(url: str) -> str:
    """'' when luigid at `url` lists its running tasks, else what went wrong."""
    query = urllib.parse.urlencode({"data": json.dumps({"status": "RUNNING"})})
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/task_list?{query}", timeout=TIMEOUT_S) as answer:
            body = json.load(answer)
    except (OSError, ValueError) as error:
        return f"luigid at {url} does not answer /api/task_list: {error}"
    if not isinstance(body, dict) or "response" not in body:
        return f"luigid at {url} answered /api/task_list without a task list"
    return ""


def main(argv: list[str]) -> int:
    problem = check(argv[0] if argv else DEFAULT_URL)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
