"""Layer snapshots and overlay rootfs mounts, with real overlay mounts (root only)."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_image.image import load_image
from porter_image.layer.testing import archive, directory, file
from porter_image.layout import Layout
from porter_image.snapshots import SnapshotError, SnapshotStore, chain_ids, mount_overlay, unmount
from porter_image.snapshots.overlay import overlay_options
from porter_image.snapshots.testing import layered_image
from porter_specs.digest import from_bytes

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="snapshots hold whiteout devices: needs root"),
]

BASE = archive(
    directory("etc"),
    file("etc/hostname", b"base\n"),
    file("etc/gone", b"x"),
    directory("opaque"),
    file("opaque/old", b"old"),
    directory("kept"),
    file("kept/file", b"kept"),
)
TOP = archive(
    directory("etc"),
    file("etc/.wh.gone"),
    directory("opaque"),
    file("opaque/.wh..wh..opq"),
    file("opaque/new", b"new"),
    file("etc/hostname", b"top\n"),
)


def _overlay_supported() -> bool:
    try:
        with open("/proc/filesystems") as filesystems:
            return any(line.split()[-1] == "overlay" for line in filesystems if line.strip())
    except OSError:
        return False


needs_overlay = pytest.mark.skipif(not _overlay_supported(), reason="no overlay filesystem")


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout.create(tmp_path / "layout")
    layered_image(layout, "two", [BASE, TOP])
    return layout


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[list[Path]]:
    """Mount points a test made; unmounted at the end even when the test failed."""
    targets: list[Path] = []
    yield targets
    for target in targets:
        subprocess.run(["umount", "--lazy", str(target)], capture_output=True, check=False)


def _mount(store: SnapshotStore, layout: Layout, tag: str, root: Path, mounted: list[Path]) -> Path:
    image = load_image(layout, tag)
    store.prepare(layout, image)
    target = root / "merged"
    target.mkdir()
    mounted.append(target)
    lower = store.lowerdirs(chain_ids(image.config.diff_ids))
    mount_overlay(lower, root / "upper", root / "work", target)
    return target


def test_chain_id_of_the_first_layer_is_its_diff_id_then_hashes_the_parent() -> None:
    a, b = from_bytes(b"a"), from_bytes(b"b")
    assert chain_ids([a, b]) == (a, from_bytes(f"{a} {b}".encode()))


def test_each_layer_is_unpacked_into_a_folder_named_by_its_chain_id(
    store: SnapshotStore, layout: Layout
) -> None:
    image = load_image(layout, "two")
    snapshots = store.prepare(layout, image)
    assert [s.chain_id for s in snapshots] == list(chain_ids(image.config.diff_ids))
    folders = [store.root / "sn" / s.chain_id.encoded / "fs" for s in snapshots]
    assert (folders[1] / "opaque" / "new").is_file()
    assert [s.lowerdir.resolve() for s in snapshots] == folders


def test_a_whiteout_is_kept_as_a_zero_zero_character_device(
    store: SnapshotStore, layout: Layout
) -> None:
    top = store.prepare(layout, load_image(layout, "two"))[1]
    st = os.lstat(top.lowerdir / "etc" / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)


def test_an_opaque_directory_carries_the_overlay_opaque_xattr(
    store: SnapshotStore, layout: Layout
) -> None:
    top = store.prepare(layout, load_image(layout, "two"))[1]
    assert os.getxattr(top.lowerdir / "opaque", "trusted.overlay.opaque") == b"y"
    assert not (top.lowerdir / "opaque" / ".wh..wh..opq").exists()


def test_images_sharing_a_layer_share_its_snapshot(store: SnapshotStore, layout: Layout) -> None:
    layered_image(layout, "other", [BASE, archive(file("other", b"1"))])
    first = store.prepare(layout, load_image(layout, "two"))
    second = store.prepare(layout, load_image(layout, "other"))
    assert first[0] == second[0]
    assert len(store.chain_ids()) == 3


def test_concurrent_prepares_of_one_image_unpack_each_layer_once(
    store: SnapshotStore, layout: Layout
) -> None:
    image = load_image(layout, "two")
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.prepare(layout, image)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert len(store.chain_ids()) == 2
    assert os.listdir(store.tmp) == []


def test_a_layer_that_does_not_match_its_diff_id_leaves_no_snapshot(
    store: SnapshotStore, tmp_path: Path
) -> None:
    layout = Layout.create(tmp_path / "bad")
    descriptor = layered_image(layout, "bad", [BASE])
    image = load_image(layout, "bad")
    layer = image.manifest.layers[0]
    blob = layout.blob_path(layer.digest)
    blob.chmod(0o644)
    blob.write_bytes(archive(file("evil", b"x" * (layer.size - 1536))))  # same size, new bytes
    with pytest.raises(SnapshotError, match="layer"):
        store.prepare(layout, image)
    assert store.chain_ids() == [] and os.listdir(store.tmp) == []
    assert descriptor.digest  # the manifest itself was fine


def test_collect_removes_what_is_neither_kept_nor_leased(
    store: SnapshotStore, layout: Layout
) -> None:
    layered_image(layout, "other", [archive(file("solo", b"1"))])
    two = store.prepare(layout, load_image(layout, "two"))
    other = store.prepare(layout, load_image(layout, "other"))
    store.lease("container1", [other[0].chain_id])
    assert store.collect([two[1].chain_id]) == [two[0].chain_id]
    assert store.get(two[0].chain_id) is None and not two[0].lowerdir.exists()
    store.release("container1")
    assert store.collect([]) == sorted([two[1].chain_id, other[0].chain_id])
    assert store.chain_ids() == []


def test_collect_clears_unpacks_a_crash_left_behind(store: SnapshotStore) -> None:
    (store.tmp / "0123-abandoned" / "fs").mkdir(parents=True)
    store.collect([])
    assert os.listdir(store.tmp) == []


def test_a_lease_holder_name_must_be_a_plain_name(store: SnapshotStore) -> None:
    with pytest.raises(SnapshotError, match="holder"):
        store.lease("../escape", [])


def test_lowerdirs_of_a_missing_snapshot_is_an_error(store: SnapshotStore) -> None:
    with pytest.raises(SnapshotError, match="not unpacked"):
        store.lowerdirs([from_bytes(b"never")])


@needs_overlay
def test_the_overlay_shows_the_layers_applied_in_order(
    store: SnapshotStore, layout: Layout, tmp_path: Path, mounted: list[Path]
) -> None:
    merged = _mount(store, layout, "two", tmp_path, mounted)
    assert (merged / "etc" / "hostname").read_bytes() == b"top\n"
    assert not (merged / "etc" / "gone").exists()
    assert os.listdir(merged / "opaque") == ["new"]
    assert (merged / "kept" / "file").read_bytes() == b"kept"


@needs_overlay
def test_writes_land_in_the_upper_folder_and_leave_snapshots_alone(
    store: SnapshotStore, layout: Layout, tmp_path: Path, mounted: list[Path]
) -> None:
    merged = _mount(store, layout, "two", tmp_path, mounted)
    (merged / "kept" / "file").write_bytes(b"changed")
    (merged / "etc" / "hostname").unlink()
    base = store.prepare(layout, load_image(layout, "two"))[0]
    assert (base.lowerdir / "kept" / "file").read_bytes() == b"kept"
    assert (tmp_path / "upper" / "kept" / "file").read_bytes() == b"changed"
    assert stat.S_ISCHR(os.lstat(tmp_path / "upper" / "etc" / "hostname").st_mode)


@needs_overlay
def test_an_image_without_layers_mounts_an_empty_rootfs(
    store: SnapshotStore, tmp_path: Path, mounted: list[Path]
) -> None:
    layout = Layout.create(tmp_path / "empty-image")
    layered_image(layout, "empty", [])
    merged = _mount(store, layout, "empty", tmp_path, mounted)
    assert os.listdir(merged) == []


@needs_overlay
def test_two_hundred_layers_mount_through_short_relative_lowerdirs(
    store: SnapshotStore, tmp_path: Path, mounted: list[Path]
) -> None:
    layout = Layout.create(tmp_path / "tall")
    layers = [archive(file(f"f{i}", str(i).encode())) for i in range(200)]
    layered_image(layout, "tall", layers)
    image = load_image(layout, "tall")
    store.prepare(layout, image)
    lower = store.lowerdirs(chain_ids(image.config.diff_ids))
    options, base = overlay_options(lower, tmp_path / "upper", tmp_path / "work")
    assert base == store.root / "l" and "lowerdir=" + lower[0].name in options
    merged = _mount(store, layout, "tall", tmp_path, mounted)
    assert (merged / "f0").read_bytes() == b"0" and (merged / "f199").read_bytes() == b"199"


@needs_overlay
def test_unmount_leaves_the_target_empty(
    store: SnapshotStore, layout: Layout, tmp_path: Path, mounted: list[Path]
) -> None:
    merged = _mount(store, layout, "two", tmp_path, mounted)
    unmount(merged)
    assert os.listdir(merged) == []


def test_unmount_of_something_not_mounted_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="umount"):
        unmount(tmp_path)


def test_too_many_layers_are_refused_before_mounting(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="stacks 500"):
        overlay_options([tmp_path] * 501, tmp_path / "u", tmp_path / "w")


@needs_overlay
def test_the_busybox_demo_image_runs_a_shell_in_its_overlay(
    store: SnapshotStore, busybox_image: tuple[Path, str], tmp_path: Path, mounted: list[Path]
) -> None:
    layout = Layout.open(busybox_image[0])
    merged = _mount(store, layout, busybox_image[1], tmp_path, mounted)
    result = subprocess.run(
        ["chroot", str(merged), "/bin/sh", "-c", "echo ok > /tmp/proof && cat /tmp/proof"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == "ok\n", result.stderr
    assert (tmp_path / "upper" / "tmp" / "proof").read_text() == "ok\n"


@needs_overlay
@pytest.mark.parametrize("whiteout_first", [True, False])
def test_a_directory_whited_out_and_made_again_in_one_layer_hides_the_lower_one(
    store: SnapshotStore, tmp_path: Path, mounted: list[Path], whiteout_first: bool
) -> None:
    whiteout = [file(".wh.kept")]
    again = [directory("kept"), file("kept/new", b"new")]
    top = archive(*(whiteout + again if whiteout_first else again + whiteout))
    layout = Layout.create(tmp_path / "again")
    layered_image(layout, "again", [BASE, top])
    merged = _mount(store, layout, "again", tmp_path, mounted)
    assert os.listdir(merged / "kept") == ["new"]
