"""Integrity checks of a layout: every reference, every blob's digest and size, every schema.

`validate_layout` checks what index.json (or one tag) reaches; `check_layout` (fsck) adds
every blob file on disk, referenced or not. Both report all problems, each naming the
broken object, instead of stopping at the first.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Any

from porter_specs.canonical import load_json
from porter_specs.digest import Digest, from_stream
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor

from porter_image.layout.atomic import TEMP_PREFIX
from porter_image.layout.files import INDEX_FILE, LAYOUT_FILE
from porter_image.layout.problem import Problem
from porter_image.layout.walk import edges, is_document
from porter_image.schema import KIND_OF_MEDIA_TYPE, schema_problems

if TYPE_CHECKING:
    from porter_image.layout.store import Layout


class Checker:
    """Walks a layout's references once, hashing each blob at most once."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.problems: list[Problem] = []
        self._verified: dict[Digest, int | None] = {}  # digest -> size on disk, None if bad
        self._visited: set[Digest] = set()

    def add(self, obj: str, reason: str) -> None:
        self.problems.append(Problem(obj, reason))

    def check_header(self) -> None:
        for name, kind in ((LAYOUT_FILE, "layout-header"), (INDEX_FILE, "index.json")):
            try:
                document = load_json((self.layout.path / name).read_bytes(), name)
            except (OSError, PorterError) as exc:
                self.add(name, str(exc))
                continue
            for problem in schema_problems(document, kind):
                self.add(name, f"schema: {problem}")
        counts = Counter(t for t in _index_tags(self.layout) if t is not None)
        for tag, count in sorted(counts.items()):
            if count > 1:
                self.add("index.json", f"tag {tag!r} names {count} entries")

    def check_index_entries(self, tag: str | None = None) -> None:
        """Check every entry of index.json, or only the one named `tag`."""
        try:
            entries = self.layout.entries()
        except PorterError as exc:
            self.add("index.json", str(exc))
            return
        for i, entry in enumerate(entries):
            if tag is None or entry.tag == tag:
                self.check_descriptor(entry.descriptor, f"index.json /manifests/{i}")

    def check_descriptor(self, descriptor: Descriptor, parent: str, required: bool = True) -> None:
        """Check one referenced blob and, for manifests and indexes, what it references."""
        digest = descriptor.digest
        if not self.layout.has_blob(digest):
            if required:
                self.add(f"blob {digest}", f"missing (referenced by {parent})")
            return
        if not self._verify_blob(digest, descriptor.size, parent):
            return
        if digest in self._visited:
            return
        self._visited.add(digest)
        kind = KIND_OF_MEDIA_TYPE.get(descriptor.media_type)
        if kind is None:
            return
        document = self._load(descriptor)
        if document is None:
            return
        found = schema_problems(document, kind)
        for problem in found:
            self.add(f"{kind} {digest}", f"schema: {problem}")
        if is_document(descriptor.media_type):
            self._check_children(descriptor, document, report_shape=not found)

    def _check_children(self, descriptor: Descriptor, document: Any, report_shape: bool) -> None:
        name = f"{KIND_OF_MEDIA_TYPE[descriptor.media_type]} {descriptor.digest}"
        try:
            references = list(edges(descriptor.media_type, document))
        except PorterError as exc:
            if report_shape:  # otherwise the schema problems already say it
                self.add(name, str(exc))
            return
        for edge in references:
            self.check_descriptor(edge.descriptor, f"{name} {edge.field}", edge.required)
        if KIND_OF_MEDIA_TYPE[descriptor.media_type] == "manifest":
            self._check_diff_ids(name, document, references)

    def _check_diff_ids(self, name: str, manifest: Any, references: list[Any]) -> None:
        config = references[0].descriptor
        if KIND_OF_MEDIA_TYPE.get(config.media_type) != "config":
            return  # an artifact: its config is not an image config
        document = self._load(config, report=False)
        rootfs = document.get("rootfs") if isinstance(document, dict) else None
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        layers = manifest.get("layers") or []
        if isinstance(diff_ids, list) and len(diff_ids) != len(layers):
            self.add(name, f"{len(layers)} layers but its config lists {len(diff_ids)} diff_ids")

    def _load(self, descriptor: Descriptor, report: bool = True) -> Any:
        try:
            return self.layout.read_json(descriptor)
        except PorterError as exc:
            if report:
                self.add(f"blob {descriptor.digest}", str(exc).split(": ", 1)[-1])
            return None

    def _verify_blob(self, digest: Digest, size: int | None, parent: str) -> bool:
        """Hash a blob (once) and compare it with its name and, if given, the promised size."""
        if digest not in self._verified:
            with self.layout.open_blob(digest) as blob:
                actual, actual_size = from_stream(blob, digest.algorithm)
            if actual != digest:
                self.add(f"blob {digest}", f"content hashes to {actual} (corrupt)")
                self._verified[digest] = None
            else:
                self._verified[digest] = actual_size
        stored = self._verified[digest]
        if stored is None:
            return False
        if size is not None and stored != size:
            self.add(f"blob {digest}", f"is {stored} bytes but {parent} says {size}")
            return False
        return True

    def check_all_blobs(self) -> None:
        """Verify every file under blobs/, including ones nothing references."""
        blobs = self.layout.blobs
        if not blobs.is_dir():
            self.add("blobs", "missing directory")
            return
        for alg_dir in sorted(blobs.iterdir()):
            if not alg_dir.is_dir():
                self.add(f"blobs/{alg_dir.name}", "not a directory")
                continue
            for name in sorted(os.listdir(alg_dir)):
                try:
                    digest = Digest.parse(f"{alg_dir.name}:{name}")
                except PorterError as exc:
                    self.add(f"blobs/{alg_dir.name}/{name}", f"not a blob: {exc}")
                    continue
                self._verify_blob(digest, None, "its file name")

    def check_temp_files(self) -> None:
        for entry in sorted(os.listdir(self.layout.path)):
            if entry.startswith(TEMP_PREFIX):
                self.add(entry, "stale temp file of an interrupted write (gc removes it)")


def _index_tags(layout: Layout) -> list[str | None]:
    try:
        return [e.tag for e in layout.entries()]
    except PorterError:
        return []


def validate_layout(layout: Layout, tag: str | None = None) -> list[Problem]:
    """Schemas and digests of what index.json (or just `tag`) reaches."""
    checker = Checker(layout)
    if tag is None:
        checker.check_header()
    else:
        layout.resolve(tag)  # TagNotFoundError for an unknown tag
    checker.check_index_entries(tag)
    return checker.problems


def check_layout(layout: Layout) -> list[Problem]:
    """Everything `validate_layout` checks, plus every blob on disk and stale temp files."""
    checker = Checker(layout)
    checker.check_header()
    checker.check_index_entries()
    checker.check_all_blobs()
    checker.check_temp_files()
    return checker.problems
