"""The `porter` click group: the global options, the command table (one module per command,
imported only when it runs), and click's errors mapped to one line and an exit code.
porter_cli.main starts here for every command porter_cli.quick does not run itself."""

from __future__ import annotations

import click

from porter_cli.command import CONTEXT_SETTINGS, LazyGroup
from porter_cli.container import COMMANDS as CONTAINER_COMMANDS
from porter_cli.image import COMMANDS as IMAGE_COMMANDS

# command name -> module under porter_cli defining `command`; the nouns are groups.
GROUPS = {
    name: name
    for name in (
        "container",
        "image",
        "volume",
        "network",
        "system",
        "context",
        "tls",
        "service",
        "node",
    )
}
# docker's top-level shortcuts for the nouns' commands
CONTAINER_SHORTCUTS = [
    "run",
    "create",
    "start",
    "stop",
    "kill",
    "restart",
    "rm",
    "logs",
    "wait",
    "exec",
    "attach",
    "rename",
    "top",
    "stats",
    "pause",
    "unpause",
    "cp",
    "commit",
    "diff",
    "export",
    "port",
]
IMAGE_SHORTCUTS = {
    "images": "ls",
    "rmi": "rm",
    **{n: n for n in ["build", "pull", "push", "tag", "save", "load", "import", "history"]},
}
COMMANDS = {
    **GROUPS,
    **{name: CONTAINER_COMMANDS[name] for name in CONTAINER_SHORTCUTS},
    **{name: IMAGE_COMMANDS[command] for name, command in IMAGE_SHORTCUTS.items()},
    "ps": "container.ls",
    "inspect": "inspect",
    "login": "registry.login",
    "logout": "registry.logout",
    "version": "system.version",
    "info": "system.info",
    "events": "system.events",
}


@click.group(
    cls=LazyGroup,
    commands_by_name=COMMANDS,
    context_settings=CONTEXT_SETTINGS,
    no_args_is_help=True,
)
@click.option(
    "-H",
    "--host",
    envvar=None,
    metavar="HOST",
    help="Daemon socket to connect to (unix://PATH or tcp://HOST:PORT); "
    "default $PORTER_HOST, $DOCKER_HOST, the context, unix:///run/porter/porter.sock",
)
@click.option("-c", "--context", metavar="NAME", help="Name of the context to use")
@click.option("--config", metavar="DIR", help="Location of porter's files (default ~/.porter)")
@click.option("--tls", is_flag=True, help="Use TLS; implied by --tlsverify")
@click.option("--tlsverify", is_flag=True, help="Use TLS and verify the daemon's certificate")
@click.option("--tlscacert", metavar="FILE", help="Trust certificates signed by this CA")
@click.option("--tlscert", metavar="FILE", help="Path to the client's TLS certificate")
@click.option("--tlskey", metavar="FILE", help="Path to the client's TLS key")
@click.version_option(
    package_name="porter", prog_name="porter", message="%(prog)s version %(version)s"
)
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """porter: run and manage containers through porterd (or any Docker Engine API)."""
    from porter_cli.session import Options, Session

    ctx.obj = Session(Options(**options))  # type: ignore[arg-type]


def invoke(argv: list[str]) -> int:
    """Run one command under click; its exit code."""
    from porter_cli import errors

    try:
        code = cli.main(args=argv, prog_name="porter", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help() if error.ctx else str(error))
        code = 0
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"porter: {error.format_message()}{hint}", err=True)
        code = errors.USAGE_EXIT
    except click.ClickException as error:
        click.echo(f"porter: {error.format_message()}", err=True)
        code = errors.USAGE_EXIT
    except click.Abort:
        click.echo("", err=True)
        code = 130
    return code if isinstance(code, int) else 0
