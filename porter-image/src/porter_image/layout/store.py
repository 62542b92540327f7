"""An OCI image layout on disk: `oci-layout`, `index.json` and `blobs/<alg>/<encoded>`.

This is porter-image's content-addressed store (umoci's `cas` engine plays the same part).
Blobs are streamed in, verified against their digest and placed atomically; `index.json`
is rewritten atomically; tags are the `org.opencontainers.image.ref.name` annotations of
its entries, as skopeo and umoci read and write them.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from porter_specs import media_types
from porter_specs.canonical import canonical_json, load_json
from porter_specs.digest import Digest, check, from_bytes, read_chunks
from porter_specs.errors import PorterError, SizeMismatchError
from porter_specs.models import Descriptor

from porter_image.errors import (
    BlobNotFoundError,
    InvalidTagError,
    LayoutError,
    TagNotFoundError,
)
from porter_image.layout.atomic import TempBlob, fsync_dir, write_file_atomic
from porter_image.layout.files import INDEX_FILE, LAYOUT_FILE
from porter_image.layout.lock import DirectoryLock
from porter_image.layout.problem import Problem

REF_NAME = "org.opencontainers.image.ref.name"
# Documents (manifests, indexes, configs) are read into memory; refuse absurd ones. The
# distribution-spec suggests registries accept manifests of at least 4 MiB.
MAX_DOCUMENT_SIZE = 16 << 20
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


def check_tag(tag: str) -> str:
    """Return `tag` when porter-image may write it, else raise InvalidTagError."""
    if not _TAG.match(tag):
        raise InvalidTagError(tag)
    return tag


@dataclass(frozen=True)
class IndexEntry:
    """One descriptor of index.json and the tag it carries (None when untagged)."""

    tag: str | None
    descriptor: Descriptor


class Layout:
    """One image layout directory; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.blobs = self.path / "blobs"
        self.gc_lock = DirectoryLock(self.path)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str) -> Layout:
        """Open an existing layout, refusing anything that lacks its oci-layout/index.json."""
        layout = cls(Path(path))
        if not layout.path.is_dir():
            raise LayoutError(path, "no such layout directory")
        header = layout.path / LAYOUT_FILE
        if not header.is_file():
            raise LayoutError(path, f"not an OCI image layout (no {LAYOUT_FILE} file)")
        document = load_json(header.read_bytes(), f"layout {path}: {LAYOUT_FILE}")
        if not isinstance(document, dict) or "imageLayoutVersion" not in document:
            raise LayoutError(path, f"{LAYOUT_FILE} has no imageLayoutVersion")
        if not (layout.path / INDEX_FILE).is_file():
            raise LayoutError(path, f"not an OCI image layout (no {INDEX_FILE})")
        return layout

    @classmethod
    def create(cls, path: Path | str) -> Layout:
        """Make a new, empty layout; the directory may exist but must be empty."""
        layout = cls(Path(path))
        if layout.path.exists() and (not layout.path.is_dir() or any(layout.path.iterdir())):
            raise LayoutError(path, "exists and is not an empty directory")
        layout.path.mkdir(parents=True, exist_ok=True)
        (layout.blobs / "sha256").mkdir(parents=True, exist_ok=True)
        index = {"schemaVersion": 2, "mediaType": media_types.IMAGE_INDEX, "manifests": []}
        write_file_atomic(layout.path / INDEX_FILE, canonical_json(index))
        header = {"imageLayoutVersion": media_types.OCI_LAYOUT_VERSION}
        write_file_atomic(layout.path / LAYOUT_FILE, canonical_json(header))
        return layout

    @classmethod
    def open_or_create(cls, path: Path | str) -> Layout:
        """Open a layout, creating it first when nothing exists at `path` yet."""
        if not Path(path).exists():
            return cls.create(path)
        return cls.open(path)

    @classmethod
    @contextmanager
    def for_writing(cls, path: Path | str) -> Iterator[Layout]:
        """Open (or create) a layout and hold the writers' lock for the block.

        When the block fails and the layout was created for it, the layout is removed again,
        so a failed first write leaves nothing behind.
        """
        created = not Path(path).exists()
        layout = cls.create(path) if created else cls.open(path)
        try:
            with layout.writing():
                yield layout
        except BaseException:
            if created:
                import shutil

                shutil.rmtree(layout.path, ignore_errors=True)
            raise

    # -- locking ---------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Layout]:
        """Hold the writers' (shared) lock, so gc waits until what is written is referenced."""
        with self.gc_lock.hold(exclusive=False):
            yield self

    # -- blobs -----------------------------------------------------------------------------

    def blob_path(self, digest: Digest) -> Path:
        return self.blobs / digest.algorithm / digest.encoded

    def has_blob(self, digest: Digest) -> bool:
        return self.blob_path(digest).is_file()

    def open_blob(self, digest: Digest) -> BinaryIO:
        """Open a blob for reading (unverified; see `read_json` and VerifyingReader)."""
        try:
            return open(self.blob_path(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFoundError(self.path, digest) from None

    def put_blob(
        self,
        stream: BinaryIO,
        expected: Digest | None = None,
        size: int | None = None,
        sync_dir: bool = True,
    ) -> tuple[Digest, int]:
        """Stream a blob in; when `expected`/`size` are given, refuse content that differs.

        Nothing becomes visible unless it is complete and verified. The blob's bytes are
        always fsynced; with `sync_dir` False its name is not, and the caller must call
        `sync_blobs()` before anything durable (a tag) refers to it: a copy of many blobs
        then fsyncs the folder once, not once per blob.
        """
        algorithm = expected.algorithm if expected else "sha256"
        with self.writing():
            if expected is not None and self.has_blob(expected):
                stored = self.blob_path(expected).stat().st_size
                if size is not None and stored != size:
                    raise SizeMismatchError(size, stored, f"blob {expected}")
                return expected, stored
            temp = TempBlob(self.path, algorithm)
            try:
                self._copy_into(stream, temp, size, expected)
                digest = temp.digest()
                if expected is not None:
                    check(expected, digest, size, temp.size, f"blob {expected}")
                elif size is not None and size != temp.size:
                    raise SizeMismatchError(size, temp.size, f"blob {digest}")
                temp.place(self.blob_path(digest), sync_dir)
            except BaseException:
                temp.discard()
                raise
            return digest, temp.size

    @staticmethod
    def _copy_into(
        stream: BinaryIO, temp: TempBlob, size: int | None, expected: Digest | None
    ) -> None:
        for chunk in read_chunks(stream):
            temp.write(chunk)
            if size is not None and temp.size > size:
                raise SizeMismatchError(size, temp.size, f"blob {expected or 'upload'}")

    def sync_blobs(self) -> None:
        """Make the names of the blobs stored with `sync_dir=False` durable."""
        if self.blobs.is_dir():
            for folder in self.blobs.iterdir():
                if folder.is_dir():
                    fsync_dir(folder)

    def put_bytes(self, data: bytes) -> tuple[Digest, int]:
        """Store in-memory content (small documents)."""
        return self.put_blob(io.BytesIO(data))

    def put_json(self, media_type: str, document: Any) -> Descriptor:
        """Store a document in canonical JSON and return its descriptor."""
        data = canonical_json(document)
        digest, size = self.put_bytes(data)
        return Descriptor(media_type, digest, size)

    @contextmanager
    def blob_writer(self, algorithm: str = "sha256") -> Iterator[TempBlob]:
        """A writable file committed atomically under its digest when the block ends cleanly.

        After the block, `writer.digest()` and `writer.size` say what was stored; on an error
        the temp file is removed and the layout is unchanged.
        """
        with self.writing():
            temp = TempBlob(self.path, algorithm)
            try:
                yield temp
                target = self.blob_path(temp.digest())
                if target.exists():
                    temp.discard()
                else:
                    temp.place(target)
            except BaseException:
                temp.discard()
                raise

    def read_blob(self, descriptor: Descriptor, limit: int = MAX_DOCUMENT_SIZE) -> bytes:
        """Read a small blob and verify it against its descriptor."""
        what = f"blob {descriptor.digest}"
        if descriptor.size > limit:
            raise LayoutError(self.path, f"{what}: {descriptor.size} bytes is too large to read")
        with self.open_blob(descriptor.digest) as blob:
            data = blob.read(limit + 1)
        check(
            descriptor.digest,
            from_bytes(data, descriptor.digest.algorithm),
            descriptor.size,
            len(data),
            what,
        )
        return data

    def read_json(self, descriptor: Descriptor) -> Any:
        """Read, verify and parse a JSON blob (manifest, index, config)."""
        data = self.read_blob(descriptor)
        return load_json(data, f"blob {descriptor.digest} ({descriptor.media_type})")

    def blob_digests(self) -> Iterator[Digest]:
        """Every blob file under blobs/, by the digest its path names (invalid names skipped)."""
        if not self.blobs.is_dir():
            return
        for alg_dir in sorted(self.blobs.iterdir()):
            if not alg_dir.is_dir():
                continue
            for entry in sorted(os.listdir(alg_dir)):
                try:
                    yield Digest.parse(f"{alg_dir.name}:{entry}")
                except PorterError:
                    continue

    # -- index.json and tags ---------------------------------------------------------------

    def read_index(self) -> dict[str, Any]:
        document = load_json(
            (self.path / INDEX_FILE).read_bytes(), f"layout {self.path}: index.json"
        )
        if not isinstance(document, dict) or not isinstance(document.get("manifests"), list):
            raise LayoutError(self.path, "index.json has no manifests list")
        return document

    def entries(self) -> list[IndexEntry]:
        """index.json's descriptors with their tags, in file order."""
        result = []
        for raw in self.read_index()["manifests"]:
            try:
                descriptor = Descriptor.from_json(raw)
            except (PorterError, TypeError, AttributeError) as exc:
                raise LayoutError(self.path, f"index.json: invalid descriptor: {exc}") from exc
            result.append(IndexEntry(descriptor.annotations.get(REF_NAME), descriptor))
        return result

    def tags(self) -> list[str]:
        return sorted({e.tag for e in self.entries() if e.tag is not None})

    def resolve(self, tag: str) -> Descriptor:
        """The descriptor index.json holds for `tag`."""
        for entry in self.entries():
            if entry.tag == tag:
                return entry.descriptor
        raise TagNotFoundError(self.path, tag)

    def set_tag(self, tag: str, descriptor: Descriptor) -> None:
        """Point `tag` at `descriptor` (replacing what it named before), atomically; when the
        tag already names exactly that entry, index.json is left as it is. An untagged entry
        of the same digest takes the name (as skopeo does), rather than staying beside it."""
        check_tag(tag)
        if not self.has_blob(descriptor.digest):
            raise BlobNotFoundError(self.path, descriptor.digest)
        entry = descriptor.with_annotations(**{REF_NAME: tag}).to_json()
        with self.writing(), self._index_lock():
            index = self.read_index()
            if [m for m in index["manifests"] if _ref_name(m) == tag] == [entry]:
                return
            kept = [m for m in index["manifests"] if _ref_name(m) != tag]
            index["manifests"] = _placed(kept, entry)
            self._write_index(index)

    def add_untagged(self, descriptors: list[Descriptor]) -> None:
        """List manifests in index.json without a name (an untagged copy, an image's
        referrers), as skopeo does: an untagged entry of the same digest is replaced, any
        other is kept; one atomic write for them all."""
        for descriptor in descriptors:
            if not self.has_blob(descriptor.digest):
                raise BlobNotFoundError(self.path, descriptor.digest)
        with self.writing(), self._index_lock():
            index = self.read_index()
            manifests = list(index["manifests"])
            for descriptor in descriptors:
                annotations = {k: v for k, v in descriptor.annotations.items() if k != REF_NAME}
                manifests = _placed(
                    manifests, replace(descriptor, annotations=annotations).to_json()
                )
            if manifests != index["manifests"]:
                index["manifests"] = manifests
                self._write_index(index)

    def remove_tag(self, tag: str) -> None:
        """Drop the index.json entries named `tag`; their blobs stay until `gc`."""
        with self.writing(), self._index_lock():
            index = self.read_index()
            kept = [m for m in index["manifests"] if _ref_name(m) != tag]
            if len(kept) == len(index["manifests"]):
                raise TagNotFoundError(self.path, tag)
            index["manifests"] = kept
            self._write_index(index)

    @contextmanager
    def _index_lock(self) -> Iterator[None]:
        with DirectoryLock(self.blobs).hold(exclusive=True):
            yield

    def _write_index(self, index: dict[str, Any]) -> None:
        write_file_atomic(self.path / INDEX_FILE, canonical_json(index))

    # -- maintenance -----------------------------------------------------------------------

    def gc(self, dry_run: bool = False) -> list[Digest]:
        """Remove blobs nothing in index.json reaches; see `porter_image.layout.gc`."""
        from porter_image.layout.gc import collect

        return collect(self, dry_run)

    def fsck(self) -> list[Problem]:
        """Every integrity problem of the layout; see `porter_image.layout.fsck`."""
        from porter_image.layout.fsck import check_layout

        return check_layout(self)


def _ref_name(raw: Any) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("annotations"), dict):
        return raw["annotations"].get(REF_NAME)
    return None


def _placed(manifests: list[Any], entry: dict[str, Any]) -> list[Any]:
    """`manifests` with `entry` in the place of the first untagged entry of its digest, or
    after the rest (skopeo's rule for index.json)."""
    for i, m in enumerate(manifests):
        if _ref_name(m) is None and isinstance(m, dict) and m.get("digest") == entry["digest"]:
            return [*manifests[:i], entry, *manifests[i + 1 :]]
    return [*manifests, entry]
