"""The image store: names as dockerd resolves them, tags, removal rules, prune, containers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from image_support import add_image, new_store, users
from porter_image.layer.testing import archive, file
from porter_image.layout import Layout
from porter_image.snapshots.testing import layered_image
from porter_specs.errors import PorterError
from porterd.errors import Conflict, InvalidParameter, NotFound
from porterd.images import ContainerUse, DeleteResult, ImageStore

BUSYBOX = "docker.io/library/busybox:latest"


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return new_store(tmp_path)


def test_a_new_store_is_an_empty_oci_image_layout(store: ImageStore) -> None:
    assert store.images() == []
    assert Layout.open(store.layout_path).entries() == []


def test_the_image_id_is_the_config_digest(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    image = store.image(stored)
    assert stored.id == str(image.manifest.config.digest)


@pytest.mark.parametrize(
    "name", ["busybox", "busybox:latest", "docker.io/library/busybox", "library/busybox"]
)
def test_a_reference_resolves_in_any_of_its_docker_spellings(store: ImageStore, name: str) -> None:
    stored = add_image(store, [BUSYBOX])
    assert store.get(name) == stored


def test_an_id_resolves_whole_short_or_with_its_algorithm(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    hex_id = stored.id.removeprefix("sha256:")
    for name in (stored.id, hex_id, hex_id[:12], "sha256:" + hex_id[:5]):
        assert store.get(name) == stored


def test_a_name_nothing_carries_is_not_found_in_dockers_words(store: ImageStore) -> None:
    with pytest.raises(NotFound, match=r"^No such image: nothing:latest$"):
        store.get("nothing")


def test_an_ambiguous_id_prefix_is_not_found(store: ImageStore) -> None:
    ids = [add_image(store, [], {"f": str(i).encode()}).id for i in range(17)]
    first = [i.removeprefix("sha256:")[0] for i in ids]
    shared = next(c for c in first if first.count(c) > 1)
    with pytest.raises(NotFound, match="ambiguous"):
        store.get(shared)


def test_the_layout_names_images_by_full_reference_for_skopeo_and_umoci(store: ImageStore) -> None:
    add_image(store, [BUSYBOX])
    index = json.loads((store.layout_path / "index.json").read_bytes())
    names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
    assert names == [BUSYBOX]


def test_tag_adds_a_name(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    assert store.tag("busybox", "localhost:5000/mine", "v1") == "localhost:5000/mine:v1"
    assert store.get("localhost:5000/mine:v1").id == stored.id
    assert set(store.get(stored.id).names) == {BUSYBOX, "localhost:5000/mine:v1"}


def test_tag_without_a_tag_means_latest(store: ImageStore) -> None:
    add_image(store, [BUSYBOX])
    assert store.tag("busybox", "other") == "docker.io/library/other:latest"


def test_moving_a_tag_leaves_the_old_image_dangling(store: ImageStore) -> None:
    old = add_image(store, [BUSYBOX], {"v": b"1"})
    new = add_image(store, ["docker.io/library/other:latest"], {"v": b"2"})
    store.tag(new.id, "busybox")
    assert store.get("busybox").id == new.id
    assert store.get(old.id).names == ()


@pytest.mark.parametrize("repo", ["", "UPPER", "x@sha256:" + "a" * 64, "a b"])
def test_tag_to_a_malformed_or_digest_reference_is_invalid(store: ImageStore, repo: str) -> None:
    add_image(store, [BUSYBOX])
    with pytest.raises(InvalidParameter):
        store.tag("busybox", repo)


def test_removing_one_of_two_names_only_untags(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX, "docker.io/library/busybox:1"])
    assert store.remove("busybox:1") == [DeleteResult(untagged="busybox:1")]
    assert store.get(stored.id).names == (BUSYBOX,)


def test_removing_the_last_name_deletes_the_image_its_blobs_and_snapshots(
    store: ImageStore,
) -> None:
    stored = add_image(store, [BUSYBOX])
    results = store.remove("busybox")
    assert results[:2] == [DeleteResult(untagged="busybox:latest"), DeleteResult(deleted=stored.id)]
    assert [r.deleted for r in results[2:]] == [str(d) for d in stored.diff_ids]
    assert store.images() == []
    assert list(Layout.open(store.layout_path).blob_digests()) == []
    assert store.snapshots.chain_ids() == []


def test_removing_a_tag_takes_the_digest_names_of_its_repository(store: ImageStore) -> None:
    digest_name = "docker.io/library/busybox@sha256:" + "1" * 64
    add_image(store, [BUSYBOX, digest_name])
    untagged = [r.untagged for r in store.remove("busybox") if r.untagged]
    assert untagged == ["busybox:latest", "busybox@sha256:" + "1" * 64]


def test_removing_by_id_with_names_in_two_repositories_needs_force(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX, "docker.io/library/other:latest"])
    with pytest.raises(Conflict, match="referenced in multiple repositories"):
        store.remove(stored.short_id)
    results = store.remove(stored.short_id, force=True)
    assert {r.untagged for r in results if r.untagged} == {"busybox:latest", "other:latest"}
    assert store.images() == []


def test_an_image_a_running_container_uses_cannot_be_removed_even_by_force(
    store: ImageStore,
) -> None:
    stored = add_image(store, [BUSYBOX])
    users(store)[stored.id] = [ContainerUse("c" * 64, running=True)]
    with pytest.raises(Conflict, match=r"cannot be forced.*running container cccccccccccc"):
        store.remove(stored.id, force=True)


def test_forcing_a_name_off_an_image_a_running_container_uses_only_untags(
    store: ImageStore,
) -> None:
    stored = add_image(store, [BUSYBOX])
    users(store)[stored.id] = [ContainerUse("c" * 64, running=True)]
    assert store.remove("busybox", force=True) == [DeleteResult(untagged="busybox:latest")]
    assert store.get(stored.id).names == ()


def test_removing_the_name_of_an_image_a_stopped_container_uses_needs_force(
    store: ImageStore,
) -> None:
    stored = add_image(store, [BUSYBOX])
    users(store)[stored.id] = [ContainerUse("d" * 64, running=False)]
    with pytest.raises(Conflict, match=r'repository reference "busybox" \(must force\)'):
        store.remove("busybox")
    assert next(r.deleted for r in store.remove("busybox", force=True) if r.deleted) == stored.id


def test_prune_removes_only_dangling_images_by_default(store: ImageStore) -> None:
    add_image(store, [BUSYBOX], {"v": b"1"})
    dangling = add_image(store, [], {"v": b"2"})
    report = store.prune()
    assert next(r.deleted for r in report.deleted) == dangling.id
    assert report.space_reclaimed == dangling.size
    assert [s.names for s in store.images()] == [(BUSYBOX,)]


def test_prune_of_all_keeps_images_containers_use(store: ImageStore) -> None:
    used = add_image(store, [BUSYBOX], {"v": b"1"})
    add_image(store, ["docker.io/library/other:latest"], {"v": b"2"})
    users(store)[used.id] = [ContainerUse("e" * 64, running=False)]
    store.prune(dangling_only=False)
    assert [s.id for s in store.images()] == [used.id]


def test_a_container_image_has_the_config_and_lowerdirs_topmost_first(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX], config={"Cmd": ["sh"], "Env": ["A=1"]})
    mine = store.container_image("busybox", holder="c1")
    assert mine.id == stored.id and mine.config["config"]["Env"] == ["A=1"]
    assert [p.resolve() / "hello" for p in mine.lowerdirs] == [
        (store.snapshots.root / "sn" / c.encoded / "fs" / "hello") for c in mine.chain_ids[::-1]
    ]


def test_a_container_keeps_its_snapshots_after_its_image_is_removed(
    store: ImageStore,
) -> None:
    stored = add_image(store, [BUSYBOX])
    mine = store.container_image("busybox", holder="c1")
    users(store)[stored.id] = [ContainerUse("c1", running=False)]
    store.remove("busybox", force=True)
    assert all(p.is_dir() for p in mine.lowerdirs)
    store.release("c1")
    store.collect()
    assert not any(p.exists() for p in mine.lowerdirs)


def test_container_image_of_an_unknown_name_is_not_found(store: ImageStore) -> None:
    with pytest.raises(NotFound):
        store.container_image("nothing", holder="c1")


def test_an_image_a_crash_left_unnamed_is_dropped_when_the_store_opens(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    layered_image(store.layout(), "porterd-incoming-0123456789abcdef", [archive(file("x"))])
    reopened = new_store(tmp_path)
    assert reopened.images() == []
    assert list(Layout.open(reopened.layout_path).blob_digests()) == []


def test_an_image_whose_manifest_is_lost_does_not_hide_the_others(store: ImageStore) -> None:
    broken = add_image(store, ["docker.io/library/broken:latest"], {"v": b"1"})
    kept = add_image(store, [BUSYBOX], {"v": b"2"})
    store.layout().blob_path(broken.manifest_digest).unlink()
    fresh = new_store(store.root.parent.parent)
    assert [s.id for s in fresh.images()] == [kept.id]
    assert fresh.remove("busybox")[0] == DeleteResult(untagged="busybox:latest")


def test_a_failed_unpack_releases_the_containers_lease(store: ImageStore) -> None:
    stored = add_image(store, [BUSYBOX])
    store.snapshots.collect([])  # the snapshots are gone ...
    layer = store.image(stored).manifest.layers[0]
    store.layout().blob_path(layer.digest).unlink()  # ... and cannot be made again
    with pytest.raises(PorterError):
        store.container_image("busybox", holder="c1")
    assert store.snapshots.leased() == set()


def test_layer_sizes_are_the_unpacked_snapshots_read_once(
    store: ImageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = add_image(store, [BUSYBOX])
    blobs = tuple(layer.size for layer in store.image(stored).manifest.layers)
    chain = store.container_image("busybox", holder="c1").chain_ids
    unpacked = tuple(store.snapshots.get(c).size for c in chain)  # type: ignore[union-attr]
    assert stored.layer_sizes == unpacked != blobs

    reads: list[object] = []
    real_get = store.snapshots.get
    monkeypatch.setattr(store.snapshots, "get", lambda c: reads.append(c) or real_get(c))
    assert store.get("busybox").layer_sizes == unpacked
    assert store.images()[0].layer_sizes == unpacked
    assert reads == []  # a snapshot's size is read once, not on every lookup
