"""`porter-image copy SRC DST`: an image between registries, layouts and archives."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from porter_specs.models import Platform

from porter_image.cli.copy_progress import BarProgress, JsonProgress, LineProgress
from porter_image.cli.options import platform_option
from porter_image.cli.registry_options import (
    IMAGE_NAME,
    common_registry_options,
    credentials_option,
    tls_verify_option,
)
from porter_image.copy import DEFAULT_PARALLEL, CopyOptions, copy_image
from porter_image.distribution.tls import DOCKER_CERTS_D
from porter_image.manifest_format import FORMATS
from porter_image.recompress import COMPRESSIONS
from porter_image.transport import ImageName


def progress_reporter(mode: str, quiet: bool) -> Any:
    if quiet:
        return None
    if mode == "json":
        return JsonProgress()
    if mode == "tty" or (mode == "auto" and sys.stderr.isatty()):
        return BarProgress()
    return LineProgress()


@click.command("copy")
@click.argument("src", type=IMAGE_NAME)
@click.argument("dst", type=IMAGE_NAME)
@click.option("--all", "all_platforms", is_flag=True, help="Copy a whole index, every platform.")
@platform_option
@credentials_option("--src-creds", "for the source registry")
@credentials_option("--dest-creds", "for the destination registry")
@tls_verify_option("--src-tls-verify", "of the source registry")
@tls_verify_option("--dest-tls-verify", "of the destination registry")
@common_registry_options
@click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=DEFAULT_PARALLEL,
    show_default=True,
    help="Layers moved at once.",
)
@click.option(
    "--format",
    "manifest_format",
    type=click.Choice(FORMATS),
    help="Write manifests as OCI or Docker schema 2 (v2s2), converting where needed; the "
    "new digests are reported (default: as they are).",
)
@click.option(
    "--dest-compress",
    type=click.Choice(COMPRESSIONS),
    help="Recompress layers that are not compressed so (default: keep them as they are).",
)
@click.option(
    "--preserve-digests",
    is_flag=True,
    help="Refuse any change that would give a manifest a new digest.",
)
@click.option(
    "--include-referrers",
    is_flag=True,
    help="Also copy the artifacts (signatures, SBOMs) whose subject is the image, as "
    "`oras cp -r` does (a layout or oci-archive lists them, untagged, in its index).",
)
@click.option(
    "--digestfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the digest of the copied manifest to this file.",
)
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "tty", "plain", "json"]),
    default="auto",
    show_default=True,
    help="Bars per layer (tty), a line per step (plain), or Docker's JSON progress messages "
    "on stdout (json); auto picks tty on a terminal.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def command(
    src: ImageName,
    dst: ImageName,
    all_platforms: bool,
    platform: Platform | None,
    src_creds: Any,
    dest_creds: Any,
    src_tls_verify: bool,
    dest_tls_verify: bool,
    insecure_registries: tuple[str, ...],
    retry_times: int,
    cert_dir: Path | None,
    parallel: int,
    manifest_format: str | None,
    dest_compress: str | None,
    preserve_digests: bool,
    include_referrers: bool,
    digestfile: Path | None,
    progress_mode: str,
    quiet: bool,
) -> None:
    """Copy the image SRC to DST, naming both as skopeo does.

    \b
      docker://HOST[:PORT]/REPO[:TAG|@DIGEST]  a registry (no host: Docker Hub)
      oci:LAYOUT[:TAG|@DIGEST], LAYOUT:TAG     an OCI image layout
      oci-archive:FILE[:TAG]                   a tar of an OCI image layout
      docker-archive:FILE[:NAME:TAG]           a `docker save` tar

    Blobs the destination has are skipped, blobs within one registry are mounted, and the
    destination's tag is written only after everything under it is stored and verified.
    """
    reporter = progress_reporter(progress_mode, quiet)
    options = CopyOptions(
        platform=platform,
        all_platforms=all_platforms,
        src_credentials=src_creds,
        dest_credentials=dest_creds,
        src_tls_verify=src_tls_verify,
        dest_tls_verify=dest_tls_verify,
        insecure_registries=insecure_registries,
        certs_dir=cert_dir or DOCKER_CERTS_D,
        retries=retry_times,
        parallel=parallel,
        progress=reporter,
        include_referrers=include_referrers,
        format=manifest_format,
        preserve_digests=preserve_digests,
        dest_compress=dest_compress,
    )
    try:
        result = copy_image(src, dst, options)
    finally:
        if reporter is not None:
            reporter.finish()
    if digestfile is not None:
        digestfile.write_text(f"{result.digest}\n")
    if not quiet and progress_mode != "json":
        copied = f"{result.blobs_copied} blobs copied ({result.bytes_copied} bytes)"
        others = f"{result.blobs_skipped} present, {result.blobs_mounted} mounted"
        click.echo(f"Copied {dst}: {result.digest} ({copied}, {others})", err=True)
    if quiet:
        return
    if progress_mode == "json":
        click.echo(json.dumps({"status": f"Digest: {result.digest}"}))
    else:
        click.echo(str(result.digest))
