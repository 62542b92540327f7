"""`porter-image login HOST`: check credentials against a registry, then store them."""

from __future__ import annotations

import sys
from typing import Any

import click

from porter_image.cli.registry_options import (
    common_registry_options,
    options_from,
    tls_verify_option,
)
from porter_image.distribution.auth import Credentials
from porter_image.login import login, registry_host


@click.command("login")
@click.argument("host", metavar="HOST[:PORT]")
@click.option("-u", "--username", help="User name (asked for when not given).")
@click.option("-p", "--password", help="Password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@tls_verify_option("--tls-verify", "of the registry")
@common_registry_options
def command(
    host: str,
    username: str | None,
    password: str | None,
    password_stdin: bool,
    tls_verify: bool,
    **kwargs: Any,
) -> None:
    """Log in to a registry: the credentials are checked first, then kept in
    ${DOCKER_CONFIG:-~/.docker}/config.json (mode 0600) or its credential helper."""
    host = registry_host(host)
    if password and password_stdin:
        raise click.UsageError("--password and --password-stdin cannot be used together")
    if password_stdin:
        if not username:
            raise click.UsageError("--password-stdin needs --username")
        password = sys.stdin.read().rstrip("\r\n")
    username = username or click.prompt("Username", err=True)
    if not password:
        password = click.prompt("Password", hide_input=True, err=True)
    options = options_from({"tls_verify": tls_verify, **kwargs})
    where = login(host, Credentials(username or "", password or ""), options)
    click.echo(f"Login Succeeded (credentials stored in {where})")
