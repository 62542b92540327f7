"""`repack`: the changes made to DIR/rootfs since `unpack`, as a new layer on top of the image.

Like `umoci repack`: the tree is compared with the listing recorded at unpack (deletions
become `.wh.` whiteouts), the layer is appended to the image's layers, its diff_id to the
config's rootfs, and a history entry is added. The same walk writes the listing of the tree
as it is now; once the new image is committed, the bundle's record is switched to it and
the new listing, so repack can be repeated after further changes and each layer holds only
its own (which is how the builder commits one RUN step after another).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from pathlib import Path

from porter_specs.models import Descriptor

from porter_image.bundle import LISTING, ROOTFS, BundleRecord, read_record, write_record
from porter_image.errors import BundleError
from porter_image.image import commit_image, load_descriptor, timestamp
from porter_image.layer import ListingWriter, TarOptions, read_listing, write_changes
from porter_image.layout import Layout, check_tag
from porter_image.progress import Progress, counting_writer


@dataclass(frozen=True)
class RepackOptions:
    """How to encode the new layer and what its history entry says."""

    compression: str = "gzip"
    mtime: int | None = None
    created_by: str = "porter-image repack"
    comment: str = ""
    refresh: bool = True


def _checked_listing(bundle: Path) -> tuple[BundleRecord, Path]:
    record = read_record(bundle)
    if not record.listing or "/" in record.listing:
        raise BundleError(
            bundle, "has no listing of its tree (unpacked by an older porter-image); unpack again"
        )
    listing = bundle / record.listing
    if not listing.is_file():
        raise BundleError(bundle, f"{record.listing} is missing")
    if not (bundle / ROOTFS).is_dir():
        raise BundleError(bundle, f"{ROOTFS}/ is missing")
    return record, listing


def repack_image(
    layout: Layout,
    tag: str,
    bundle: Path,
    options: RepackOptions = RepackOptions(),
    progress: Progress | None = None,
) -> Descriptor:
    """Commit the changes in `bundle`/rootfs as a new image tagged `tag`; returns its manifest."""
    check_tag(tag)
    record, listing = _checked_listing(bundle)
    progress = progress or Progress(False)
    recorder = ListingWriter(bundle / LISTING)
    try:
        with layout.writing():
            image = load_descriptor(layout, record.manifest, None, f"bundle {bundle} base image")
            progress.start(f"repack {bundle / ROOTFS}")
            with layout.blob_writer() as out:
                result = write_changes(
                    bundle / ROOTFS,
                    read_listing(listing),
                    counting_writer(out, progress),
                    options.compression,
                    TarOptions(mtime=options.mtime),
                    recorder,
                )
            progress.finish()
            layer = Descriptor(result.media_type, result.digest, result.size)
            created = timestamp(options.mtime)
            config = copy.deepcopy(image.config_json)
            config["created"] = created
            diff_ids = [*config["rootfs"].get("diff_ids", []), str(result.diff_id)]
            config["rootfs"]["diff_ids"] = diff_ids
            entry = {"created": created, "created_by": options.created_by}
            if options.comment:
                entry["comment"] = options.comment
            config["history"] = [*(config.get("history") or []), entry]
            layers = (*image.manifest.layers, layer)
            descriptor = commit_image(layout, tag, config, layers, base=image)
        if options.refresh:
            _refresh(bundle, recorder, descriptor, tag, listing)
    finally:
        recorder.discard()  # a no-op once committed
    return descriptor


def _refresh(
    bundle: Path, recorder: ListingWriter, descriptor: Descriptor, tag: str, old: Path
) -> None:
    """Switch the bundle to the new image: a new listing file, then the record naming it."""
    name = f"porter-image.mtree.{descriptor.digest.encoded[:16]}.json.gz"
    if bundle / name == old:
        name = LISTING
    recorder.commit(bundle / name)
    write_record(bundle, BundleRecord(descriptor, tag, name))
    with contextlib.suppress(FileNotFoundError):
        old.unlink()
