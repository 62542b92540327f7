"""porter logs / porter container logs."""

from __future__ import annotations

from collections.abc import Callable

import click

from porter_cli.command import client


def since_param(flag: str, value: str | None) -> str | None:
    """--since/--until (`flag`): a unix time, an RFC 3339 time, or a duration before now
    (10m); a bad value is reported under the flag it was given to."""
    if not value:
        return None
    import time

    from porter_cli.container.parsing import duration_ns
    from porter_cli.formatter.units import parse_rfc3339

    if value.replace(".", "", 1).isdigit():
        return value
    if value[-1] in "smh" and value[0].isdigit():
        return f"{time.time() - duration_ns(flag, value) / 1e9:.9f}"
    try:
        return f"{parse_rfc3339(value):.9f}"
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time, a unix timestamp or a duration", param_hint=f"'{flag}'"
        ) from None


def log_params(
    follow: bool, timestamps: bool, tail: str, since: str | None, until: str | None, details: bool
) -> dict[str, object]:
    """The query of a logs request (a container's, a service's), from the command's options."""
    if tail != "all" and not tail.isdigit():
        raise click.BadParameter(f"{tail!r} is not a number or 'all'", param_hint="'--tail'")
    return {
        "stdout": True,
        "stderr": True,
        "follow": follow or None,
        "timestamps": timestamps or None,
        "tail": tail,
        "since": since_param("--since", since),
        "until": since_param("--until", until),
        "details": details or None,
    }


def log_options(command: Callable[..., None]) -> Callable[..., None]:
    """-f, -t, -n/--tail and --since, the options of every logs command."""
    for option in reversed(
        (
            click.option("-f", "--follow", is_flag=True, help="Follow log output"),
            click.option("-t", "--timestamps", is_flag=True, help="Show timestamps"),
            click.option(
                "-n",
                "--tail",
                default="all",
                help="Number of lines to show from the end of the logs",
            ),
            click.option("--since", help="Show logs since timestamp or relative (e.g. 42m)"),
        )
    ):
        command = option(command)
    return command


@click.command("logs")
@log_options
@click.option("--until", help="Show logs before a timestamp or relative (e.g. 42m)")
@click.option("--details", is_flag=True, help="Show extra details provided to logs")
@click.argument("container")
def command(
    follow: bool,
    timestamps: bool,
    tail: str,
    since: str | None,
    until: str | None,
    details: bool,
    container: str,
) -> None:
    """Fetch the logs of a container."""
    from porter_cli.client.api import path_part
    from porter_cli.terminal import copy_output

    params = log_params(follow, timestamps, tail, since, until, details)
    api = client()
    info = api.get_json(f"/containers/{path_part(container)}/json")
    tty = bool((info.get("Config") or {}).get("Tty"))
    response = api.request("GET", f"/containers/{info['Id']}/logs", params)
    with response:
        copy_output(response, tty)
