"""porter service scale."""

from __future__ import annotations

import click

from porter_cli.command import client


def update_spec(name: str, change, params: dict | None = None) -> None:
    """Read service `name`, change its spec with `change(spec)`, and post it at that version."""
    from porter_cli.client.api import path_part

    api = client()
    service = api.get_json(f"/services/{path_part(name)}")
    spec = change(service["Spec"]) if change is not None else None
    query = {"version": str(service["Version"]["Index"]), **(params or {})}
    api.post_json(f"/services/{path_part(service['ID'])}/update", query, body=spec)


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
