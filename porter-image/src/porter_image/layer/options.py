"""The options and results at the boundary of the layer package."""

from __future__ import annotations

from dataclasses import dataclass

from porter_specs.digest import Digest


@dataclass(frozen=True)
class TarOptions:
    """How a tree becomes a tar: the knobs that make two imports of one tree byte-identical."""

    mtime: int | None = None  # fixed mtime for every entry (reproducible); None keeps each one's
    owner: tuple[int, int] | None = None  # force uid/gid on every entry; None keeps them
    xattrs: bool = True  # record extended attributes as PAX SCHILY.xattr.* records


@dataclass(frozen=True)
class LayerResult:
    """What a manifest's layer descriptor and a config's diff_ids need to know of a new layer."""

    media_type: str  # porter_specs.media_types.LAYER_TAR(_GZIP|_ZSTD)
    digest: Digest  # of the compressed blob
    size: int  # of the compressed blob
    diff_id: Digest  # of the uncompressed tar


@dataclass(frozen=True)
class ApplyOptions:
    """Limits and privileges of applying a layer."""

    max_size: int = 64 << 30  # tar bomb limit on uncompressed bytes
    preserve_owners: bool = True  # chown entries to their uid/gid (only when running as root)
    allow_devices: bool | None = None  # None: device nodes only when running as root
    # Keep whiteouts as overlayfs reads them instead of applying them: `.wh.NAME` becomes a
    # 0/0 character device NAME and `.wh..wh..opq` the trusted.overlay.opaque xattr on its
    # directory (a layer snapshot, a lowerdir of an overlay mount; needs root).
    overlay_whiteouts: bool = False
