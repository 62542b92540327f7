"""`porter image ...`: one module per command."""

from porter_cli.command import lazy_group

COMMANDS = {
    "ls": "image.ls",
    "list": "image.ls",
    "build": "image.build",
    "pull": "image.pull",
    "push": "image.push",
    "tag": "image.tag",
    "rm": "image.rm",
    "remove": "image.rm",
    "save": "image.save",
    "load": "image.load",
    "import": "image.import_",
    "history": "image.history",
    "inspect": "image.inspect",
    "prune": "image.prune",
}

command = lazy_group("image", "Manage images", COMMANDS, hidden=frozenset({"list", "remove"}))
