"""porter context create."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import session


def parse_docker_spec(spec: str) -> dict[str, str]:
    """--docker "host=tcp://h:2376,ca=ca.pem,cert=cert.pem,key=key.pem,skip-tls-verify=false"."""
    from porter_cli.errors import CliError

    fields = {}
    for item in spec.split(","):
        key, sep, value = item.partition("=")
        if not sep or key not in ("host", "ca", "cert", "key", "skip-tls-verify"):
            raise CliError(
                f"invalid --docker field {item!r}: expected host, ca, cert, key, skip-tls-verify"
            )
        fields[key] = value
    return fields


@click.command("create")
@click.option("--description", default="", help="Description of the context")
@click.option(
    "--docker",
    "docker_spec",
    metavar="host=...,ca=...,cert=...,key=...",
    help="The endpoint, as docker's --docker",
)
@click.option("--host", help="The daemon's address (unix://PATH or tcp://HOST:PORT)")
@click.option("--tlscacert", help="Trust certificates signed by this CA")
@click.option("--tlscert", help="The client's TLS certificate")
@click.option("--tlskey", help="The client's TLS key")
@click.option(
    "--tlsverify/--no-tlsverify", default=True, help="Verify the daemon's certificate (with TLS)"
)
@click.argument("name")
def command(
    description: str,
    docker_spec: str | None,
    host: str | None,
    tlscacert: str | None,
    tlscert: str | None,
    tlskey: str | None,
    tlsverify: bool,
    name: str,
) -> None:
    """Create a context: a named daemon address with its TLS files."""
    from porter_cli.contexts import ContextStore
    from porter_cli.errors import CliError

    fields = parse_docker_spec(docker_spec) if docker_spec else {}
    host = host or fields.get("host")
    if not host:
        raise CliError("a context needs a host: --host ADDRESS or --docker host=ADDRESS")
    ca, cert, key = (
        tlscacert or fields.get("ca"),
        tlscert or fields.get("cert"),
        tlskey or fields.get("key"),
    )
    verify = tlsverify and fields.get("skip-tls-verify", "false") != "true"
    tls: dict[str, Any] | None = None
    if ca or cert or key:
        tls = {"ca": ca, "cert": cert, "key": key, "verify": verify}
    ContextStore(session().config_dir).create(name, host, description, tls)
    click.echo(name)
    click.echo(f'Successfully created context "{name}"', err=True)
