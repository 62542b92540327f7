"""porter stop / porter container stop."""

from __future__ import annotations

from porter_cli.container.lifecycle import stopping_command

command = stopping_command("stop", "Stop one or more running containers.")
