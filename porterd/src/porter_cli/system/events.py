"""porter events / porter system events: the daemon's events, live or for a time range."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, filter_option, filters_param, format_option


def describe(event: dict[str, Any]) -> str:
    """docker's line: TIME TYPE ACTION ID (attr=value, ...)."""
    import time

    nanos = event.get("timeNano") or int((event.get("time") or 0) * 1e9)
    seconds, fraction = divmod(int(nanos), 10**9)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    details = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    line = f"{stamp} {event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    return f"{line} ({details})" if details else line


@click.command("events")
@click.option("--since", help="Show all events created since timestamp")
@click.option("--until", help="Stream events until this timestamp")
@filter_option()
@format_option()
def command(
    since: str | None, until: str | None, filters: tuple[str, ...], format_: str | None
) -> None:
    """Get real time events from the server."""
    from porter_cli.client.stream import json_messages
    from porter_cli.container.logs import since_param
    from porter_cli.formatter.output import render_rows

    params = {
        "since": since_param("--since", since),
        "until": since_param("--until", until),
        "filters": filters_param(filters),
    }
    response = client().request("GET", "/events", params)
    for event in json_messages(response.iter_chunks(1024)):
        click.echo(describe(event) if not format_ else render_rows([event], format_, "", {}))
