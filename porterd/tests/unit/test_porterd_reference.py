"""porterd's reference page is generated from its click command and kept up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from porterd.cli import command

GEN = Path(__file__).resolve().parents[2] / "docs" / "porterd" / "gen.py"


def test_the_reference_page_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GEN), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_every_option_has_a_help_text() -> None:
    ctx = click.Context(command, info_name="porterd")
    missing = [
        param.name
        for param in command.get_params(ctx)
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []
