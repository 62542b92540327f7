"""porter context ls."""

from __future__ import annotations

import click

from porter_cli.command import format_option, quiet_option, session

DEFAULT = "table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}"
HEADERS = {
    "Name": "NAME",
    "Description": "DESCRIPTION",
    "DockerEndpoint": "DOCKER ENDPOINT",
    "Current": "CURRENT",
}


@click.command("ls")
@format_option()
@quiet_option("context names")
def command(format_: str | None, quiet: bool) -> None:
    """List contexts."""
    import os

    from porter_cli.client.endpoint import DEFAULT_HOST
    from porter_cli.contexts import ContextStore
    from porter_cli.formatter.output import echo_rows

    current = session()
    store = ContextStore(current.config_dir)
    in_use = current.context_name()
    default_host = os.environ.get("PORTER_HOST") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    rows = [
        {
            "Name": "default",
            "Description": "Current PORTER_HOST based configuration",
            "DockerEndpoint": default_host,
            "Current": in_use == "default",
        }
    ]
    for name in store.names():
        context = store.load(name)
        rows.append(
            {
                "Name": name,
                "Description": context.description,
                "DockerEndpoint": context.host,
                "Current": in_use == name,
            }
        )
    echo_rows(rows, "{{.Name}}" if quiet else format_, DEFAULT, HEADERS)
