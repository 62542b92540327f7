"""`porter system ...`: one module per command."""

from porter_cli.command import lazy_group

COMMANDS = {
    "info": "system.info",
    "df": "system.df",
    "prune": "system.prune",
    "events": "system.events",
    "version": "system.version",
}

command = lazy_group("system", "Manage the daemon", COMMANDS)
