"""`porter ps`, `porter images` and `porter version` start in the interpreter's own time:
run as installed (the dev venv's command, and the one of Porter's wheel in a fresh venv, as
users get it; each through its shebang's interpreter with its site module), they import the
interpreter's start-up modules, the two C modules they read the answer with, and porter's
own modules of the command, and nothing else: not click, not json, re, typing or socket
(each costs `porter ps` about what its request to the daemon does). Other commands go
through click, and still import nothing of what only other commands need."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from porter_fake_engine import PORTER, FakeEngine

# What `porter ps`, `images` and `version` import beyond the interpreter's start-up.
LISTING_MODULES = frozenset(
    {
        "__future__",
        "atexit",
        "_json",
        "_socket",
        "porter_specs",
        "porter_specs.errors",
        "porter_cli",
        "porter_cli.main",
        "porter_cli.errors",
        "porter_cli.quick",
        "porter_cli.session",
        "porter_cli.config",
        "porter_cli.client",
        "porter_cli.client.api",
        "porter_cli.client.endpoint",
        "porter_cli.client.errors",
        "porter_cli.client.http11",
        "porter_cli.client.jsonload",
        "porter_cli.client.transport",
        "porter_cli.formatter",
        "porter_cli.formatter.output",
        "porter_cli.formatter.containers",
        "porter_cli.formatter.images",
        "porter_cli.version_info",
        "porter_cli.formatter.template",
        "porter_cli.formatter.units",
    }
)

NOT_FOR_LISTINGS = (
    "requests", "jsonschema", "cryptography", "tarfile", "termios", "tempfile",
    "porter_cli.container.run", "porter_cli.image.pull", "porter_cli.terminal",
    "porter_cli.certificates", "porter_image", "porterd",
    "http.client", "email", "ssl", "concurrent.futures",
)  # fmt: skip


# Runs the installed command's script as the interpreter would, then lists sys.modules (the
# command's os._exit is turned into SystemExit so that the list can be written). sys.modules
# rather than -X importtime: importtime does not see importlib.import_module, through which
# click's lazy groups load their commands.
PROBE = """
import os, sys
def stop(code):
    raise SystemExit(code)
os._exit = stop
script, *args = sys.argv[1:]
sys.argv = [script, *args]
try:
    with open(script) as f:
        exec(compile(f.read(), script, "exec"), {"__name__": "__main__"})
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
"""


def interpreter_of(command: Path) -> list[str]:
    """What the kernel runs `command` with: its shebang line's interpreter and flags."""
    with open(command) as script:
        return script.readline()[2:].split()


@pytest.fixture(params=["dev venv", "wheel"])
def porter(request: pytest.FixtureRequest) -> Path:
    """The porter under test: the dev venv's, or the one installed from Porter's wheel into a
    fresh venv, as users get it."""
    if request.param == "dev venv":
        return PORTER
    return Path(request.getfixturevalue("installed_porter").command("porter"))


def modules_of(porter: Path, *args: str) -> set[str]:
    """Every module `porter ARGS` has imported when it ends, run as installed: through its
    shebang's interpreter, with that interpreter's site module."""
    result = subprocess.run(
        [*interpreter_of(porter), "-c", PROBE, str(porter), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    last = result.stderr.rstrip().splitlines()[-1]
    assert last.startswith("MODULES "), result.stderr[-2000:]
    return set(last.split()[1:])


def start_up(porter: Path) -> set[str]:
    """What the interpreter has imported before running any command (site and what it reads)."""
    probe = "import sys; print(' '.join(sys.modules))"
    command = [*interpreter_of(porter), "-c", probe]
    return set(subprocess.run(command, capture_output=True, text=True).stdout.split())


@pytest.mark.parametrize(
    ("args", "route"),
    [
        (["ps"], "/containers/json"),
        (["ps", "-aq", "--no-trunc", "--filter", "status=exited"], "/containers/json"),
        (["container", "ls", "-n", "3"], "/containers/json"),
        (["images"], "/images/json"),
        (["image", "ls", "--digests", "busybox"], "/images/json"),
        (["version"], "/version"),
    ],
)
def test_listings_import_only_the_listings_modules(
    engine: FakeEngine, porter: Path, args: list[str], route: str
) -> None:
    engine.json("GET", route, [])
    modules = modules_of(porter, "-H", engine.host, *args)  # type: ignore[attr-defined]
    assert (len(engine.seen("GET", route)), modules - start_up(porter) - LISTING_MODULES) == (
        1,
        set(),
    )


def test_a_command_under_click_imports_only_what_it_uses(engine: FakeEngine, porter: Path) -> None:
    engine.json("GET", "/volumes", {"Volumes": [], "Warnings": None})
    modules = modules_of(porter, "-H", engine.host, "volume", "ls")  # type: ignore[attr-defined]
    loaded = [
        name
        for name in NOT_FOR_LISTINGS
        if any(m == name or m.startswith(name + ".") for m in modules)
    ]
    assert (loaded, "porter_cli.volume.ls" in modules) == ([], True)
