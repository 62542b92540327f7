"""`porter service ...`: one module per command, over the Engine API's /services and /tasks."""

from porter_cli.command import lazy_group

COMMANDS = {
    "create": "service.create",
    "ls": "service.ls",
    "list": "service.ls",
    "ps": "service.ps",
    "inspect": "service.inspect",
    "logs": "service.logs",
    "scale": "service.scale",
    "update": "service.update",
    "rollback": "service.rollback",
    "rm": "service.rm",
    "remove": "service.rm",
}

command = lazy_group("service", "Manage services", COMMANDS, hidden=frozenset({"list", "remove"}))
