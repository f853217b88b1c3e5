"""Print where a release's run report page is, as a browser opens it (the end of `make run` / `make demo`).

    python -m tasks.report_url --release latest

The lake and the source come from the configuration, as for the run (luigi.cfg, .env, SECTION_KEY
variables); `latest` is resolved the way the run resolved it. Exits 1, saying so, when there is no page.
"""

import argparse
import sys
from collections.abc import Sequence

from spark import catalog
from tasks.config import apply_environment
from tasks.context import current_lake
from tasks.release import ReleaseParameter


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--release", default="latest", help="release date YYYY-MM-DD, or latest")
    args = parser.parse_args(argv)
    apply_environment()
    release = ReleaseParameter().normalize(args.release)
    lake = current_lake()
    page = catalog.REPORT_PAGE.path(release=release)
    if not lake.exists(*page):
        print(f"no run report for {release}: {lake.url(*page)} is missing", file=sys.stderr)
        return 1
    print(f"report: {lake.browser_url(*page)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
