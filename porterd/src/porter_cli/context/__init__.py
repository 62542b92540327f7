"""`porter context ...`: named daemons (host and TLS files) to switch between."""

from porter_cli.command import lazy_group

COMMANDS = {
    "create": "context.create",
    "use": "context.use",
    "ls": "context.ls",
    "list": "context.ls",
    "rm": "context.rm",
    "remove": "context.rm",
    "inspect": "context.inspect",
    "show": "context.show",
}

command = lazy_group("context", "Manage contexts", COMMANDS, hidden=frozenset({"list", "remove"}))
