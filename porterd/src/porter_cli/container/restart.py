"""porter restart / porter container restart."""

from __future__ import annotations

from porter_cli.container.lifecycle import stopping_command

command = stopping_command("restart", "Restart one or more containers.")
