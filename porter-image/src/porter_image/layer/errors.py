"""Errors of the layer package: each names the layer entry (or stream) it failed on."""

from __future__ import annotations

from porter_specs.errors import PorterError


class LayerError(PorterError):
    """A layer cannot be written or applied: a malformed archive or a failed file operation.

    `entry` is the archive path the failure concerns ("" when it is about the whole stream).
    """

    def __init__(self, entry: str, reason: str) -> None:
        where = f"layer entry {entry!r}" if entry else "layer"
        super().__init__(f"{where}: {reason}")
        self.entry = entry
        self.reason = reason


class HostileLayerError(LayerError):
    """An entry tries to reach outside the destination, or to do what it is not allowed to.

    Raised before anything is written for that entry, so the destination keeps its state up
    to the previous entry and nothing outside it is ever touched.
    """


class CompressionError(LayerError):
    """The compressed stream is corrupt or truncated (gzip, zstd), or its compression unknown."""

    def __init__(self, compression: str, reason: str) -> None:
        super().__init__("", f"{compression or 'uncompressed'} stream {reason}")
        self.compression = compression
