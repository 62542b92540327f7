"""Layers: deterministic tar of a tree, gzip/zstd/none, apply with whiteouts, diff of trees.

The public names here are the contract the layout, image and CLI code build on.
"""

from porter_image.layer.apply import apply_layer
from porter_image.layer.diff import write_diff_layer
from porter_image.layer.errors import CompressionError, HostileLayerError, LayerError
from porter_image.layer.import_tar import write_tar_stream
from porter_image.layer.options import ApplyOptions, LayerResult, TarOptions
from porter_image.layer.tar_writer import write_layer
from porter_image.layer.tree_digest import tree_digest, tree_listing

__all__ = [
    "ApplyOptions",
    "CompressionError",
    "HostileLayerError",
    "LayerError",
    "LayerResult",
    "TarOptions",
    "apply_layer",
    "tree_digest",
    "tree_listing",
    "write_diff_layer",
    "write_layer",
    "write_tar_stream",
]
