"""`python -m query` (`make query`): a release of the lake in DuckDB, as views over its Parquet.

    python -m query                                    # latest complete release, interactive SQL prompt
    python -m query --release 2026-10-31 -c "SELECT count(*) FROM works;"
    python -m query < docs/queries/isbn_lookup.sql     # SQL on standard input: run it, print the results

The lake is [lake] root of luigi.cfg, or LAKE_ROOT (environment or .env), or --lake-root.
"""

import argparse
import sys

import duckdb
from google.auth.exceptions import DefaultCredentialsError

from lake import open_lake
from query.shell import interact, run_script
from query.views import LATEST, ReleaseNotFound, open_release
from tasks import config

BANNER = (
    "DuckDB {version}. End each statement with ';' (Ctrl-D quits). Try: SHOW TABLES; "
    "or the examples in docs/queries/."
)
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 1 a statement failed, 2 no such release or lake, or no credentials for it."""
    args = parse_args(argv)
    config.apply_environment()
    root = args.lake_root or config.lake().root
    try:
        con, views = open_release(open_lake(root), args.release)
    except (ReleaseNotFound, ValueError) as error:
        print(f"query: {error}", file=sys.stderr)
        return 2
    except DefaultCredentialsError as error:
        print(f"query: no Google Cloud credentials to read {root} ({error}): {ADC_HINT}", file=sys.stderr)
        return 2
    print(views.summary(), file=sys.stderr)
    try:
        if args.command is None and sys.stdin.isatty():
            interact(con, BANNER.format(version=duckdb.__version__))
            return 0
        run_script(con, sys.stdin.read() if args.command is None else args.command, sys.stdout)
    except duckdb.Error as error:
        print(f"query: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
