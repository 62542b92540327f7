"""What the lifecycle commands import: the hot paths stay clear of the heavy modules.

A container's whole `run` is some 35 ms, and importing ctypes, typing, re or logging costs
1 to 3 ms each, so they are kept off every path a plain container takes (the runtime's
processes and the container's init alike). Every create checks its config against the
runtime-spec schema, without jsonschema (porter_specs' schema_check) for a valid config, and
without `re` (schema_pattern) for its patterns.

Each check runs against two installs of the command: the dev venv's (editable) and one made
the way users get it, from Porter's wheel into a fresh venv. Both run as installed, through
their shebang's interpreter with its site module, so what start-up itself imports counts too.
"""

from __future__ import annotations

import os

import pytest

from .conftest import run_to_files

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


@pytest.fixture(params=["editable", "wheel"])
def installed_command(request, runtime_binary) -> str:
    """The porter-runtime under test: the dev venv's, or the one installed from the wheel."""
    if request.param == "editable":
        return runtime_binary
    return str(request.getfixturevalue("installed_porter").command("porter-runtime"))


@pytest.fixture
def imported(runtime, installed_command, bundle):
    """imported(*args): every module `installed_command` imports, in all of its processes, run
    on the containers of `runtime` (same --root)."""
    with open(installed_command) as f:
        interpreter, *flags = f.readline()[2:].split()  # what the kernel runs the command with

    def run(*args: str) -> set[str]:
        argv = [interpreter, *flags, "-X", "importtime", installed_command]
        result = run_to_files([*argv, "--root", runtime.root, *args], cwd=bundle.path, timeout=30)
        assert result.returncode == 0, f"{installed_command} {' '.join(args)}: {result.stderr}"
        return {
            line.split("|")[2].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        }

    return run


def test_run_imports_no_heavy_module(runtime, bundle, imported):
    assert imported("run", runtime.new_id()) & HEAVY == set()


def test_create_of_a_valid_config_imports_no_jsonschema(runtime, bundle, imported):
    modules = imported("create", runtime.new_id())
    assert {m for m in modules if m.split(".")[0] in ("jsonschema", "referencing")} == set()


def test_create_remembers_nothing_of_the_config(runtime, bundle):
    """The schema check is cheap enough for every create: no record of checked configs."""
    container_id = runtime.new_id()
    runtime("create", container_id, cwd=bundle.path)
    assert sorted(os.listdir(runtime.root)) == [container_id]


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


def test_create_without_hooks_imports_no_hooks_module(runtime, bundle, imported):
    """The runtime and the init import the hooks module only for a config that has hooks."""
    assert "porter_runtime.hooks" not in imported("create", runtime.new_id())


def test_delete_of_a_stopped_container_imports_no_cgroup_module(runtime, bundle, imported):
    """Its cgroup's directories, saved at create, are removed without the cgroup package."""
    container_id = runtime.new_id()
    runtime("create", container_id, cwd=bundle.path)
    runtime("kill", container_id, "KILL")
    runtime.wait_status(container_id, "stopped")
    modules = imported("delete", container_id)
    assert {m for m in modules if m.startswith("porter_runtime.cgroups")} == set()


def test_a_module_beside_the_command_does_not_stand_in_for_pythons(installed_porter, tmp_path):
    """The interpreter puts a script's folder first on sys.path (pip leaves -I out of the
    interpreter line it writes); the command takes it off before importing anything of its
    own, so a `_json.py` in bin is not the _json of the state command's JSON."""
    install = installed_porter.install_alone(tmp_path / "venv")
    stand_in = install.command("_json.py")
    stand_in.write_text("raise SystemExit('porter-runtime imported bin/_json.py')\n")
    command = str(install.command("porter-runtime"))
    result = run_to_files([command, "--root", str(tmp_path / "root"), "state", "no-such-id"])
    assert (result.returncode, result.stderr) == (
        1,
        "porter-runtime: error: container 'no-such-id' does not exist\n",
    )
