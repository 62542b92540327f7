"""What every command module uses: the lazy group, the session and client of the running
command, and the options many commands share."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from porter_cli.client.api import Client
    from porter_cli.session import Session

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A group whose commands are modules imported by name when they are looked up, so that
    `porter ps` imports the code of `ps` and nothing else. `commands_by_name` maps a command
    name to a module under porter_cli that defines `command`; `hidden` names (aliases) are
    left out of the help."""

    def __init__(
        self,
        *args: Any,
        commands_by_name: dict[str, str] | None = None,
        hidden: frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.commands_by_name = commands_by_name or {}
        self.hidden_names = hidden

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in self.commands_by_name if name not in self.hidden_names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.commands_by_name.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"porter_cli.{module}").command
        return command


def lazy_group(
    name: str, help_text: str, commands: dict[str, str], hidden: frozenset[str] = frozenset()
) -> click.Group:
    """A noun's group (`porter container ...`) from its table of command modules."""

    def callback() -> None:
        pass

    callback.__doc__ = help_text
    return LazyGroup(
        name=name,
        callback=callback,
        help=help_text,
        commands_by_name=commands,
        hidden=hidden,
        context_settings=CONTEXT_SETTINGS,
        no_args_is_help=True,
    )


def session() -> Session:
    from porter_cli.session import Options, Session

    ctx = click.get_current_context()
    found = ctx.find_object(Session)
    if found is None:  # the command invoked on its own, not under `porter`: default options
        found = Session(Options())
        ctx.obj = found
    return found


def client() -> Client:
    return session().client


def format_option(
    help_text: str = "Format output: 'json', or a Go template ('table ...')", short: bool = False
) -> Callable[[F], F]:
    """--format (and -f where docker has it: inspect-like commands, whose -f is not --filter)."""
    decls = ("-f", "--format", "format_") if short else ("--format", "format_")
    return click.option(*decls, metavar="FORMAT", help=help_text)


def quiet_option(what: str = "IDs") -> Callable[[F], F]:
    return click.option("-q", "--quiet", is_flag=True, help=f"Only display {what}")


def filter_option(short: bool = True) -> Callable[[F], F]:
    """--filter (and -f, except on prune commands whose -f is --force)."""
    return click.option(
        *(("-f",) if short else ()),
        "--filter",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        help="Filter output (e.g. 'name=web', 'status=exited')",
    )


def filters_param(filters: tuple[str, ...]) -> dict[str, list[str]] | None:
    """`-f key=value` options as the API's filters map ({key: [values]})."""
    from porter_cli.quick import filters_map

    try:
        return filters_map(filters)
    except ValueError as error:
        raise click.BadParameter(
            f"bad format of filter {error.args[0]!r} (expected name=value)",
            param_hint="'--filter'",
        ) from error


# How many requests of a many-name command (rm, stop, kill, ...) are in flight at once: as
# many as the docker CLI sends (with 16, `rm -f` of 20 took a second round of removals).
PARALLEL_REQUESTS = 50


def each(
    names: tuple[str, ...],
    action: Callable[[str], str | None],
    echo_name: bool = True,
    parallel: bool = True,
) -> None:
    """Apply `action` to every name as docker's rm/stop/kill do: all names at once (at most
    PARALLEL_REQUESTS in flight), then, in the order given, print for each that succeeded
    its name (`echo_name`) or else the text the action returned, and report each failure on
    its own line; fail at the end if any failed. Actions print nothing themselves, so the
    output keeps the order of the names. Not `parallel`: one name after another (local
    changes to one file, as context rm's)."""
    from porter_specs.errors import PorterError

    from porter_cli.errors import ExitStatus, message

    def attempt(name: str) -> tuple[str | None, PorterError | None]:
        try:
            return action(name), None
        except PorterError as error:
            return None, error

    if parallel and len(names) > 1:
        from concurrent.futures import ThreadPoolExecutor

        from click.globals import pop_context, push_context

        ctx = click.get_current_context()
        client()  # made once, before the threads ask for it

        def attempt_in_context(name: str) -> tuple[str | None, PorterError | None]:
            push_context(ctx)  # click's current context is per thread: the action's client()
            try:
                return attempt(name)
            finally:
                pop_context()

        with ThreadPoolExecutor(max_workers=min(len(names), PARALLEL_REQUESTS)) as pool:
            outcomes = list(pool.map(attempt_in_context, names))
    else:
        outcomes = [attempt(name) for name in names]
    failed = False
    for name, (text, error) in zip(names, outcomes, strict=True):
        if error is not None:
            click.echo(f"porter: {message(error)}", err=True)
            failed = True
        elif echo_name:
            click.echo(name)
        elif text:
            click.echo(text)
    if failed:
        raise ExitStatus(1)
