"""Layers: deterministic tar of a tree, gzip/zstd/none, apply with whiteouts, diff of trees.

The public names here are the contract the layout, image and CLI code build on.
"""

from porter_image.layer.apply import apply_layer
from porter_image.layer.diff import write_changes
from porter_image.layer.errors import CompressionError, HostileLayerError, LayerError
from porter_image.layer.import_tar import write_tar_stream
from porter_image.layer.listing import ListingWriter, Record, read_listing, record_tree
from porter_image.layer.options import ApplyOptions, LayerResult, TarOptions
from porter_image.layer.tar_writer import write_layer
from porter_image.layer.tree_digest import tree_digest, tree_listing

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
