"""Layers: deterministic tar of a tree, gzip/zstd/none, apply with whiteouts, diff of trees.

The public names here are the contract the layout, image and CLI code build on. Each is
imported from its module on first use, so that importing one part of the package (its
errors, for the CLI's exit codes) does not load the others and their compressors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from porter_image.lazy import lazy_exports

if TYPE_CHECKING:
    from porter_image.layer.apply import apply_layer
    from porter_image.layer.diff import write_changes
    from porter_image.layer.errors import CompressionError, HostileLayerError, LayerError
    from porter_image.layer.import_tar import write_tar_stream
    from porter_image.layer.listing import ListingWriter, Record, read_listing, record_tree
    from porter_image.layer.options import ApplyOptions, LayerResult, TarOptions
    from porter_image.layer.tar_writer import write_layer
    from porter_image.layer.trees import tree_digest, tree_listing

_HOMES = {
    "ApplyOptions": "options",
    "CompressionError": "errors",
    "HostileLayerError": "errors",
    "LayerError": "errors",
    "LayerResult": "options",
    "ListingWriter": "listing",
    "Record": "listing",
    "TarOptions": "options",
    "apply_layer": "apply",
    "read_listing": "listing",
    "record_tree": "listing",
    "tree_digest": "trees",
    "tree_listing": "trees",
    "write_changes": "diff",
    "write_layer": "tar_writer",
    "write_tar_stream": "import_tar",
}
__all__ = [
    "ApplyOptions",
    "CompressionError",
    "HostileLayerError",
    "LayerError",
    "LayerResult",
    "ListingWriter",
    "Record",
    "TarOptions",
    "apply_layer",
    "read_listing",
    "record_tree",
    "tree_digest",
    "tree_listing",
    "write_changes",
    "write_layer",
    "write_tar_stream",
]
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
