"""`porter network ...`: one module per command."""

from porter_cli.command import lazy_group

COMMANDS = {
    "create": "network.create",
    "ls": "network.ls",
    "list": "network.ls",
    "inspect": "network.inspect",
    "rm": "network.rm",
    "remove": "network.rm",
    "prune": "network.prune",
    "connect": "network.connect",
    "disconnect": "network.disconnect",
}

command = lazy_group("network", "Manage networks", COMMANDS, hidden=frozenset({"list", "remove"}))
