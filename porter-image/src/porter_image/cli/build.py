"""`porter-image build -t LAYOUT:TAG [options] CONTEXT`: a Dockerfile to an OCI image."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import click
from porter_specs.models import Platform

from porter_image.cli.options import (
    IMAGE,
    compression_name,
    fixed_mtime,
    key_values,
    layer_options,
    platform_value,
)
from porter_image.ref import ImageRef


def _build_args(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """`K=V`, or `K` alone to take the value from the environment (skipped when unset)."""
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key:
            raise click.BadParameter(f"{item!r} is not KEY[=VALUE]", ctx, param)
        if sep:
            result[key] = value
        elif key in os.environ:
            result[key] = os.environ[key]
    return result


def _secrets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """`id=ID,src=PATH` or `id=ID,env=VAR`, checked now (as buildx does) though read later."""
    from porter_image.build.secret_sources import SecretSource

    result = {}
    for item in values:
        try:
            source = SecretSource.parse(item)
            source.read()
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc
        result[source.id] = source
    return result


def _ssh(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    from porter_image.build.secret_sources import parse_ssh

    result = {}
    for item in values:
        try:
            ident, paths = parse_ssh(item, dict(os.environ))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc
        result[ident] = paths
    return result


@click.command("build")
@click.option(
    "-t",
    "--tag",
    "tags",
    type=IMAGE,
    multiple=True,
    required=True,
    metavar="LAYOUT:TAG",
    help="Tag the image in this layout (repeatable).",
)
@click.option(
    "-f",
    "--file",
    "dockerfile",
    default=None,
    help="The Dockerfile (default: CONTEXT/Dockerfile; - reads it from stdin).",
)
@click.option(
    "--build-arg",
    "build_args",
    multiple=True,
    callback=_build_args,
    metavar="KEY[=VALUE]",
    help="A build-time variable (repeatable).",
)
@click.option("--target", default="", help="Build up to this stage.")
@click.option("--no-cache", is_flag=True, help="Run every step, reusing no cached one.")
@click.option("--pull", is_flag=True, help="Pull FROM images even when the layout has them.")
@click.option(
    "--platform",
    callback=platform_value,
    metavar="OS/ARCH[/VARIANT]",
    help="The platform to build for (default: this host's).",
)
@click.option(
    "--network",
    type=click.Choice(["host", "none"]),
    default="host",
    show_default=True,
    help="The network of RUN steps.",
)
@click.option(
    "--runtime",
    default=None,
    metavar="PATH",
    help="The OCI runtime RUN steps use (default: porter-runtime).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="A label of the image (repeatable).",
)
@click.option(
    "--insecure-registry",
    "insecure",
    multiple=True,
    metavar="HOST[:PORT]",
    help="A registry reached over plain HTTP (loopback always is).",
)
@click.option(
    "--cache-from",
    "cache_from",
    multiple=True,
    metavar="HOST/REPO:TAG",
    help="Import build cache from this registry artifact (repeatable).",
)
@click.option(
    "--cache-to",
    "cache_to",
    multiple=True,
    metavar="HOST/REPO:TAG",
    help="Export the build's cache to this registry artifact (repeatable).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    callback=_secrets,
    metavar="id=ID[,src=PATH|,env=VAR]",
    help="A secret RUN --mount=type=secret can mount (repeatable; never in the image).",
)
@click.option(
    "--ssh",
    "ssh",
    multiple=True,
    callback=_ssh,
    metavar="ID[=SOCKET|KEY[,KEY]]",
    help="An ssh agent RUN --mount=type=ssh can use (default: $SSH_AUTH_SOCK; repeatable).",
)
@click.option(
    "--iidfile",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the image's digest to this file.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing but the digest (and a failed RUN's output, before the error).",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "plain", "json"]),
    default="auto",
    show_default=True,
    help="How the steps are shown on stderr: auto and plain are the same here (a line per "
    "step, RUN output as it comes); json is docker's build stream, a JSON object a line.",
)
@layer_options
@click.argument("context", type=click.Path())
def command(
    tags: tuple[ImageRef, ...],
    dockerfile: str | None,
    build_args: dict[str, str],
    target: str,
    no_cache: bool,
    pull: bool,
    platform: Platform | None,
    network: str,
    runtime: str | None,
    labels: dict[str, str],
    insecure: tuple[str, ...],
    cache_from: tuple[str, ...],
    cache_to: tuple[str, ...],
    secrets: dict[str, Any],
    ssh: dict[str, tuple[str, ...]],
    iidfile: Path | None,
    quiet: bool,
    progress: str,
    compression: str,
    mtime: int | None,
    reproducible: bool,
    context: str,
) -> None:
    """Build an image from a Dockerfile, in cached layers.

    CONTEXT is a folder, or - for stdin: a tar of one (plain or compressed), or else the
    Dockerfile itself with an empty context. FROM names a tag of the target layout, else an
    image in a registry (pulled into the layout), or scratch. RUN steps run through the OCI
    runtime on an overlay of the image's layers; each step's result is cached with the
    layout. Prints the image's digest; a failed build leaves no tag.
    """
    from porter_image.build import BuildContext, Builder, BuildOptions
    from porter_image.cli.build_inputs import read_inputs
    from porter_image.cli.build_output import BuildOutput
    from porter_image.dockerfile.ignore import IgnoreRules
    from porter_image.errors import ImageRefError
    from porter_image.layout import Layout

    with contextlib.ExitStack() as cleanup:
        output = cleanup.enter_context(BuildOutput(quiet, progress))
        if iidfile is not None:  # as docker does: a failed build leaves no stale digest there
            iidfile.unlink(missing_ok=True)
        layouts = {os.path.abspath(ref.layout) for ref in tags}
        if len(layouts) > 1:
            raise ImageRefError(str(tags[1]), "every -t must name the same layout")
        layout = Layout.open_or_create(tags[0].layout)
        inputs = read_inputs(context, dockerfile, cleanup)
        ignore = IgnoreRules.for_context(inputs.root, inputs.file_path)
        options = BuildOptions(
            tags=tuple(ref.tag or "" for ref in tags),
            dockerfile=inputs.name,
            build_args=build_args,
            target=target,
            no_cache=no_cache,
            pull=pull,
            platform=platform,
            network=network,
            labels=labels,
            insecure_registries=insecure,
            cache_from=cache_from,
            cache_to=cache_to,
            compression=compression_name(compression),
            source_date_epoch=fixed_mtime(mtime, reproducible),
            report=output.report,
            output=output.fd,
            secrets=secrets,
            ssh=ssh,
            **({"runtime": runtime} if runtime else {}),
        )
        context = BuildContext(inputs.root, ignore, temporary=inputs.temporary)
        descriptor = Builder(layout, context, options).build(inputs.text)
        output.digest = str(descriptor.digest)
    if iidfile is not None:
        iidfile.write_text(str(descriptor.digest))
    click.echo(str(descriptor.digest))
