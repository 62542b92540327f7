"""`unpack`: apply an image's layers in order into DIR/rootfs and write DIR/config.json.

Then the tree is listed (DIR/porter-image.mtree.json.gz) for a later `repack`.

The result is an OCI runtime bundle (see `porter_image.bundle` and `porter_image.convert`).

Layers stream from the layout through digest verification into `apply_layer`; each layer's
diff_id is checked against the config. On any failure the target is emptied again (or
removed, if unpack created it), so a failed unpack leaves nothing half-done behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO, cast

from porter_specs.digest import VerifyingReader
from porter_specs.models import Descriptor, Platform

from porter_image.bundle import LISTING, ROOTFS, BundleRecord, check_empty_target, write_record
from porter_image.convert import runtime_config, write_runtime_config
from porter_image.errors import ImageError
from porter_image.image import Image, load_image
from porter_image.layer import ApplyOptions, apply_layer, record_tree
from porter_image.layer.compression import for_media_type
from porter_image.layout import Layout
from porter_image.progress import Progress, counting_reader

DEFAULT_APPLY = ApplyOptions()


def unpack_image(
    layout: Layout,
    tag: str,
    bundle: Path,
    platform: Platform | None = None,
    options: ApplyOptions = DEFAULT_APPLY,
    progress: Progress | None = None,
    rootless_ids: tuple[int, int] | None = None,
) -> Image:
    """Unpack image `tag` into the bundle `bundle`; returns the image that was unpacked.

    With `rootless_ids` (host uid, gid) config.json is for a user namespace that maps
    container root to that user (see `porter_image.convert.runtime_config`).
    """
    image = load_image(layout, tag, platform)
    created = check_empty_target(bundle)
    bundle.mkdir(parents=True, exist_ok=True)
    try:
        apply_image(layout, image, bundle / ROOTFS, options, progress)
        config = runtime_config(image.config, bundle / ROOTFS, rootless_ids)
        write_runtime_config(bundle, config)
        record_tree(bundle / ROOTFS, bundle / LISTING)
        write_record(bundle, BundleRecord(image.descriptor, tag, LISTING))
    except BaseException:
        _undo(bundle, created)
        raise
    return image


def apply_image(
    layout: Layout,
    image: Image,
    dest: Path,
    options: ApplyOptions = DEFAULT_APPLY,
    progress: Progress | None = None,
) -> None:
    """Apply every layer of `image`, in order, into `dest` (created with mode 0755)."""
    dest.mkdir(mode=0o755, exist_ok=True)
    count = len(image.manifest.layers)
    for i, (layer, diff_id) in enumerate(
        zip(image.manifest.layers, image.config.diff_ids, strict=True)
    ):
        if progress:
            progress.start(f"unpack layer {i + 1}/{count} {layer.digest.encoded[:12]}", layer.size)
        actual = apply_blob(layout, layer, dest, options, progress)
        if progress:
            progress.finish()
        if actual != diff_id:
            raise ImageError(
                f"layer {layer.digest}",
                f"diff_id mismatch: config says {diff_id}, content is {actual}",
            )


def apply_blob(
    layout: Layout,
    layer: Descriptor,
    dest: Path,
    options: ApplyOptions = DEFAULT_APPLY,
    progress: Progress | None = None,
) -> object:
    """Apply one layer blob, verifying its digest and size as it streams; returns its diff_id."""
    with layout.open_blob(layer.digest) as raw:
        stream = counting_reader(raw, progress) if progress else raw
        reader = VerifyingReader(stream, layer.digest, layer.size, f"layer {layer.digest}")
        # An uncompressed blob's digest is its diff_id: the reader's check covers both.
        plain = for_media_type(layer.media_type) == "none"
        diff_id = apply_layer(
            cast(BinaryIO, reader),
            layer.media_type,
            dest,
            options,
            verified_diff_id=layer.digest if plain else None,
        )
        while reader.read(1 << 20):  # the tail (padding, compression trailer) is hashed too
            pass
    return diff_id


def _undo(bundle: Path, created: bool) -> None:
    if created:
        shutil.rmtree(bundle, ignore_errors=True)
        return
    for child in bundle.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
