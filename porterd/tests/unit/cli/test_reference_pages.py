"""porter's command reference pages match the commands, and every command has a help text."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

GEN = Path(__file__).resolve().parents[3] / "docs" / "porter" / "gen.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("porter_cli_reference_gen", GEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_pages_are_up_to_date() -> None:
    # In a process of its own: click caches a command's help option on the command the first
    # time it is rendered, so a test that invoked `ls` on its own (help: --help only) would
    # change what the pages show in this process.
    check = subprocess.run(
        [sys.executable, str(GEN), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr


def test_every_command_says_what_it_does() -> None:
    missing = [
        " ".join(path)
        for path, command, _ in generator().walk()
        if not (command.help or "").strip()
    ]
    assert missing == []
