"""`import`: a one-layer image from a directory or a tarball, like `umoci new` + `umoci insert`.

With a fixed mtime (`--mtime`, `--reproducible`, or SOURCE_DATE_EPOCH) every tar entry and
the config's `created` times use it, so two imports of the same tree give the same digest.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from porter_specs.models import Descriptor, Platform

from porter_image.errors import ImageError
from porter_image.image import commit_image, timestamp
from porter_image.layer import TarOptions, write_layer, write_tar_stream
from porter_image.layout import Layout, check_tag
from porter_image.progress import Progress, counting_writer

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class ImportOptions:
    """How to encode the layer and describe the image."""

    compression: str = "gzip"
    mtime: int | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    created_by: str = "porter-image import"


def import_image(
    layout_path: Path,
    tag: str,
    source: Path,
    options: ImportOptions = ImportOptions(),
    progress: Progress | None = None,
) -> Descriptor:
    """Import `source` (directory or tar, optionally gzip/zstd) as image `tag` of the layout."""
    check_tag(tag)
    if not source.exists():
        raise ImageError(f"source {source}", "no such file or directory")
    progress = progress or Progress(False)
    with Layout.for_writing(layout_path) as layout:
        progress.start(f"import {source}")
        with layout.blob_writer() as out:
            counted = counting_writer(out, progress)
            if source.is_dir():
                tar_options = TarOptions(mtime=options.mtime)
                result = write_layer(source, counted, options.compression, tar_options)
            else:
                with _open_tarball(source) as tarball:
                    result = write_tar_stream(tarball, counted, options.compression)
        progress.finish()
        layer = Descriptor(result.media_type, result.digest, result.size)
        created = timestamp(options.mtime)
        host = Platform.host()
        config = {
            "created": created,
            "architecture": host.architecture,
            "os": host.os,
            **({"variant": host.variant} if host.variant else {}),
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [str(result.diff_id)]},
            "history": [{"created": created, "created_by": options.created_by}],
        }
        return commit_image(layout, tag, config, (layer,), options.annotations)


@contextmanager
def _open_tarball(path: Path) -> Iterator[BinaryIO]:
    """Open a tarball, transparently decompressing gzip or zstd (sniffed by magic bytes)."""
    with open(path, "rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        if magic.startswith(_GZIP_MAGIC):
            import gzip

            yield _guarded(gzip.GzipFile(fileobj=raw, mode="rb"), path, "gzip", zlib.error)
        elif magic == _ZSTD_MAGIC:
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            yield _guarded(reader, path, "zstd", zstandard.ZstdError)
        else:
            yield raw


def _guarded(stream: Any, path: Path, kind: str, error: type[Exception]) -> BinaryIO:
    return cast(BinaryIO, _GuardedReader(stream, path, kind, error))


class _GuardedReader:
    """Turns a decompressor's low-level errors (truncation, corruption) into one ImageError."""

    def __init__(self, stream: Any, path: Path, kind: str, error: type[Exception]) -> None:
        self._stream = stream
        self._path = path
        self._kind = kind
        self._error = error  # the decompressor's own exception class

    def read(self, n: int = -1) -> bytes:
        try:
            return self._stream.read(n)
        except (EOFError, OSError, self._error) as exc:
            reason = f"truncated or corrupt {self._kind} data ({exc or type(exc).__name__})"
            raise ImageError(f"source {self._path}", reason) from exc

    def readable(self) -> bool:
        return True
