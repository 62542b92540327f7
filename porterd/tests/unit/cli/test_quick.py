"""porter_cli.quick runs `ps` and `images` without click: its tables are the click commands'
options, it reads a command line as click reads it, and it leaves every command line it does
not fully understand to click."""

from __future__ import annotations

import inspect
from typing import Any

import click
import pytest
from porter_cli import quick
from porter_cli.cli import cli, invoke
from porter_cli.container.ls import command as ps_command
from porter_cli.formatter.containers import list_containers
from porter_cli.formatter.images import list_images
from porter_cli.image.ls import command as images_command
from porter_cli.system.version import command as version_command
from porter_cli.version_info import show_version

LEFT_TO_CLICK = {"-h", "--help", "--version"}


def click_table(command: click.Command) -> dict[str, tuple[str, str]]:
    """A click command's options as quick's table spells them."""
    table = {}
    for param in command.params:
        if not isinstance(param, click.Option) or LEFT_TO_CLICK & set(param.opts):
            continue
        if param.is_flag:
            kind = "flag"
        elif param.multiple:
            kind = "multiple"
        elif isinstance(param.type, click.types.IntParamType):
            kind = "int"
        else:
            kind = "value"
        table.update({opt: (str(param.name), kind) for opt in param.opts})
    return table


@pytest.mark.parametrize(
    ("table", "command"),
    [
        (quick.GLOBAL_OPTIONS, cli),
        (quick.PS_OPTIONS, ps_command),
        (quick.IMAGES_OPTIONS, images_command),
        (quick.VERSION_OPTIONS, version_command),
    ],
    ids=["global", "ps", "images", "version"],
)
def test_the_tables_are_the_click_commands_options(table: object, command: click.Command) -> None:
    assert table == click_table(command)


def test_the_arguments_are_the_click_commands_arguments() -> None:
    def arguments(command: click.Command) -> tuple[str, ...]:
        return tuple(str(p.name) for p in command.params if isinstance(p, click.Argument))

    names = quick.ARGUMENT_NAMES
    assert (names["containers"], names["images"], names["version"]) == (
        arguments(ps_command),
        arguments(images_command),
        arguments(version_command),
    )


def click_reading(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str, Any]:
    """(the global options, the listing, its arguments) as click hands them over."""
    from porter_cli.session import Session

    seen: list[tuple[Any, str, dict[str, Any]]] = []

    def recorder(listing: str):  # type: ignore[no-untyped-def]
        def record(client: object, **options: Any) -> None:
            session = click.get_current_context().find_object(Session)
            seen.append((vars(session.options) if session else None, listing, options))

        return record

    monkeypatch.setattr("porter_cli.container.ls.client", lambda: None)
    monkeypatch.setattr("porter_cli.image.ls.client", lambda: None)
    monkeypatch.setattr("porter_cli.system.version.client", lambda: None)
    monkeypatch.setattr("porter_cli.formatter.containers.list_containers", recorder("containers"))
    monkeypatch.setattr("porter_cli.formatter.images.list_images", recorder("images"))
    monkeypatch.setattr("porter_cli.version_info.show_version", recorder("version"))
    assert invoke(argv) == 0
    (reading,) = seen
    return reading


def quick_reading(argv: list[str]) -> tuple[Any, str, Any]:
    """quick's reading of `argv`, with the defaults its listing fills in."""
    from porter_cli.session import Options

    global_options, listing, options = quick.parse(argv)
    functions = {"containers": list_containers, "images": list_images, "version": show_version}
    function = functions[listing]
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    return vars(Options(**global_options)), listing, {**defaults, **options}


@pytest.mark.parametrize(
    "argv",
    [
        ["ps"],
        ["-H", "unix:///x.sock", "ps", "-a"],
        ["--host=unix:///x.sock", "ps", "-aq"],
        ["-Hunix:///x.sock", "container", "ls", "-n", "5"],
        ["ps", "-n5", "--no-trunc"],
        ["ps", "--last=7", "-l", "-s"],
        ["ps", "-aqn", "3"],
        ["ps", "-f", "status=exited", "--filter", "Name=web", "--format", "{{.ID}}"],
        ["container", "list", "--quiet", "--all", "--size", "--latest"],
        ["--tls", "--tlsverify", "--tlscacert", "ca", "--tlscert", "c", "--tlskey", "k", "ps"],
        ["-c", "remote", "--config", "/etc/porter", "container", "ps"],
        ["images"],
        ["images", "busybox", "-q"],
        ["image", "ls", "--digests", "-a", "busybox:1"],
        ["image", "list", "--filter", "dangling=true", "--no-trunc"],
        ["images", "--", "-a"],
        ["version"],
        ["-H", "unix:///x.sock", "system", "version", "--format", "{{.Client.Version}}"],
    ],
)
def test_a_command_line_reads_as_click_reads_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert quick_reading(argv) == click_reading(argv, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--version"],
        ["-h"],
        ["ps", "--help"],
        ["ps", "-x"],
        ["ps", "--nope"],
        ["ps", "-n", "many"],
        ["ps", "-n"],
        ["ps", "--all=1"],
        ["ps", "stray"],
        ["ps", "-f", "no-equals-sign"],
        ["ps", "-H", "unix:///x.sock"],
        ["images", "a", "b"],
        ["container", "inspect", "web"],
        ["volume", "ls"],
        ["version", "-f", "json"],
        ["system", "info"],
        ["--debug", "ps"],
    ],
)
def test_a_command_line_it_does_not_know_is_left_to_click(argv: list[str]) -> None:
    with pytest.raises(quick.NotMine):
        quick.parse(argv)
