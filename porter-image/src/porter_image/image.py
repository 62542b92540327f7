"""Images in a layout: load one by tag (through an index to a platform), commit a new one.

An `Image` keeps the raw JSON of its manifest and config beside the typed models, so that
edits (config changes, repack) carry over fields the models do not know about.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from porter_specs import media_types
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, ImageConfig, Manifest, Platform

from porter_image.errors import ImageError
from porter_image.layout import Layout
from porter_image.platforms import choose_platform, preference
from porter_image.schema import schema_problems

MAX_INDEX_DEPTH = 8


@dataclass(frozen=True)
class Image:
    """A manifest, its config, and the descriptor the manifest was found by."""

    descriptor: Descriptor
    manifest: Manifest
    config: ImageConfig
    manifest_json: dict[str, Any]
    config_json: dict[str, Any]


def load_image(layout: Layout, tag: str, platform: Platform | None = None) -> Image:
    """The image `tag` names; an index is followed to `platform` (default: the host's)."""
    return load_descriptor(layout, layout.resolve(tag), platform, f"{layout.path}:{tag}")


def load_descriptor(
    layout: Layout, descriptor: Descriptor, platform: Platform | None = None, what: str = ""
) -> Image:
    """The image a manifest or index descriptor leads to, verified and schema-checked."""
    what = what or f"{layout.path}@{descriptor.digest}"
    wanted = platform or Platform.host()
    for _ in range(MAX_INDEX_DEPTH):
        if descriptor.media_type in media_types.INDEXES:
            descriptor = _select(layout, descriptor, wanted, what)
            continue
        if descriptor.media_type not in media_types.MANIFESTS:
            raise ImageError(what, f"{descriptor.media_type} is not an image manifest or index")
        image = _read_image(layout, descriptor)
        if platform is not None and preference(platform, image.config.platform) is None:
            raise ImageError(what, f"image is for {image.config.platform}, not {platform}")
        return image
    raise ImageError(what, f"indexes nested deeper than {MAX_INDEX_DEPTH}")


def _checked_json(layout: Layout, descriptor: Descriptor, kind: str) -> dict[str, Any]:
    document = layout.read_json(descriptor)
    problems = schema_problems(document, kind)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ImageError(f"{kind} {descriptor.digest}", f"schema violation: {problems[0]}{more}")
    return document


def _select(layout: Layout, descriptor: Descriptor, wanted: Platform, what: str) -> Descriptor:
    index = _checked_json(layout, descriptor, "index")
    children = [Descriptor.from_json(raw) for raw in index.get("manifests", [])]
    return choose_platform(children, wanted, what)


def _read_image(layout: Layout, descriptor: Descriptor) -> Image:
    what = f"manifest {descriptor.digest}"
    manifest_json = _checked_json(layout, descriptor, "manifest")
    manifest = _model(Manifest, manifest_json, what)
    if manifest.config.media_type not in media_types.IMAGE_CONFIGS:
        reason = f"config is {manifest.config.media_type}, not an image config (an artifact?)"
        raise ImageError(what, reason)
    config_json = _checked_json(layout, manifest.config, "config")
    config = _model(ImageConfig, config_json, f"config {manifest.config.digest}")
    if len(config.diff_ids) != len(manifest.layers):
        reason = f"{len(manifest.layers)} layers but {len(config.diff_ids)} diff_ids in its config"
        raise ImageError(what, reason)
    return Image(descriptor, manifest, config, manifest_json, config_json)


def _model(model: Any, document: dict[str, Any], what: str) -> Any:
    """Parse a schema-checked document into its model; shape errors name the document."""
    try:
        return model.from_json(document)
    except (PorterError, TypeError, KeyError, AttributeError) as exc:
        raise ImageError(what, str(exc)) from exc


def commit_image(
    layout: Layout,
    tag: str,
    config_json: dict[str, Any],
    layers: tuple[Descriptor, ...],
    annotations: dict[str, str] | None = None,
    base: Image | None = None,
) -> Descriptor:
    """Store a config and a manifest over `layers`, then point `tag` at the manifest.

    With `base`, the manifest keeps the base manifest's other fields (annotations, media
    type); the layers must already be in the layout.
    """
    problems = schema_problems(config_json, "config")
    if problems:
        raise ImageError("new image config", f"schema violation: {problems[0]}")
    with layout.writing():
        config = layout.put_json(media_types.IMAGE_CONFIG, config_json)
        manifest = dict(base.manifest_json) if base else {}
        manifest.update(
            schemaVersion=2,
            mediaType=media_types.IMAGE_MANIFEST,
            config=config.to_json(),
            layers=[layer.to_json() for layer in layers],
        )
        manifest.pop("subject", None)  # a new image is not a referrer of its base's subject
        if annotations:
            manifest["annotations"] = {**manifest.get("annotations", {}), **annotations}
        descriptor = layout.put_json(media_types.IMAGE_MANIFEST, manifest)
        platform = ImageConfig.from_json(config_json).platform
        descriptor = Descriptor(
            descriptor.media_type, descriptor.digest, descriptor.size, platform=platform
        )
        layout.set_tag(tag, descriptor)
    return descriptor


def timestamp(epoch: int | None = None) -> str:
    """RFC 3339 in UTC with a `Z`, as the image-spec's `created` fields use."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if epoch is None else epoch))
