"""porter service scale."""

from __future__ import annotations

import click

from porter_cli.command import client

UPDATE_ATTEMPTS = 3


def update_spec(name: str, change, params: dict | None = None) -> None:
    """Read service `name`, change its spec with `change(spec)`, and post it at that version.

    The cluster itself bumps a service's version (an update's progress, a rollback), so a 409
    for a version that moved on is answered by reading the service again and applying the same
    change to what is there now, a few times, before the conflict reaches the user.
    """
    from porter_cli.client.api import path_part
    from porter_cli.client.errors import APIError

    api = client()
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        service = api.get_json(f"/services/{path_part(name)}")
        spec = change(service["Spec"]) if change is not None else None
        query = {"version": str(service["Version"]["Index"]), **(params or {})}
        try:
            api.post_json(f"/services/{path_part(service['ID'])}/update", query, body=spec)
            return
        except APIError as error:
            if error.status != 409 or attempt == UPDATE_ATTEMPTS:
                raise


@click.command("scale")
@click.option("-d", "--detach", is_flag=True, help="Exit immediately (porter never waits)")
@click.argument("pairs", nargs=-1, required=True, metavar="SERVICE=REPLICAS...")
def command(detach: bool, pairs: tuple[str, ...]) -> None:
    """Scale one or more replicated services."""
    from porter_cli.errors import CliError

    for pair in pairs:
        name, sep, count = pair.partition("=")
        if not sep or not name or not count.lstrip("-").isdigit():
            raise CliError(f"invalid scale specifier {pair!r}: expected SERVICE=REPLICAS", 125)
        replicas = int(count)
        if replicas < 0:
            raise CliError(f"invalid replica count {replicas}: it cannot be negative", 125)

        def scaled(spec: dict, replicas: int = replicas, name: str = name) -> dict:
            if "Global" in spec.get("Mode", {}):
                raise CliError(f"{name}: scale can only be used with replicated mode", 125)
            return {**spec, "Mode": {"Replicated": {"Replicas": replicas}}}

        update_spec(name, scaled)
        click.echo(f"{name} scaled to {replicas}")
