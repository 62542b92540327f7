"""What the image store hands out and what it asks of the rest of porterd: frozen records and
small protocols, so the containers, the API and the store meet only here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from porter_specs.digest import Digest


@dataclass(frozen=True)
class ContainerUse:
    """A container made from an image, as far as removing the image is concerned."""

    id: str
    running: bool


class ImageUsage(Protocol):
    """Which containers use an image (given by its id, `sha256:...`); the containers
    service implements it, so that removing an image in use is refused as dockerd does."""

    def containers_using(self, image_id: str) -> Sequence[ContainerUse]: ...


class NoContainers:
    """The usage of a store that no containers service stands beside (tests, tools)."""

    def containers_using(self, image_id: str) -> Sequence[ContainerUse]:
        return ()


class EventSink(Protocol):
    """Where image events go (`porterd.events.EventBus` is one)."""

    def publish(
        self, type: str, action: str, actor_id: str, attributes: Mapping[str, str] | None = None
    ) -> object: ...


@dataclass(frozen=True)
class StoredImage:
    """One image of the store: its id is its config's digest, as dockerd's image ids are.

    `names` are full references (`docker.io/library/busybox:latest`, `...@sha256:...`);
    `config` is the OCI image config as stored; `layer_sizes` the bytes of each unpacked layer.
    """

    id: str
    manifest_digest: Digest
    names: tuple[str, ...]
    config: Mapping[str, Any]
    layer_digests: tuple[Digest, ...]
    diff_ids: tuple[Digest, ...]
    layer_sizes: tuple[int, ...]
    tagged_at: str | None = None

    @property
    def size(self) -> int:
        return sum(self.layer_sizes)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class ContainerImage:
    """What a container needs of its image: the id, the OCI image config and the overlay
    lowerdirs (topmost first) to mount with `porter_image.snapshots.mount_overlay`."""

    id: str
    config: Mapping[str, Any]
    lowerdirs: tuple[Path, ...]
    chain_ids: tuple[Digest, ...] = field(default=())


@dataclass(frozen=True)
class DeleteResult:
    """One line of dockerd's image delete answer: a name untagged or an id deleted."""

    untagged: str | None = None
    deleted: str | None = None

    def to_json(self) -> dict[str, str]:
        if self.untagged is not None:
            return {"Untagged": self.untagged}
        return {"Deleted": self.deleted or ""}


@dataclass(frozen=True)
class PruneResult:
    """What `POST /images/prune` answers: the delete lines and the bytes freed."""

    deleted: tuple[DeleteResult, ...]
    space_reclaimed: int
