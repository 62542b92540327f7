"""`porter node ...`: one module per command, over the Engine API's /nodes."""

from porter_cli.command import lazy_group

COMMANDS = {
    "ls": "node.ls",
    "list": "node.ls",
    "inspect": "node.inspect",
    "update": "node.update",
    "rm": "node.rm",
    "remove": "node.rm",
}

command = lazy_group("node", "Manage cluster nodes", COMMANDS, hidden=frozenset({"list", "remove"}))
