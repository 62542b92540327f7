"""porter login: check credentials with the daemon (POST /auth) and keep them in config.json."""

from __future__ import annotations

import sys

import click

from porter_cli.client.reference import DEFAULT_REGISTRY
from porter_cli.command import client, session


@click.command("login")
@click.option("-u", "--username", help="Username")
@click.option("-p", "--password", help="Password")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin")
@click.argument("server", required=False)
def command(
    username: str | None, password: str | None, password_stdin: bool, server: str | None
) -> None:
    """Log in to a registry (docker.io when SERVER is not given)."""
    from porter_cli.client.auth import encode_login
    from porter_cli.errors import CliError

    if password and password_stdin:
        raise CliError("--password and --password-stdin are mutually exclusive")
    if password_stdin:
        if not username:
            raise CliError("must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    elif password:
        click.echo(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.", err=True
        )
    if not username:
        username = click.prompt("Username")
    if not password:
        password = click.prompt("Password", hide_input=True)
    registry = server or DEFAULT_REGISTRY
    body = {"username": username, "password": password, "serveraddress": registry}
    result = client().post_json("/auth", body=body) or {}
    session().config.set_auth(registry, encode_login(username or "", password or ""))
    click.echo(result.get("Status") or "Login Succeeded")
