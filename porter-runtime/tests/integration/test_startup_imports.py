"""What the lifecycle commands import: the hot paths stay clear of the heavy modules.

A container's whole `run` is some 35 ms, and importing ctypes, typing, re or logging costs
1 to 3 ms each, so they are kept off every path a plain container takes (the runtime's
processes and the container's init alike). A config seen before is not validated against
the schema again, so jsonschema stays out too.
"""

from __future__ import annotations

import pytest

from .conftest import Runtime

pytestmark = pytest.mark.integration

HEAVY = frozenset(
    {
        "ctypes",
        "typing",
        "re",
        "logging",
        "subprocess",
        "socket",
        "dataclasses",
        "enum",
        "json",
        "jsonschema",
        "shutil",
        "tempfile",
    }
)


@pytest.fixture
def imported(runtime, runtime_binary, bundle):
    """imported(*args): every module the command imports, in all of its processes."""
    with open(runtime_binary) as f:
        interpreter = f.readline()[2:].split()[0]  # the launcher's own (#!python -IS)
    traced = Runtime(runtime.root, prefix=(interpreter, "-I", "-S", "-X", "importtime"))

    def run(*args: str) -> set[str]:
        stderr = traced(*args, cwd=bundle.path).stderr
        return {
            line.split("|")[2].strip()
            for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        }

    return run


def test_run_of_a_known_config_imports_no_heavy_module(runtime, bundle, imported):
    runtime("run", runtime.new_id(), cwd=bundle.path)  # the config is validated once
    assert imported("run", runtime.new_id()) & HEAVY == set()


@pytest.mark.parametrize("command", ["start", "state", "kill", "delete"])
def test_lifecycle_command_imports_no_heavy_module(runtime, bundle, imported, command):
    bundle.run_args("sleep", "30")
    container_id = runtime.new_id()
    runtime("create", container_id, cwd=bundle.path)
    if command == "delete":
        runtime("kill", container_id, "KILL")
        runtime.wait_status(container_id, "stopped")
    args = [command, container_id] + (["TERM"] if command == "kill" else [])
    assert imported(*args) & HEAVY == set()
