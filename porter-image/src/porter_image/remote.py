"""Remote inspect: a registry image's manifest, config and platforms, without its layers.

image = inspect_remote("docker://127.0.0.1:5000/library/busybox:latest")
image.digest, image.config["config"]["Cmd"], image.platforms
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, Platform

from porter_image.copy import index_children
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.errors import ManifestRefusedError
from porter_image.endpoints.registry import RegistrySource
from porter_image.errors import ImageRefError
from porter_image.platforms import choose_platform
from porter_image.reference import DockerReference
from porter_image.transport import RegistryName, parse_image_name


@dataclass(frozen=True)
class RemoteImage:
    """What a registry says about an image; `index` is set when the name points at an index."""

    reference: DockerReference
    descriptor: Descriptor  # the manifest chosen (the platform's, for an index)
    manifest: dict[str, Any]
    config: dict[str, Any]
    index: Descriptor | None = None
    platforms: tuple[str, ...] = ()

    @property
    def layers(self) -> list[Descriptor]:
        return [Descriptor.from_json(layer) for layer in self.manifest.get("layers") or []]


def inspect_remote(
    name: str | DockerReference,
    options: RegistryOptions | None = None,
    platform: Platform | None = None,
) -> RemoteImage:
    """Fetch the manifest (following an index to `platform`, default the host's) and config."""
    reference = _reference(name)
    source = RegistrySource(reference, options or RegistryOptions())
    try:
        top = source.top_manifest()
        index, platforms = None, ()
        manifest = top
        if top.is_index:
            index = top.descriptor
            children = top.document().get("manifests") or []
            platforms = tuple(
                str(Platform.from_json(c["platform"])) for c in children if c.get("platform")
            )
            wanted = platform or Platform.host()
            chosen = choose_platform(index_children(top), wanted, f"index {top.digest}")
            manifest = source.manifest(chosen.digest)
            if manifest.is_index:
                raise ManifestRefusedError(str(chosen.digest), "a platform's manifest is an index")
        config = source.read_config(manifest)
        document = manifest.document()
        return RemoteImage(reference, manifest.descriptor, document, config, index, platforms)
    except PorterError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestRefusedError(str(reference), f"invalid manifest or config: {exc}") from exc
    finally:
        source.close()


def _reference(name: str | DockerReference) -> DockerReference:
    if isinstance(name, DockerReference):
        return name
    parsed = parse_image_name(name if name.startswith("docker://") else f"docker://{name}")
    if not isinstance(parsed, RegistryName):
        raise ImageRefError(name, "not a registry image (docker://...)")
    return parsed.reference
