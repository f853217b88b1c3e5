"""Build docker/Dockerfile for the image test, the way this machine reaches the package registries.

- `base_image(docker)`: the Dockerfile's default base (the official Python image) when the engine has it or
  can pull it; otherwise an equivalent made here from Debian's packages: `debootstrap --variant=minbase
  bookworm` from the host's Debian mirror, with python3 (3.11 in bookworm) and python3-venv, `python`
  linked to it as the official image has it, imported with `docker import`. Kept in the engine under
  LOCAL_BASE, so later runs reuse it.
- `build_image(docker, base, tag)`: `docker build` with INCLUDE_JAVA=true and what the host's pip and
  proxies use: its index (build arg PIP_INDEX_URL), its proxies (the standard *_PROXY build args) and its
  CA bundle as the build secret `ca`, never a layer.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docker_engine import Docker

PROJECT = Path(__file__).resolve().parent.parent
DOCKERFILE = PROJECT / "docker" / "Dockerfile"
LOCAL_BASE = "openlibrary-test/python-base:bookworm-3.11"
PROXY_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
CA_CANDIDATES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
DEFAULT_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Built:
    image_id: str
    size_bytes: int
    seconds: float


def default_base() -> str:
    """The Dockerfile's own default for PYTHON_IMAGE."""
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert match, "docker/Dockerfile declares no PYTHON_IMAGE default"
    return match[1]


def host_debian_mirrors() -> tuple[str, str]:
    """(main mirror, security mirror) of bookworm as this host's apt sources name them."""
    mirror, security = "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
    texts = [path.read_text() for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    for stanza in "\n\n".join(texts).split("\n\n"):
        fields = dict(re.findall(r"^(URIs|Suites):\s*(.+)$", stanza, flags=re.MULTILINE))
        if "URIs" not in fields or "Suites" not in fields:
            continue
        suites, uri = fields["Suites"].split(), fields["URIs"].split()[0]
        if "bookworm" in suites:
            mirror = uri
        elif "bookworm-security" in suites:
            security = uri
    return mirror, security


def build_debian_base(docker: Docker) -> None:
    """debootstrap a minimal bookworm with Python 3.11 and import it as LOCAL_BASE."""
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        pytest.fail("debootstrap is needed to build the base image here: run `make test-deps` as root")
    mirror, security = host_debian_mirrors()
    work = Path(tempfile.mkdtemp(prefix="image-base-"))
    root = work / "root"
    try:
        completed = subprocess.run(
            [debootstrap, "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(root),
             mirror],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if completed.returncode != 0:
            pytest.fail(f"debootstrap failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
        (root / "usr/local/bin/python").symlink_to("/usr/bin/python3")  # as the official image has it
        (root / "etc/apt/sources.list").write_text(
            f"deb {mirror} bookworm main\ndeb {mirror} bookworm-updates main\n"
            f"deb {security} bookworm-security main\n"
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / cache).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [docker.cli, "import", "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["python"]', "-",
             LOCAL_BASE],
            stdin=tar.stdout, env=docker.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert tar.stdout is not None
        tar.stdout.close()
        assert tar.wait(timeout=60) == 0 and imported.returncode == 0, imported.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


def base_image(docker: Docker, say: Callable[[str], None] = print) -> str:
    """The base to build on: the official one when it can be had, else LOCAL_BASE (built once)."""
    official = default_base()
    if docker.run("image", "inspect", official, check=False).returncode == 0:
        say(f"image test: base {official} (in the engine)")
        return official
    pulled = docker.run("pull", official, check=False, timeout=120)
    if pulled.returncode == 0:
        say(f"image test: base {official} (pulled)")
        return official
    reason = (pulled.stderr.strip().splitlines() or ["?"])[-1]
    if docker.run("image", "inspect", LOCAL_BASE, check=False).returncode == 0:
        say(
            f"image test: {official} can't be pulled ({reason}); using {LOCAL_BASE} (made from Debian before)"
        )
        return LOCAL_BASE
    say(f"image test: {official} can't be pulled ({reason}); building {LOCAL_BASE} from Debian packages")
    started = time.monotonic()
    build_debian_base(docker)
    say(f"image test: {LOCAL_BASE} built with debootstrap in {time.monotonic() - started:.0f}s")
    return LOCAL_BASE


def pip_setting(name: str) -> str:
    """A setting of the host's pip (`pip config list`: global.NAME or the environment's), or ''."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
    ).stdout
    values = dict(re.findall(r"^(?:global|:env:)\.([\w-]+)='(.*)'$", listed, flags=re.MULTILINE))
    return values.get(name, "")


def host_ca_bundle() -> Path | None:
    """The CA bundle the host's pip and requests trust, if there is one."""
    for candidate in [os.environ.get(name, "") for name in CA_CANDIDATES] + [pip_setting("cert")]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return DEFAULT_CA if DEFAULT_CA.is_file() else None


def build_arguments(base: str) -> list[str]:
    """The build args and secret for this host."""
    args = ["--build-arg", f"PYTHON_IMAGE={base}", "--build-arg", "INCLUDE_JAVA=true"]
    index = os.environ.get("PIP_INDEX_URL") or pip_setting("index-url")
    if index.startswith(("http://", "https://")):
        args += ["--build-arg", f"PIP_INDEX_URL={index}"]
    for name in PROXY_ARGS:
        if os.environ.get(name):
            args += ["--build-arg", f"{name}={os.environ[name]}"]
    if ca := host_ca_bundle():
        args += ["--secret", f"id=ca,src={ca}"]
    return args


def build_image(docker: Docker, base: str, tag: str, log: Path) -> Built:
    """docker build -f docker/Dockerfile of the project as `tag`; its id, size and build time."""
    started = time.monotonic()
    completed = docker.run(
        "build", "--progress=plain", "-f", str(DOCKERFILE), *build_arguments(base), "-t", tag, str(PROJECT),
        check=False, timeout=1500,
    )  # fmt: skip
    seconds = time.monotonic() - started
    log.write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        pytest.fail(f"docker build failed (log {log}):\n{(completed.stdout + completed.stderr)[-4000:]}")
    image_id = docker.run("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    size = int(docker.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    return Built(image_id=image_id, size_bytes=size, seconds=seconds)
