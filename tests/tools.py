"""The command-line tools some tests run (linters, scanners, terraform): found on PATH or in .venv-tools."""

import shutil
from pathlib import Path

import pytest

TOOLS_BIN = Path(__file__).resolve().parent.parent / ".venv-tools" / "bin"


def tool(name: str, install_hint: str) -> str:
    """The path of a command-line tool (PATH, then .venv-tools/bin), or fail the test saying how to get it."""
    found = shutil.which(name) or (str(TOOLS_BIN / name) if (TOOLS_BIN / name).exists() else None)
    if not found:
        pytest.fail(
            f"`{name}` is needed by this test and was not found on PATH or in {TOOLS_BIN}: {install_hint}"
        )
    return found
