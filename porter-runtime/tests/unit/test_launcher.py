"""How the porter-runtime command ends: with the command's exit code, and as a failure (one
line) when its output could not be written, although it leaves through os._exit."""

import os
import subprocess
import sys

import pytest

# stdout as users' programs get it: buffered, so that a failed write shows only at the flush
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def porter_runtime(*args: str, **kw) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "porter_runtime", *args]
    return subprocess.run(argv, env=ENV, text=True, timeout=30, **kw)


def test_the_exit_code_is_the_commands():
    result = porter_runtime("no-such-command", capture_output=True)
    assert result.returncode == 2
    assert result.stderr == (
        "porter-runtime: error: unknown command 'no-such-command' (see porter-runtime --help)\n"
    )


def test_buffered_output_is_written_before_the_exit():
    result = porter_runtime("--version", capture_output=True)
    assert (result.returncode, result.stdout) == (0, "porter-runtime version 0.1.0\nspec: 1.2.0\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_that_cannot_be_written_fails_with_one_line():
    with open("/dev/full", "w") as full:
        result = porter_runtime("--version", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == "porter-runtime: error: writing <stdout>: No space left on device\n"


def gc_enabled_in(module: str, function: str, *args: str) -> str:
    """What gc.isenabled() says inside `module.function`, run through the launcher."""
    code = (
        "import gc, sys, importlib\n"
        f"m = importlib.import_module({module!r})\n"
        f"setattr(m, {function!r}, lambda *a, **k: print(gc.isenabled()) or 0)\n"
        f"sys.argv = ['porter-runtime', *{list(args)!r}]\n"
        "from porter_runtime.launcher import launch\n"
        "launch()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_command_runs_without_the_cycle_collector():
    assert gc_enabled_in("porter_runtime.cli", "main") == "False"


def test_the_events_stream_runs_with_the_cycle_collector():
    assert gc_enabled_in("porter_runtime.control", "events", "events", "c1") == "True"
