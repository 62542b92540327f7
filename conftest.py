"""Fixtures every component's tests share: Porter installed from its own wheel, as users get it,
and a probe of user namespaces for the tests that run something as an unprivileged user.

`installed_porter` builds the wheel of the working tree and installs it, with its dependencies
from the wheelhouse scripts/setup.sh keeps (no package index is reached), into a fresh venv
made for the test session. The venv lives in a folder of its own under the system's temporary
directory, owned by root and mode 0755, and its interpreter is the system's: an unprivileged
user can run the commands wherever the checkout itself is (a 0700 home or mktemp folder too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def wheel_sources() -> list[str]:
    """What the wheel is built from, as pyproject.toml names it: the readme, the package
    folders and the scripts."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    setuptools = project["tool"]["setuptools"]
    return [
        "pyproject.toml",
        project["project"]["readme"],
        *setuptools["packages"]["find"]["where"],
        *setuptools.get("script-files", []),
    ]


class InstalledPorter:
    """A venv with Porter's wheel installed: `command(name)` is the path of one of its commands."""

    def __init__(self, prefix: Path, wheel: Path) -> None:
        self.prefix = prefix
        self.wheel = wheel
        self.python = prefix / "bin" / "python"

    def command(self, name: str) -> Path:
        return self.prefix / "bin" / name

    def site_packages(self) -> Path:
        return next((self.prefix / "lib").glob("python3*/site-packages"))

    def install_alone(self, prefix: Path) -> InstalledPorter:
        """The same wheel, without its dependencies, in another fresh venv at `prefix`."""
        return install_wheel(self.wheel, prefix, "--no-deps")


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o022),  # what it writes: readable by every user
    )
    if result.returncode != 0:
        raise AssertionError(f"pip {' '.join(args)} failed: {result.stderr.strip()}")


def build_wheel(into: Path) -> Path:
    """The wheel of the working tree as it is now, built from a copy (a build in the tree
    would write build/ and egg-info there, under other test runs' feet)."""
    source = into / "source"
    for name in wheel_sources():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    _pip(
        "wheel",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(WHEELHOUSE),
        "-w",
        str(into),
        str(source),
    )
    return next(into.glob("porter-*.whl"))


def install_wheel(wheel: Path, prefix: Path, *pip_options: str) -> InstalledPorter:
    """A fresh venv at `prefix` (on the system's interpreter) with `wheel` installed in it."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(prefix)],
        check=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    installed = InstalledPorter(prefix, wheel)
    _pip(
        "--python",
        str(installed.python),
        "install",
        *pip_options,
        "--no-index",
        "--find-links",
        str(WHEELHOUSE),
        str(wheel),
    )
    return installed


@pytest.fixture(scope="session")
def installed_porter() -> Iterator[InstalledPorter]:
    if not WHEELHOUSE.is_dir():
        pytest.fail(f"{WHEELHOUSE}: no wheelhouse of Porter's dependencies; run scripts/setup.sh")
    # /tmp, not $TMPDIR or pytest's base folder: those may be private to root
    base = Path(tempfile.mkdtemp(prefix="porter-installed-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        yield install_wheel(build_wheel(base / "wheel"), base / "venv")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def missing_user_namespace(uid: int, gid: int) -> str | None:
    """Why user `uid` cannot create a user namespace here (the kernel's or a security module's
    setting), or None when it can: what every rootless container needs first."""
    try:
        result = subprocess.run(
            ["unshare", "--user", "true"],
            user=uid,
            group=gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except FileNotFoundError:
        return "needs unshare (util-linux) to probe user namespaces"
    if result.returncode != 0:
        return f"uid {uid} may not create a user namespace here: {result.stderr.strip()}"
    return None


@pytest.fixture(name="missing_user_namespace", scope="session")
def missing_user_namespace_fixture():
    """The `missing_user_namespace(uid, gid)` probe, for tests (conftest is not importable)."""
    return missing_user_namespace
