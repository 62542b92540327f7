"""porter-registry's command line: `serve` and `gc`. Thin: parse, build, call, print."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from porter_specs.errors import PorterError

from porter_registry.config import LOG_LEVELS, ConfigError, RegistryConfig, build_config, read_file

ENV = "PORTER_REGISTRY_"


def _fail(error: PorterError) -> None:
    click.echo(f"porter-registry: {error}", err=True)
    sys.exit(2 if isinstance(error, ConfigError) else 1)


def _load(config_path: str | None, overrides: dict[str, Any]) -> RegistryConfig:
    document = read_file(config_path) if config_path else None
    config = build_config(document, overrides, source=config_path or "config")
    if not config.data:
        raise ConfigError("no data folder: give --data, PORTER_REGISTRY_DATA or `data` in the file")
    return config


def open_registry(config: RegistryConfig) -> Any:
    """The registry over the configured data folder, with the configured upstream."""
    from porter_registry.from_config import build_upstream
    from porter_registry.registry import Registry, RegistryPolicy
    from porter_registry.storage import paths
    from porter_registry.storage.filesystem import FilesystemDriver
    from porter_registry.storage.locks import PushLock

    policy = RegistryPolicy(
        delete_enabled=config.delete_enabled,
        # A pull-through cache takes no pushes.
        read_only=config.read_only or bool(config.proxy.url),
        max_manifest_bytes=config.limits.max_manifest_bytes,
    )
    driver = FilesystemDriver(config.data)
    lock = PushLock(Path(config.data) / paths.GC_LOCK)
    return Registry(driver, lock, policy, build_upstream(config.proxy))


config_option = click.option(
    "--config", "config_path", envvar=f"{ENV}CONFIG", type=click.Path(dir_okay=False),
    help="Config file, TOML (.toml) or JSON. Flags and PORTER_REGISTRY_* override it.",
)  # fmt: skip
data_option = click.option(
    "--data", envvar=f"{ENV}DATA", type=click.Path(file_okay=False),
    help="Data folder holding blobs, repositories and uploads (created if missing).",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """An OCI distribution-spec v1.1 registry.

    \b
    porter-registry serve --listen 127.0.0.1:5000 --data /srv/registry
    porter-registry gc --data /srv/registry --delete-untagged --dry-run
    """


@main.command()
@config_option
@data_option
@click.option("--listen", envvar=f"{ENV}LISTEN", help="HOST:PORT to listen on (port 0: any free).")
@click.option("--tls-cert", envvar=f"{ENV}TLS_CERT", help="PEM certificate (chain): serve HTTPS.")
@click.option("--tls-key", envvar=f"{ENV}TLS_KEY", help="PEM private key of --tls-cert.")
@click.option(
    "--delete/--no-delete", "delete_enabled", default=None, envvar=f"{ENV}DELETE_ENABLED",
    help="Allow DELETE of manifests, tags and blobs (default: allowed).",
)  # fmt: skip
@click.option(
    "--read-only/--read-write", "read_only", default=None, envvar=f"{ENV}READ_ONLY",
    help="Refuse every push (default: read-write).",
)  # fmt: skip
@click.option(
    "--proxy", "proxy_url", envvar=f"{ENV}PROXY",
    help="Serve as a read-only pull-through cache of the registry at this URL.",
)  # fmt: skip
@click.option("--threads", type=int, envvar=f"{ENV}THREADS", help="Worker threads (default 16).")
@click.option(
    "--max-manifest-bytes", type=int, envvar=f"{ENV}MAX_MANIFEST_BYTES",
    help="Largest manifest accepted (default 4 MiB).",
)  # fmt: skip
@click.option(
    "--log-level", type=click.Choice(LOG_LEVELS), envvar=f"{ENV}LOG_LEVEL",
    help="Logging threshold (default info).",
)  # fmt: skip
def serve(config_path: str | None, **flags: Any) -> None:
    """Serve the registry until SIGTERM or Ctrl-C."""
    overrides = {
        "listen": flags["listen"],
        "data": flags["data"],
        "tls.cert": flags["tls_cert"],
        "tls.key": flags["tls_key"],
        "delete_enabled": flags["delete_enabled"],
        "read_only": flags["read_only"],
        "log_level": flags["log_level"],
        "limits.threads": flags["threads"],
        "proxy.url": flags["proxy_url"],
        "limits.max_manifest_bytes": flags["max_manifest_bytes"],
    }
    try:
        config = _load(config_path, overrides)
        logging.basicConfig(
            level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
        )
        from porter_registry.app import create_app
        from porter_registry.from_config import build_authorizer
        from porter_registry.server import serve as run_server

        app = create_app(open_registry(config), build_authorizer(config.auth))
        run_server(app, config, announce=lambda line: click.echo(line, err=True))
    except PorterError as error:
        _fail(error)


@main.command()
@config_option
@data_option
@click.option("--delete-untagged", is_flag=True, help="Also delete manifests no tag reaches.")
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
@click.option(
    "--grace", "grace_seconds", type=int, default=None,
    help="Keep anything modified this many seconds ago or less (default 3600).",
)  # fmt: skip
@click.option(
    "--lock-timeout", type=float, default=None,
    help="Give up after waiting this many seconds for running pushes (default: wait).",
)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def gc(
    config_path: str | None,
    data: str | None,
    delete_untagged: bool,
    dry_run: bool,
    grace_seconds: int | None,
    lock_timeout: float | None,
    fmt: str,
) -> None:
    """Delete blobs that no manifest references (safe while the registry serves pushes)."""
    from porter_registry.gc import GarbageCollector

    try:
        config = _load(config_path, {"data": data, "limits.gc_grace_seconds": grace_seconds})
        if not Path(config.data).is_dir():
            raise ConfigError(f"data folder {config.data}: not a folder")
        registry = open_registry(config)
        collector = GarbageCollector(
            registry.driver,
            registry.lock,
            grace_seconds=config.limits.gc_grace_seconds,
            upload_max_age_seconds=config.limits.upload_max_age_seconds,
        )
        report = collector.run(delete_untagged, dry_run, lock_timeout)
    except PorterError as error:
        _fail(error)
        return
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    verb = "would delete" if dry_run else "deleted"
    for repository, digest in report.manifests_deleted:
        click.echo(f"{verb} manifest {repository}@{digest}")
    for digest in report.blobs_deleted:
        click.echo(f"{verb} blob {digest}")
    click.echo(
        f"{verb} {len(report.manifests_deleted)} manifests, {len(report.blobs_deleted)} blobs "
        f"({report.bytes_freed} bytes); kept {report.blobs_kept}"
    )
