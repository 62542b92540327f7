"""Removing images by dockerd's rules (moby's daemon/images/image_delete.go).

- A name that is a reference untags it; the image goes too when that was its last name and no
  container stops it (a running one always does; a stopped one unless forced). A tag removed
  that leaves its repository without tags takes that repository's digest names along.
- An id (or id prefix) deletes the image and all its names; more names than one repository's
  single tag need force, and a running container refuses it even then.
- Deleting drops the image's index entries, then collects the blobs and snapshots nothing
  else needs (a container's leased snapshots stay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from porter_image.reference import parse_docker_reference
from porter_image.snapshots import chain_ids

from porterd.errors import Conflict
from porterd.images import index
from porterd.images.records import ContainerUse, DeleteResult, PruneResult, StoredImage

if TYPE_CHECKING:
    from porterd.images.store import ImageStore


def remove_image(store: ImageStore, name: str, force: bool, prune: bool) -> list[DeleteResult]:
    """`DELETE /images/{name}`: the untagged names and deleted ids, in dockerd's order."""

    with store._changing:
        stored, by_id = store._resolve(name, store._scan())
        users = list(store.usage.containers_using(stored.id))
        if by_id:
            _check_delete_by_id(stored, users, force)
            results = _untag(store, stored, stored.names)
            return results + _delete(store, stored, users, force, prune)
        full = str(parse_docker_reference(name))
        if not force and users and len(stored.names) == 1:
            raise Conflict(
                f'conflict: unable to remove repository reference "{name}" (must force)'
                f" - container {users[0].id[:12]} is using its referenced image {stored.short_id}"
            )
        results = _untag(store, stored, [full, *_orphaned_digests(stored.names, full)])
        if len(stored.names) > len(results):
            return results
        if _conflict(stored, users, force):
            return results  # the untag finished the remove; the image stays, dangling
        return results + _delete(store, stored, users, force, prune)


def prune_images(
    store: ImageStore, dangling_only: bool, keep: Callable[[StoredImage], bool]
) -> PruneResult:
    """`POST /images/prune`: remove unused images (only unnamed ones when `dangling_only`)
    except those `keep` (the filters) holds back."""
    deleted: list[DeleteResult] = []
    space = 0
    with store._changing:
        for stored in store.images():
            if dangling_only and stored.names:
                continue
            if keep(stored) or store.usage.containers_using(stored.id):
                continue
            before = store.snapshots.chain_ids()
            deleted += _untag(store, stored, stored.names)
            deleted += _delete(store, stored, [], True, True)
            space += stored.size if set(before) - set(store.snapshots.chain_ids()) else 0
    return PruneResult(tuple(deleted), space)


def _check_delete_by_id(stored: StoredImage, users: list[ContainerUse], force: bool) -> None:
    repositories = {parse_docker_reference(n).name for n in stored.names}
    tags = [n for n in stored.names if "@" not in n]
    single = len(repositories) <= 1 and len(tags) <= 1
    if not single and not force:
        raise Conflict(
            f"conflict: unable to delete {stored.short_id} (must be forced)"
            " - image is referenced in multiple repositories"
        )
    message = _conflict(stored, users, force)
    if message:
        raise Conflict(message)


def _conflict(stored: StoredImage, users: list[ContainerUse], force: bool) -> str | None:
    """Why containers keep the image: a running one always, a stopped one unless forced."""
    for user in users:
        if user.running:
            return (
                f"conflict: unable to delete {stored.short_id} (cannot be forced)"
                f" - image is being used by running container {user.id[:12]}"
            )
    if users and not force:
        return (
            f"conflict: unable to delete {stored.short_id} (must be forced)"
            f" - image is being used by stopped container {users[0].id[:12]}"
        )
    return None


def _orphaned_digests(names: Iterable[str], removed: str) -> list[str]:
    """Digest names of `removed`'s repository, when no tag of that repository is left."""
    if "@" in removed:
        return []
    repository = parse_docker_reference(removed).name
    same = [n for n in names if n != removed and parse_docker_reference(n).name == repository]
    if any("@" not in n for n in same):
        return []
    return same


def _untag(store: ImageStore, stored: StoredImage, names: Iterable[str]) -> list[DeleteResult]:
    names = [n for n in names if n in stored.names]
    if not names:
        return []
    store._set_names(stored, drop=names)
    results = []
    for name in names:
        familiar = parse_docker_reference(name).familiar()
        store._publish("untag", stored.id, familiar)
        results.append(DeleteResult(untagged=familiar))
    return results


def _delete(
    store: ImageStore, stored: StoredImage, users: list[ContainerUse], force: bool, prune: bool
) -> list[DeleteResult]:
    manifests = store._manifest_configs()

    def edit(entries: index.Entries) -> index.Entries:
        return [e for e in entries if manifests.get(e["digest"]) != stored.id]

    index.edit_entries(store.layout(), edit)
    store._publish("delete", stored.id)
    results = [DeleteResult(deleted=stored.id)]
    if prune:
        removed = store.collect()
        mine = set(chain_ids(stored.diff_ids))
        results += [DeleteResult(deleted=str(c)) for c in removed if c in mine]
    return results
