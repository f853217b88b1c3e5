"""Read the Terraform stacks under terraform/ offline, for tests/test_terraform.py.

Two views: python-hcl2 parses the .tf files into their structure (resources, variables, outputs), and the
real `terraform` binary evaluates a stack's variables.tf + locals.tf (validation rules, derived names, the
rendered cloud-init) with `terraform console` in a scratch folder, which needs no provider download.
"""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from tests.tools import tool

REPO = Path(__file__).resolve().parents[1]
TERRAFORM = REPO / "terraform"
STACKS = ("storage", "compute")

# Plain Python values: strings without their HCL quotes, blocks as lists of dicts, heredocs as strings.
_PLAIN = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terraform() -> str:
    return tool("terraform", "install Terraform (https://developer.hashicorp.com/terraform/install)")


def terraform_env(scratch: Path) -> dict[str, str]:
    """The environment for terraform runs: an empty CLI config, no checkpoint call home, no colours."""
    config = scratch / "terraformrc"
    config.touch()
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }


@dataclass
class Stack:
    """One stack's configuration, merged across its .tf files."""

    name: str
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        """The body of resource `kind.name`, or fail naming what the stack has of that kind."""
        found = self.resources.get(kind, {})
        assert name in found, f"{self.name}: no resource {kind}.{name} (has {sorted(found)})"
        return found[name]

    def all_resources(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(kind, name, body) for kind, named in self.resources.items() for name, body in named.items()]


def load_stack(name: str) -> Stack:
    """Parse every terraform/{name}/*.tf file; a name defined twice fails the test."""
    stack = Stack(name)
    files = sorted((TERRAFORM / name).glob("*.tf"))
    assert files, f"no .tf files in {TERRAFORM / name}"
    for path in files:
        parsed = hcl2.loads(path.read_text(), serialization_options=_PLAIN)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for resource_name, body in named.items():
                    assert resource_name not in stack.resources.get(kind, {}), f"{kind}.{resource_name} twice"
                    stack.resources.setdefault(kind, {})[resource_name] = body
        for section, target in (("variable", stack.variables), ("output", stack.outputs)):
            for block in parsed.get(section, []):
                for item, body in block.items():
                    assert item not in target, f"{name}: {section} {item} defined twice"
                    target[item] = body
        for block in parsed.get("locals", []):
            stack.locals.update(block)
        stack.settings.extend(parsed.get("terraform", []))
    return stack


def only_block(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The single nested block `key` of a resource body (blocks parse as lists), or fail."""
    blocks = body.get(key)
    assert isinstance(blocks, list) and len(blocks) == 1, (
        f"expected exactly one {key} block, found {blocks!r}"
    )
    return blocks[0]


_WHOLE_INTERPOLATION = re.compile(r"\$\{(.+)\}", re.DOTALL)


def as_expression(value: Any) -> str:
    """A parsed argument value as a Terraform expression again: `${expr}` becomes expr, literals JSON.

    JSON literals (strings without interpolations, numbers, booleans, lists, objects with ":") are valid
    HCL; a string mixing text and interpolations stays a quoted template.
    """
    if isinstance(value, str):
        whole = _WHOLE_INTERPOLATION.fullmatch(value)
        if whole and "${" not in whole.group(1):
            return whole.group(1)
    return json.dumps(value)


@dataclass
class Console:
    """A `terraform console` run: the decoded value (None when it failed) and the errors Terraform printed."""

    value: Any
    errors: str


def evaluate(stack: str, expression: str, variables: Mapping[str, str], scratch: Path) -> Console:
    """Evaluate `expression` in a copy of terraform/{stack}'s variables, locals and templates.

    Only variables.tf, locals.tf and *.tftpl are copied (no resources, so no providers to download). The
    value comes back through jsonencode(); Terraform's errors (a failed validation rule, a bad
    expression) are returned with colours and box drawing removed and whitespace collapsed.
    """
    workdir = scratch / f"{stack}-console"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    source = TERRAFORM / stack
    for pattern in ("variables.tf", "locals.tf", "*.tftpl"):
        for path in source.glob(pattern):
            shutil.copy(path, workdir / path.name)
    args = [terraform(), "console"] + [f"-var={key}={value}" for key, value in variables.items()]
    done = subprocess.run(
        args, cwd=workdir, input=f"jsonencode({expression})\n", capture_output=True, text=True,
        env=terraform_env(scratch), timeout=60,
    )  # fmt: skip
    errors = " ".join(
        _ANSI.sub("", done.stderr).replace("│", " ").replace("╷", " ").replace("╵", " ").split()
    )
    if done.returncode != 0 or "Error:" in errors:
        return Console(None, errors)
    # console prints the JSON text as a quoted string literal
    return Console(json.loads(json.loads(done.stdout.strip())), errors)


def evaluate_ok(stack: str, expression: str, variables: Mapping[str, str], scratch: Path) -> Any:
    """evaluate(), failing the test with Terraform's message when Terraform refused the inputs."""
    result = evaluate(stack, expression, variables, scratch)
    assert result.value is not None, f"terraform console failed for {stack}: {result.errors}"
    return result.value


def evaluate_all(
    stack: str, expressions: Mapping[str, str], variables: Mapping[str, str], scratch: Path
) -> dict[str, Any]:
    """Several expressions in one `terraform console` run: name -> value."""
    names = {f"e{index}": name for index, name in enumerate(expressions)}
    together = "{" + ", ".join(f"{key} = ({expressions[name]})" for key, name in names.items()) + "}"
    values = evaluate_ok(stack, together, variables, scratch)
    return {name: values[key] for key, name in names.items()}
