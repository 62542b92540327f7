"""Hostile layers are refused, and nothing outside the destination ever changes.

Every test applies into tmp_path/dest beside tmp_path/outside (canary files) and
tmp_path/target (a directory that symlinks point at), and compares a snapshot of both, and
of tmp_path itself, before and after.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_image.layer import ApplyOptions, HostileLayerError, LayerError, apply_layer
from porter_image.layer.testing import (
    archive,
    compress,
    device,
    directory,
    file,
    hardlink,
    snapshot,
    symlink,
)
from porter_specs import media_types


class Area:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dest = root / "dest"
        self.outside = root / "outside"
        self.target = root / "target"
        for folder in (self.dest, self.outside, self.target):
            folder.mkdir()
        (self.outside / "canary").write_bytes(b"canary")
        (self.outside / "sub").mkdir()
        (self.outside / "sub" / "deep").write_bytes(b"deep")
        (self.target / "canary").write_bytes(b"target canary")

    def snapshot(self) -> list[str]:
        return snapshot(self.outside, self.target) + sorted(os.listdir(self.root))

    def apply(
        self, *members, options: ApplyOptions | None = None, compression: str = "none"
    ) -> None:
        blob = compress(archive(*members), compression)
        media = media_types.layer_media_type("" if compression == "none" else compression)
        apply_layer(io.BytesIO(blob), media, self.dest, options or ApplyOptions())


@pytest.fixture
def area(tmp_path: Path) -> Iterator[Area]:
    area = Area(tmp_path)
    before = area.snapshot()
    yield area
    assert area.snapshot() == before, "something outside the destination changed"


def test_dot_dot_path_is_refused(area: Area) -> None:
    with pytest.raises(
        HostileLayerError, match=r"'../outside/canary': path escapes the destination"
    ):
        area.apply(file("../outside/canary", b"pwned"))


def test_dot_dot_inside_a_path_that_escapes_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="escapes"):
        area.apply(file("a/../../outside/new", b"pwned"))


def test_absolute_path_climbing_above_the_root_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="escapes"):
        area.apply(file("/../outside/canary", b"pwned"))


def test_absolute_path_lands_inside_the_destination(area: Area) -> None:
    area.apply(file(f"{area.outside}/canary", b"inside"))
    assert (area.dest / area.outside.relative_to("/") / "canary").read_bytes() == b"inside"


def test_symlink_in_the_layer_pointing_out_then_written_through_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match=r"'evil/canary': symlink to '\.\./outside'"):
        area.apply(symlink("evil", "../outside"), file("evil/canary", b"pwned"))


def test_lower_symlink_pointing_out_is_not_followed_out(area: Area) -> None:
    (area.dest / "evil").symlink_to("../../outside")
    with pytest.raises(HostileLayerError, match="points outside"):
        area.apply(file("evil/sub/deep", b"pwned"))


def test_absolute_symlink_in_a_parent_resolves_inside_the_destination(area: Area) -> None:
    area.apply(symlink("evil", str(area.target)), file("evil/canary", b"inside"))
    assert (area.dest / area.target.relative_to("/") / "canary").read_bytes() == b"inside"


def test_symlink_to_an_outside_file_is_replaced_not_written_through(area: Area) -> None:
    area.apply(symlink("link", str(area.outside / "canary")), file("link", b"replaced"))
    assert (area.dest / "link").read_bytes() == b"replaced"


def test_directory_entry_over_an_outward_symlink_does_not_touch_its_target(area: Area) -> None:
    (area.dest / "d").symlink_to(area.target)
    area.apply(directory("d/", mode=0o700), file("d/new", b"x"))
    assert (area.dest / "d" / "new").read_bytes() == b"x"


def test_hardlink_to_an_outside_target_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="'hl': path escapes"):
        area.apply(hardlink("hl", "../outside/canary"))


def test_hardlink_through_an_outward_symlink_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="'hl': symlink"):
        area.apply(symlink("evil", "../outside"), hardlink("hl", "evil/canary"))


def test_hardlink_with_an_absolute_target_stays_inside(area: Area) -> None:
    with pytest.raises(LayerError, match="does not exist"):
        area.apply(hardlink("hl", str(area.outside / "canary")))


def test_hardlink_then_overwrite_does_not_change_the_linked_file(area: Area) -> None:
    area.apply(file("a", b"original"), hardlink("b", "a"), file("b", b"changed"))
    assert (area.dest / "a").read_bytes() == b"original"


def test_whiteout_escaping_the_root_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="escapes"):
        area.apply(file("../outside/.wh.canary"))


def test_whiteout_through_an_outward_symlink_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="points outside"):
        area.apply(symlink("evil", "../outside"), file("evil/.wh.canary"))


def test_opaque_whiteout_through_an_outward_symlink_is_refused(area: Area) -> None:
    (area.dest / "evil").symlink_to("../outside")
    with pytest.raises(HostileLayerError, match="points outside"):
        area.apply(file("evil/.wh..wh..opq"))


def test_whiteout_of_dot_dot_is_refused(area: Area) -> None:
    with pytest.raises(HostileLayerError, match=r"whiteout of '\.\.' names no file"):
        area.apply(file("a/.wh..."))


def test_whiteout_of_an_outward_symlink_removes_only_the_link(area: Area) -> None:
    (area.dest / "link").symlink_to(area.outside)
    area.apply(file(".wh.link"))
    assert not (area.dest / "link").exists()


def test_device_nodes_are_refused_when_not_allowed(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="'null': device nodes are not allowed"):
        area.apply(device("null"), options=ApplyOptions(allow_devices=False))
    assert not (area.dest / "null").exists()


def test_tar_bomb_is_refused_at_the_limit(area: Area) -> None:
    with pytest.raises(HostileLayerError, match="'bomb': layer exceeds the limit"):
        area.apply(
            file("bomb", bytes(8 << 20)), compression="gzip", options=ApplyOptions(max_size=1 << 20)
        )


def test_zero_padding_bomb_is_refused(area: Area) -> None:
    blob = compress(archive(file("a", b"1")) + bytes(16 << 20), "gzip")
    with pytest.raises(HostileLayerError, match="layer exceeds the limit"):
        apply_layer(
            io.BytesIO(blob), media_types.LAYER_TAR_GZIP, area.dest, ApplyOptions(max_size=1 << 20)
        )


def test_symlink_loop_in_a_parent_is_an_error(area: Area) -> None:
    with pytest.raises(LayerError, match="too many levels of symbolic links"):
        area.apply(symlink("a", "b"), symlink("b", "a"), file("a/x"))


def test_nul_in_a_name_is_refused(area: Area) -> None:
    entry, data = file("x")
    entry.name = "a\0" + "b" * 120  # too long for ustar: goes into a PAX path record
    with pytest.raises(HostileLayerError, match="NUL"):
        area.apply((entry, data))
