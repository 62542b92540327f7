"""`porter volume ...`: one module per command."""

from porter_cli.command import lazy_group

COMMANDS = {
    "create": "volume.create",
    "ls": "volume.ls",
    "list": "volume.ls",
    "inspect": "volume.inspect",
    "rm": "volume.rm",
    "remove": "volume.rm",
    "prune": "volume.prune",
}

command = lazy_group("volume", "Manage volumes", COMMANDS, hidden=frozenset({"list", "remove"}))
