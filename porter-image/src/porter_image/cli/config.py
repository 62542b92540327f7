"""`porter-image config LAYOUT:TAG`."""

from __future__ import annotations

from typing import Any

import click

from porter_image.cli.options import IMAGE, argv_value, fixed_mtime, key_values, platform_option
from porter_image.configure import CLEARABLE, ConfigEdit, configure_image
from porter_image.image import timestamp
from porter_image.layout import Layout
from porter_image.ref import ImageRef


def _env(ctx: Any, param: Any, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if "=" not in value or value.startswith("="):
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", ctx, param)
    return values


def _clear_options(f: Any) -> Any:
    for name in sorted(CLEARABLE, reverse=True):
        f = click.option(
            f"--clear-{name}",
            f"clear_{name.replace('-', '_')}",
            is_flag=True,
            help=f"Remove all {name} first.",
        )(f)
    return f


@click.command("config")
@click.argument("image", type=IMAGE, metavar="LAYOUT:TAG")
@click.option(
    "--env",
    multiple=True,
    callback=_env,
    metavar="NAME=VALUE",
    help="Set an environment variable (repeatable).",
)
@click.option(
    "--entrypoint",
    multiple=True,
    callback=argv_value,
    metavar="ARG",
    help="Entrypoint, one argument per option, or a JSON array.",
)
@click.option(
    "--cmd",
    multiple=True,
    callback=argv_value,
    metavar="ARG",
    help="Default command, one argument per option, or a JSON array.",
)
@click.option("--user", help="User (name, uid, or uid:gid) the process runs as.")
@click.option("--workdir", help="Working directory of the process.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="Add a label (repeatable).",
)
@click.option(
    "--exposed-port",
    "exposed_ports",
    multiple=True,
    metavar="PORT[/PROTO]",
    help="Expose a port, e.g. 80/tcp (repeatable).",
)
@click.option(
    "--volume", "volumes", multiple=True, metavar="PATH", help="Declare a volume (repeatable)."
)
@click.option("--stop-signal", help="Signal that stops the container, e.g. SIGTERM.")
@click.option("--author", help="Author of the image.")
@_clear_options
@click.option(
    "--tag", "new_tag", metavar="TAG", help="Tag the result TAG instead of replacing TAG."
)
@platform_option
def command(image: ImageRef, new_tag: str | None, platform: Any, **fields: Any) -> None:
    """Change an image's execution config; writes a new config and manifest and re-tags.

    The image's layers are shared, not copied. A history entry (empty_layer) records the
    change, dated SOURCE_DATE_EPOCH when that is set. Prints the new manifest's digest.
    """
    clear = frozenset(name for name in CLEARABLE if fields.pop(f"clear_{name.replace('-', '_')}"))
    edit = ConfigEdit(
        env=fields["env"],
        entrypoint=fields["entrypoint"],
        cmd=fields["cmd"],
        user=fields["user"],
        workdir=fields["workdir"],
        labels=fields["labels"],
        exposed_ports=_ports(fields["exposed_ports"]),
        volumes=fields["volumes"],
        stop_signal=fields["stop_signal"],
        author=fields["author"],
        clear=clear,
    )
    assert image.tag is not None
    layout = Layout.open(image.layout)
    epoch = fixed_mtime(None, reproducible=False)  # SOURCE_DATE_EPOCH, for reproducible builds
    created = timestamp(epoch) if epoch is not None else None
    descriptor = configure_image(layout, image.tag, edit, new_tag, platform, created)
    click.echo(str(descriptor.digest))


def _ports(values: tuple[str, ...]) -> tuple[str, ...]:
    """`80` means `80/tcp`, as in Dockerfiles."""
    return tuple(v if "/" in v else f"{v}/tcp" for v in values)
