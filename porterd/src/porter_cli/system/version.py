"""porter version: the client's and the daemon's versions."""

from __future__ import annotations

import platform
import sys

import click

from porter_cli.command import client, format_option

DEFAULT = """Client:
 Version:           {{.Client.Version}}
 API version:       {{.Client.ApiVersion}}
 Python version:    {{.Client.PythonVersion}}
 OS/Arch:           {{.Client.Os}}/{{.Client.Arch}}
{{if .Server}}
Server:
 Version:           {{.Server.Version}}
 API version:       {{.Server.ApiVersion}} (minimum version {{.Server.MinAPIVersion}})
 OS/Arch:           {{.Server.Os}}/{{.Server.Arch}}
 Kernel Version:    {{.Server.KernelVersion}}{{end}}"""


def client_version() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from porter_cli.client.api import MAX_VERSION

    try:
        own = version("porter")
    except PackageNotFoundError:
        own = "unknown"
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {
        "Version": own,
        "ApiVersion": MAX_VERSION,
        "PythonVersion": platform.python_version(),
        "Os": sys.platform,
        "Arch": arch,
    }


@click.command("version")
@format_option()
def command(format_: str | None) -> None:
    """Show the porter and daemon version information."""
    import json

    from porter_specs.errors import PorterError

    from porter_cli.formatter.template import Template

    info: dict[str, object] = {"Client": client_version(), "Server": None}
    failure = None
    try:
        info["Server"] = client().get_json("/version")
        info["Client"]["ApiVersion"] = client().version  # type: ignore[index]
    except PorterError as error:
        failure = error
    if format_ == "json":
        click.echo(json.dumps(info, separators=(",", ":")))
    else:
        click.echo(Template(format_ or DEFAULT).render(info))
    if failure is not None:
        raise failure
