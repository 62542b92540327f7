"""`porter container ...`: one module per command."""

from porter_cli.command import lazy_group

COMMANDS = {
    "run": "container.run",
    "create": "container.create",
    "start": "container.start",
    "stop": "container.stop",
    "kill": "container.kill",
    "restart": "container.restart",
    "rm": "container.rm",
    "remove": "container.rm",
    "ls": "container.ls",
    "ps": "container.ls",
    "list": "container.ls",
    "logs": "container.logs",
    "inspect": "container.inspect",
    "wait": "container.wait",
    "exec": "container.exec",
    "attach": "container.attach",
    "rename": "container.rename",
    "top": "container.top",
    "stats": "container.stats",
    "pause": "container.pause",
    "unpause": "container.unpause",
    "cp": "container.cp",
    "commit": "container.commit",
    "diff": "container.diff",
    "export": "container.export",
    "port": "container.port",
    "prune": "container.prune",
}

command = lazy_group(
    "container", "Manage containers", COMMANDS, hidden=frozenset({"ps", "list", "remove"})
)
