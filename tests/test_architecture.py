"""The nevers of DESIGN.md, checked on the code: what imports what, and who parses gs:// URLs."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("tasks", "spark", "lake", "runners", "source", "report", "query", "docker")
GS_PARSING = re.compile(r"""(startswith|removeprefix|partition|split)\(\s*f?["']gs://""")


def python_files(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module a file imports (import x.y / from x.y import z), at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_graph_imports_no_pyspark() -> None:
    code = (
        "import sys, tasks; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_only_the_lake_parses_gs_urls() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in python_files(*PRODUCT, "bench")
        if path.parts[len(ROOT.parts)] != "lake"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if GS_PARSING.search(line)
    ]
    assert found == []


def test_runners_read_only_the_contract_of_spark() -> None:
    reads = {
        f"{path.name}: {name}"
        for path in python_files("runners")
        for name in imported(path)
        if name.split(".")[0] == "spark" and name not in ("spark.catalog", "spark.contracts")
    }
    assert reads == set()


def test_neither_product_code_nor_the_benchmarks_import_the_tests() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files(*PRODUCT, "bench")
        for name in imported(path)
        if name.split(".")[0] == "tests"
    }
    assert found == set()


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    assert GS_PARSING.search('bucket, _, prefix = uri.removeprefix("gs://").partition("/")')
    module = tmp_path / "module.py"
    module.write_text("def late():\n    from tests.dumpserver import DumpServer\n    import spark.jobio\n")
    assert imported(module) == {"tests.dumpserver", "spark.jobio"}
