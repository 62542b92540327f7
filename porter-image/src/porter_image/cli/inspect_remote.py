"""`porter-image inspect docker://...`: a registry image without pulling its layers."""

from __future__ import annotations

from typing import Any

import click
from porter_specs.models import Platform

from porter_image.cli.options import print_json
from porter_image.distribution.client import RegistryOptions
from porter_image.progress import human_size
from porter_image.remote import RemoteImage, inspect_remote


def describe(image: RemoteImage) -> dict[str, Any]:
    """What `inspect` shows of a remote image, as JSON (close to `skopeo inspect`)."""
    config = image.config
    layers = image.layers
    return {
        "Name": image.reference.name,
        "Digest": str(image.descriptor.digest),
        "MediaType": image.descriptor.media_type,
        "Index": str(image.index.digest) if image.index else None,
        "Platforms": list(image.platforms),
        "Created": config.get("created"),
        "Architecture": config.get("architecture"),
        "Os": config.get("os"),
        "Variant": config.get("variant"),
        "Config": config.get("config") or {},
        "Layers": [str(layer.digest) for layer in layers],
        "LayersData": [
            {"Digest": str(d.digest), "Size": d.size, "MIMEType": d.media_type} for d in layers
        ],
        "Size": sum(d.size for d in layers),
    }


def show(
    name: str, platform: Platform | None, output_format: str, options: RegistryOptions
) -> None:
    info = describe(inspect_remote(name, options, platform))
    if output_format == "json":
        print_json(info)
        return
    lines = [f"{'name':<10} {info['Name']}", f"{'digest':<10} {info['Digest']}"]
    if info["Index"]:
        lines.append(f"{'index':<10} {info['Index']} ({', '.join(info['Platforms'])})")
    platform_text = "/".join(p for p in (info["Os"], info["Architecture"], info["Variant"]) if p)
    lines += [f"{'platform':<10} {platform_text}", f"{'created':<10} {info['Created']}"]
    for key, value in sorted(info["Config"].items()):
        lines.append(f"{'config':<10} {key}: {value}")
    lines.append(f"layers     {len(info['Layers'])} ({human_size(info['Size'])} compressed)")
    for layer in info["LayersData"]:
        lines.append(f"  {layer['Digest']}  {human_size(layer['Size']):>10}  {layer['MIMEType']}")
    click.echo("\n".join(lines))
