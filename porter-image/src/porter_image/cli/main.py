"""porter-image's entry point: the command group and its subcommands (one module each).

A subcommand's module is imported only when that command runs (or when help lists them
all): each pulls in the library it drives (layers, compression, schemas), and a command
should pay only for its own imports, not for every other command's.
"""

from __future__ import annotations

import importlib

import click

from porter_image.cli.errors import ErrorMappingGroup

# command name -> module under porter_image.cli that defines `command`
COMMANDS = {
    "init": "init",
    "import": "import_",
    "unpack": "unpack",
    "repack": "repack",
    "config": "config",
    "inspect": "inspect",
    "validate": "validate",
    "tag": "tag",
    "untag": "untag",
    "list": "list_",
    "gc": "gc",
    "fsck": "fsck",
    "copy": "copy",
    "list-tags": "list_tags",
    "delete": "delete",
    "referrers": "referrers",
    "login": "login",
    "logout": "logout",
    "build": "build",
}


class LazyGroup(ErrorMappingGroup):
    """A group whose subcommands are imported by name when they are looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"porter_image.cli.{module}").command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="porter", prog_name="porter-image")
def cli() -> None:
    """porter-image: OCI image layouts, images and layers.

    An image is named LAYOUT:TAG everywhere, as with umoci and skopeo's oci: transport;
    a layout that does not exist yet is created by the first command that writes to it.
    """


def all_commands() -> dict[str, click.Command]:
    """Every subcommand by name, imported (for documentation and tests)."""
    ctx = click.Context(cli, info_name="porter-image")
    commands = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    return {name: command for name, command in commands.items() if command is not None}


def main() -> None:
    cli(prog_name="porter-image")
