"""porter tls init: a CA, a server certificate for porterd and a client certificate for
porter, for mutual TLS on TCP (written with `cryptography`)."""

from __future__ import annotations

import click

from porter_cli.command import session


@click.command("init")
@click.option(
    "--dir", "directory", help="Where to write the files (default: porter's config folder)"
)
@click.option(
    "--hostname",
    "hostnames",
    multiple=True,
    help="A DNS name of the daemon (repeatable; default localhost)",
)
@click.option(
    "--ip",
    "addresses",
    multiple=True,
    help="An IP address of the daemon (repeatable; default 127.0.0.1)",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="Validity of the certificates",
)
@click.option("--force", is_flag=True, help="Replace existing files")
def command(
    directory: str | None,
    hostnames: tuple[str, ...],
    addresses: tuple[str, ...],
    days: int,
    force: bool,
) -> None:
    """Make ca.pem, ca-key.pem, server-cert.pem, server-key.pem, cert.pem and key.pem.

    Start porterd with --tlsverify --tlscacert ca.pem --tlscert server-cert.pem --tlskey
    server-key.pem; porter finds ca.pem, cert.pem and key.pem in its config folder.
    """
    from pathlib import Path

    from porter_cli.certificates import write_certificates

    target = Path(directory) if directory else session().config_dir
    written = write_certificates(
        target, hostnames or ("localhost",), addresses or ("127.0.0.1",), days, force
    )
    for path in written:
        click.echo(str(path))
