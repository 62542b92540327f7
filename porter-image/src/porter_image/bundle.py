"""The bundle directory `unpack` writes and `repack` reads.

    DIR/rootfs/                    the image's root filesystem, to run or to modify
    DIR/config.json                the runtime config converted from the image
    DIR/porter-image.mtree.json.gz the listing of rootfs as the image left it
    DIR/porter-image.json          which manifest the tree came from, and which listing

`repack` compares rootfs with the listing (`porter_image.layer.listing`), as umoci compares
it with its mtree manifest. The record names the listing file, and is replaced atomically
after a repack has written a new one, so the record and the listing always agree: a repack
interrupted before that point leaves the bundle as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from porter_specs.errors import PorterError
from porter_specs.models import Descriptor

from porter_image.errors import BundleError
from porter_image.layout.atomic import write_file_atomic

ROOTFS = "rootfs"
LISTING = "porter-image.mtree.json.gz"
RECORD = "porter-image.json"


@dataclass(frozen=True)
class BundleRecord:
    """What `unpack` remembers for `repack`."""

    manifest: Descriptor
    tag: str
    listing: str  # file name in the bundle; "" for a bundle of an older porter-image

    def to_json(self) -> dict[str, Any]:
        return {"manifest": self.manifest.to_json(), "tag": self.tag, "listing": self.listing}


def write_record(bundle: Path, record: BundleRecord) -> None:
    data = json.dumps(record.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    write_file_atomic(bundle / RECORD, data)


def read_record(bundle: Path) -> BundleRecord:
    """The record `unpack` left in `bundle`; BundleError when there is none or it is broken."""
    path = bundle / RECORD
    if not path.is_file():
        raise BundleError(bundle, f"no {RECORD}: not a directory made by porter-image unpack")
    try:
        document = json.loads(path.read_bytes())
        return BundleRecord(
            manifest=Descriptor.from_json(document["manifest"]),
            tag=str(document.get("tag", "")),
            listing=str(document.get("listing") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError, PorterError) as exc:
        raise BundleError(bundle, f"{RECORD} is invalid: {exc}") from exc


def check_empty_target(bundle: Path) -> bool:
    """Refuse a non-empty target, as umoci does; return True when the directory is new."""
    if not bundle.exists():
        return True
    if not bundle.is_dir():
        raise BundleError(bundle, "exists and is not a directory")
    if any(bundle.iterdir()):
        raise BundleError(bundle, "is not empty (unpack needs a new or empty directory)")
    return False
