"""`python -m query` (`make query`): a release of the lake in DuckDB, as views over its Parquet.

    python -m query                                    # latest complete release, interactive SQL prompt
    python -m query --release 2026-10-31 -c "SELECT count(*) FROM works;"
    python -m query < docs/queries/isbn_lookup.sql     # SQL on standard input: run it, print the results
    python -m query --format csv -c "SELECT * FROM dim_work;" > dim_work.csv

The lake is [lake] root of luigi.cfg, or LAKE_ROOT (environment or .env), or --lake-root. On a terminal a
result is DuckDB's table fitted to its width; otherwise the table has every column and whole values, and
--format csv|json|markdown writes every row (query/formats.py).
"""

import argparse
import sys
from pathlib import Path

import duckdb
from google.auth.exceptions import DefaultCredentialsError

from lake import open_lake
from query.formats import FORMATS, TABLE, Output
from query.shell import interact, run_script
from query.views import LATEST, ReleaseNotFound, open_release
from spark.catalog import complete_releases
from tasks import config

BANNER = (
    "DuckDB {version}. End each statement with ';' (Ctrl-D quits). Try: SHOW TABLES; "
    "or the examples in docs/queries/."
)
# Where `make demo` writes, from the project folder (the Makefile's $(DEMO_DIR)/lake)
DEMO_LAKE = "data/demo/lake"
ADC_HINT = "run `gcloud auth application-default login`, or use a VM whose service account reads the bucket"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m query",
        description="Open a release of the lake in DuckDB: one view per complete table and mart.",
    )
    parser.add_argument(
        "--release",
        default=LATEST,
        help="release date YYYY-MM-DD, or latest (the newest with complete marts)",
    )
    parser.add_argument("--lake-root", help="the lake (default: [lake] root of luigi.cfg, LAKE_ROOT, .env)")
    parser.add_argument(
        "-c", "--command", help="run this SQL, print the results and exit (SQL on a piped stdin does too)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=TABLE,
        help="how results are written (default: %(default)s; fitted to the terminal on one, whole otherwise)",
    )
    return parser.parse_args(argv)


def demo_hint(root: str, release: str) -> str:
    """When `root` is not the demo lake and the demo lake (in the working folder) holds `release` (or, for
    latest, a complete release): a line naming it and the command that opens it; else ""."""
    demo = Path(DEMO_LAKE)
    if not (demo / "marts").is_dir() or Path(root).resolve() == demo.resolve():
        return ""
    releases = complete_releases(open_lake(DEMO_LAKE))
    if not releases or release not in (LATEST, *releases):
        return ""
    make, python = f"make query LAKE_ROOT={DEMO_LAKE}", f"python -m query --lake-root {DEMO_LAKE}"
    if release != LATEST:
        make, python = f"{make} RELEASE={release}", f"{python} --release {release}"
    return (
        f"the demo lake {DEMO_LAKE} (make demo) holds release{'s' if len(releases) > 1 else ''} "
        f"{', '.join(releases)}: open it with `{make}` (or `{python}`)"
    )


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 1 a statement failed, 2 no such release or lake, or no credentials for it."""
    args = parse_args(argv)
    config.apply_environment()
    root = args.lake_root or config.lake().root
    try:
        con, views = open_release(open_lake(root), args.release)
    except ReleaseNotFound as error:
        print(f"query: {error}", file=sys.stderr)
        hint = demo_hint(root, args.release)
        if hint:
            print(f"query: {hint}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"query: {error}", file=sys.stderr)
        return 2
    except DefaultCredentialsError as error:
        print(f"query: no Google Cloud credentials to read {root} ({error}): {ADC_HINT}", file=sys.stderr)
        return 2
    print(views.summary(), file=sys.stderr)
    output = Output(format=args.format, fit=sys.stdout.isatty())
    try:
        if args.command is None and sys.stdin.isatty():
            interact(con, BANNER.format(version=duckdb.__version__), output)
            return 0
        run_script(con, sys.stdin.read() if args.command is None else args.command, sys.stdout, output)
    except duckdb.Error as error:
        print(f"query: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
