"""The Dockerfile builder over porterd's image store, as `porterd.building` runs a build.

Imported when a build starts, not with the build router: it pulls in porter_image's builder.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

from porter_image.build import Builder, BuildError
from porter_image.build.state import StageState
from porter_image.distribution.auth import Credentials
from porter_image.dockerfile.parse import parse_dockerfile
from porter_image.image import Image
from porter_image.layout import Layout
from porter_image.progress import Progress
from porter_image.reference import InvalidReferenceError, parse_docker_reference
from porter_image.snapshots import Snapshot, SnapshotStore, chain_ids
from porter_specs.digest import Digest
from porter_specs.models import Platform

from porterd.errors import NotFound
from porterd.images import ImageStore, StoredImage
from porterd.images.registry import Emit


class LeasedSnapshots(SnapshotStore):
    """The image store's snapshots as a build uses them: every chain a step stands on is
    leased to the build before it is unpacked, so a collect keeps it until `release`."""

    def __init__(self, root: Path, holder: str) -> None:
        super().__init__(root)
        self.holder = holder
        self.chains: set[Digest] = set()

    def prepare(
        self, layout: Layout, image: Image, progress: Progress | None = None
    ) -> tuple[Snapshot, ...]:
        self.chains.update(chain_ids(image.config.diff_ids))
        self.lease(self.holder, self.chains)
        return super().prepare(layout, image, progress)


class StoreBuilder(Builder):
    """The builder with FROM resolved against porterd's image store.

    `prefetch` pulls what the store lacks before `build` takes the layout's writers' lock: a
    pull names its image under the store's lock, which a concurrent collect holds while it
    waits for the writers, so a pull from inside the build could wait forever."""

    def __init__(
        self, store: ImageStore, emit: Emit, credentials: dict[str, Credentials], *args: Any
    ) -> None:
        super().__init__(*args)
        self.store = store
        self.emit = emit
        self.credentials = credentials
        self.bases: dict[str, StoredImage] = {}  # what prefetch found or pulled, by name
        self.holder = f"build-{uuid.uuid4().hex[:16]}"

    @functools.cached_property
    def snapshots(self) -> SnapshotStore:
        """The store's snapshots (layers the store has unpacked are not unpacked again),
        leased to this build until `release_snapshots`."""
        return LeasedSnapshots(self.store.snapshots.root, self.holder)

    def release_snapshots(self) -> None:
        self.store.release(self.holder)

    def prefetch(self, text: str) -> None:
        """Find or pull the images that the stages the target needs name."""
        dockerfile = parse_dockerfile(text, self.options.dockerfile)
        scope = self._global_args(dockerfile)
        target = self._target(dockerfile)
        needed = self._needed(dockerfile, target, scope)
        for stage in dockerfile.stages[: target.index + 1]:
            if stage.index not in needed:
                continue
            where = f"{dockerfile.file}:{stage.base.line}: FROM"
            for name in self._references(dockerfile, stage, scope):
                if name.lower() == "scratch" or name in self.bases:
                    continue
                if self.stage_by_name(dockerfile, name, stage.index) is None:
                    self.bases[name] = self._find_or_pull(name, where, self.platform)

    def image_state(self, image: str, where: str, platform: Platform | None = None) -> StageState:
        stored = self.bases.get(image) or self._find_or_pull(
            image, where, platform or self.platform
        )
        loaded = self.store.image(stored)
        document = {
            "config": loaded.config_json,
            "layers": [layer.to_json() for layer in loaded.manifest.layers],
            "manifest": str(loaded.descriptor.digest),
        }
        return self._state_of(document)

    def _find_or_pull(self, image: str, where: str, platform: Platform) -> StoredImage:
        stored = None if self.options.pull else self._stored(image)
        return stored or self._pull_into_store(image, where, platform)

    def _stored(self, image: str) -> StoredImage | None:
        try:
            return self.store.get(image)
        except NotFound:
            return None

    def _pull_into_store(self, image: str, where: str, platform: Platform) -> StoredImage:
        try:
            reference = parse_docker_reference(image)
        except InvalidReferenceError as exc:
            raise BuildError(where, f"{image}: {exc}") from exc
        credentials = self.credentials.get(reference.domain)
        return self.store.pull(reference, self.emit, platform, credentials)
