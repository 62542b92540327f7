"""`porterd`: the daemon's command line, with dockerd's flags and daemon.json.

    porterd --data-root /var/lib/porter -H unix:///run/porter/porter.sock
    porterd -H tcp://0.0.0.0:2376 --tlsverify --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem

Every failure to start is one line on stderr and exit status 1.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from porter_specs.errors import PorterError

from porterd import config as settings

_LOG_LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40, "fatal": 50}
# click parameter -> DaemonConfig field, for those whose names differ.
_FIELDS = {
    "host": "hosts",
    "add_runtime": "runtimes",
    "registry_mirror": "registry_mirrors",
    "insecure_registry": "insecure_registries",
    "default_address_pool": "default_address_pools",
}


_PATHS = ("data_root", "exec_root", "pidfile", "tlscacert", "tlscert", "tlskey")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=_LOG_LEVELS[level],
        format="time=%(asctime)s level=%(levelname)s msg=%(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        stream=sys.stderr,
    )


def _explicit_flags(ctx: click.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The flags given on the command line, as DaemonConfig fields."""
    flags: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("config_file", "print_openapi"):
            continue
        if ctx.get_parameter_source(name) != ParameterSource.COMMANDLINE:
            continue
        if name == "add_runtime":
            value = dict(settings.parse_runtime(item) for item in value)
        elif name in _PATHS:
            value = Path(value).absolute()
        flags[_FIELDS.get(name, name)] = value
    return flags


def load_config(ctx: click.Context, values: dict[str, Any]) -> settings.DaemonConfig:
    flags = _explicit_flags(ctx, values)
    config_file = values["config_file"]
    if config_file is not None:
        file_settings = settings.read_file(Path(config_file))
    elif settings.DEFAULT_CONFIG_FILE.exists():
        file_settings = settings.read_file(settings.DEFAULT_CONFIG_FILE)
    else:
        file_settings = {}
    return settings.merge(flags, file_settings).checked()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-root",
    type=click.Path(),
    help="Root of porterd's persistent state (default /var/lib/porter).",
)
@click.option(
    "--exec-root",
    type=click.Path(),
    help="Root of porterd's execution state (default /run/porter).",
)
@click.option(
    "-H",
    "--host",
    multiple=True,
    help="Socket to listen on: unix:///PATH or tcp://HOST:PORT (repeatable).",
)
@click.option(
    "--tlsverify",
    is_flag=True,
    default=False,
    help="Require clients to present a certificate signed by --tlscacert.",
)
@click.option("--tlscacert", type=click.Path(), help="The CA that signs client certificates.")
@click.option("--tlscert", type=click.Path(), help="This daemon's TLS certificate.")
@click.option("--tlskey", type=click.Path(), help="This daemon's TLS key.")
@click.option(
    "--default-runtime",
    help="The OCI runtime of containers that name none (default porter-runtime).",
)
@click.option(
    "--add-runtime",
    multiple=True,
    metavar="NAME=PATH",
    help="Register an OCI runtime (repeatable).",
)
@click.option(
    "--registry-mirror", multiple=True, help="A registry mirror for Docker Hub (repeatable)."
)
@click.option(
    "--insecure-registry",
    multiple=True,
    help="A registry reached over plain HTTP or unverified TLS (repeatable).",
)
@click.option("--bip", help="The default bridge's address and subnet (CIDR).")
@click.option(
    "--default-address-pool",
    multiple=True,
    metavar="base=CIDR,size=N",
    help="Where networks' subnets come from (repeatable).",
)
@click.option(
    "--icc", type=click.BOOL, help="Whether containers on the default bridge reach each other."
)
@click.option(
    "--config-file",
    type=click.Path(),
    help="daemon.json-style settings (default /etc/porter/daemon.json).",
)
@click.option(
    "-l", "--log-level", type=click.Choice(settings.LOG_LEVELS), help="Log level (default info)."
)
@click.option(
    "-p",
    "--pidfile",
    type=click.Path(),
    help="Where to write porterd's pid (default EXEC_ROOT/porterd.pid).",
)
@click.option(
    "--cluster-store",
    metavar="URLS",
    help="Join the cluster whose state is in these etcd endpoints (http://HOST:2379,...).",
)
@click.option("--advertise-addr", metavar="ADDR", help="The address other nodes reach this one at.")
@click.option(
    "--print-openapi",
    is_flag=True,
    help="Print the OpenAPI description of the API porterd serves, and exit.",
)
@click.version_option("0.1.0", prog_name="porterd")
@click.pass_context
def command(ctx: click.Context, **values: Any) -> None:
    """porterd: Porter's daemon, serving the Docker Engine API (1.43, down to 1.24).

    It keeps images, containers (each watched by conmon, so they outlive porterd), volumes and
    networks under --data-root, and serves the API on each -H address: a unix socket (mode
    0660) or TCP, which needs --tlsverify and takes only clients with a certificate signed by
    --tlscacert. Settings may also come from --config-file, with dockerd's daemon.json keys; a
    setting given both ways is refused. One porterd runs per data root. SIGTERM or SIGINT stops
    it; the containers keep running for the next porterd.
    """
    try:
        if values["print_openapi"]:
            import json

            from porterd.api.openapi import describe_daemon_api

            click.echo(json.dumps(describe_daemon_api(), indent=2))
            return
        config = load_config(ctx, values)
        _configure_logging(config.log_level)
        from porterd.daemon import serve

        serve(config)
    except PorterError as error:
        click.echo(f"porterd: {error}", err=True)
        sys.exit(1)
    except OSError as error:  # a data root, exec root or pid file it cannot make or write
        where = f"{error.filename}: " if error.filename else ""
        click.echo(f"porterd: {where}{error.strerror or error}", err=True)
        sys.exit(1)


def main() -> None:
    command(prog_name="porterd")


def config_from_args(args: list[str]) -> settings.DaemonConfig:
    """The configuration a command line (and the config file it names) gives, without starting."""
    ctx = command.make_context("porterd", list(args))
    return load_config(ctx, ctx.params)


if __name__ == "__main__":
    main()
