"""`porter-image inspect LAYOUT:TAG` (and `docker://...`, see `inspect_remote`)."""

from __future__ import annotations

from typing import Any

import click
from porter_specs.models import Platform

from porter_image.cli.options import IMAGE, format_option, platform_option, print_json
from porter_image.cli.registry_options import options_from, registry_options
from porter_image.image import Image, load_image
from porter_image.layout import Layout
from porter_image.progress import human_size
from porter_image.ref import ImageRef


def describe(image: Image, ref: ImageRef) -> dict[str, Any]:
    """The facts `inspect` shows, as a JSON-ready mapping."""
    config = image.config
    return {
        "name": str(ref),
        "digest": str(image.descriptor.digest),
        "mediaType": image.descriptor.media_type,
        "platform": str(config.platform),
        "created": config.created,
        "author": config.author,
        "annotations": image.manifest.annotations,
        "config": image.config_json.get("config") or {},
        "layers": [
            {"digest": str(layer.digest), "size": layer.size, "mediaType": layer.media_type}
            for layer in image.manifest.layers
        ],
        "diffIds": [str(d) for d in config.diff_ids],
        "history": image.config_json.get("history") or [],
        "size": sum(layer.size for layer in image.manifest.layers),
    }


def _text(info: dict[str, Any]) -> list[str]:
    lines = [f"{key:<10} {info[key]}" for key in ("name", "digest", "platform", "created")]
    if info["author"]:
        lines.append(f"{'author':<10} {info['author']}")
    for key, value in sorted(info["annotations"].items()):
        lines.append(f"{'annotation':<10} {key}={value}")
    for key, value in sorted(info["config"].items()):
        lines.append(f"{'config':<10} {key}: {value}")
    lines.append(f"layers     {len(info['layers'])} ({human_size(info['size'])} compressed)")
    for layer in info["layers"]:
        lines.append(f"  {layer['digest']}  {human_size(layer['size']):>10}  {layer['mediaType']}")
    lines.append("history")
    for entry in info["history"]:
        empty = " (empty layer)" if entry.get("empty_layer") else ""
        lines.append(f"  {entry.get('created', ''):<20}  {entry.get('created_by', '')}{empty}")
    return lines


@click.command("inspect")
@click.argument("name", metavar="LAYOUT:TAG|docker://REF")
@platform_option
@format_option
@registry_options
def command(name: str, platform: Platform | None, output_format: str, **kwargs: Any) -> None:
    """Show an image's digest, platform, config, layers and history.

    A docker://HOST/REPO[:TAG|@DIGEST] image is read from its registry (manifest and config,
    not its layers); the registry options apply only to those.
    """
    if name.startswith("docker://"):
        from porter_image.cli.inspect_remote import show

        show(name, platform, output_format, options_from(kwargs))
        return
    image = IMAGE.convert(name, None, click.get_current_context())
    assert image.tag is not None
    loaded = load_image(Layout.open(image.layout), image.tag, platform)
    info = describe(loaded, image)
    if output_format == "json":
        print_json(info)
    else:
        click.echo("\n".join(_text(info)))
