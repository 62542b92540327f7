"""`repack`: the changes made to DIR/rootfs since `unpack`, as a new layer on top of the image.

Like `umoci repack`: the diff against the pristine base tree (with `.wh.` whiteouts for
deletions) is appended to the image's layers, its diff_id to the config's rootfs, and a
history entry is added. Afterwards the bundle is refreshed (the new layer is applied to the
base copy and the record points at the new manifest), so repack can be repeated after
further changes, which is how the builder commits one RUN step after another.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from porter_specs.models import Descriptor

from porter_image.bundle import BASE, ROOTFS, BundleRecord, read_record, write_record
from porter_image.errors import BundleError
from porter_image.image import commit_image, load_descriptor, timestamp
from porter_image.layer import TarOptions, write_diff_layer
from porter_image.layout import Layout, check_tag
from porter_image.progress import Progress, counting_writer
from porter_image.unpack import apply_blob


@dataclass(frozen=True)
class RepackOptions:
    """How to encode the new layer and what its history entry says."""

    compression: str = "gzip"
    mtime: int | None = None
    created_by: str = "porter-image repack"
    comment: str = ""
    refresh: bool = True


def repack_image(
    layout: Layout,
    tag: str,
    bundle: Path,
    options: RepackOptions = RepackOptions(),
    progress: Progress | None = None,
) -> Descriptor:
    """Commit the changes in `bundle`/rootfs as a new image tagged `tag`; returns its manifest."""
    check_tag(tag)
    record = read_record(bundle)
    if not record.has_base:
        raise BundleError(
            bundle, "was unpacked with --no-base, so there is nothing to diff against"
        )
    for part in (ROOTFS, BASE):
        if not (bundle / part).is_dir():
            raise BundleError(bundle, f"{part}/ is missing")
    progress = progress or Progress(False)
    with layout.writing():
        image = load_descriptor(layout, record.manifest, None, f"bundle {bundle} base image")
        progress.start(f"repack {bundle / ROOTFS}")
        with layout.blob_writer() as out:
            counted = counting_writer(out, progress)
            result = write_diff_layer(
                bundle / BASE,
                bundle / ROOTFS,
                counted,
                options.compression,
                TarOptions(mtime=options.mtime),
            )
        progress.finish()
        layer = Descriptor(result.media_type, result.digest, result.size)
        created = timestamp(options.mtime)
        config = copy.deepcopy(image.config_json)
        config["created"] = created
        config["rootfs"]["diff_ids"] = [*config["rootfs"].get("diff_ids", []), str(result.diff_id)]
        entry = {"created": created, "created_by": options.created_by}
        if options.comment:
            entry["comment"] = options.comment
        config["history"] = [*(config.get("history") or []), entry]
        descriptor = commit_image(layout, tag, config, (*image.manifest.layers, layer), base=image)
    if options.refresh:
        apply_blob(layout, layer, bundle / BASE)
        write_record(bundle, BundleRecord(descriptor, tag, True))
    return descriptor
