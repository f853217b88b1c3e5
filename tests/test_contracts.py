"""The job contracts (spark/contracts.py): what a task builds is what its job parses, field for field."""

import dataclasses

import pytest

from lake import open_lake
from spark.contracts import MartsArgs, TransformArgs
from tasks.transform import transform_arguments


def test_the_transform_arguments_a_task_builds_round_trip_through_the_jobs_parser(tmp_path) -> None:
    built = transform_arguments(open_lake(str(tmp_path)), "2026-10-31", "reading-log")
    assert built.argv()[:2] == ["--dump", "reading-log"]
    assert built.manifest == f"{tmp_path}/raw/2026-10-31/reading-log/_MANIFEST.json"
    assert built.metrics == f"{tmp_path}/curated/2026-10-31/_metrics/reading-log.json"
    assert TransformArgs.parse(built.argv()) == built


@pytest.mark.parametrize("previous", [None, ("2026-09-30", "gs://b/lake/curated/2026-09-30")])
def test_marts_arguments_round_trip_with_and_without_a_previous_release(previous) -> None:
    args = MartsArgs(
        curated="c", marts="m", summary="s.json", metrics="x.json", dumps=("works", "reading-log"),
        previous_release=previous and previous[0], previous_curated=previous and previous[1],
    )  # fmt: skip
    argv = args.argv()
    assert argv[argv.index("--dumps") + 1] == "works,reading-log"
    assert ("--previous-release" in argv) == (previous is not None)
    assert MartsArgs.parse(argv) == args


def test_every_field_is_an_option_of_the_jobs_parser() -> None:
    for contract in (TransformArgs, MartsArgs):
        options = {action.dest for action in contract.parser()._actions} - {"help"}
        assert options == {field.name for field in dataclasses.fields(contract)}, contract.job


def test_a_wrong_command_line_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        TransformArgs.parse(["--dump", "movies", "--manifest", "m", "--curated", "c", "--quarantine", "q"])
    assert "invalid choice: 'movies'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown dumps"):
        MartsArgs(curated="c", marts="m", summary="s", metrics="x", dumps=("movies",))
