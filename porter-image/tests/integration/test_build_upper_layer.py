"""An overlay upper folder as a layer: overlayfs's whiteouts and opaque folders become OCI's,
and overlayfs's own xattrs stay out (root: whiteouts are device nodes, the xattrs trusted.*)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT
from porter_image.build.upper_layer import write_upper_layer

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


@pytest.fixture
def upper(tmp_path: Path) -> Path:
    root = tmp_path / "upper"
    (root / "etc").mkdir(parents=True)
    os.mknod(root / "etc" / "gone", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    (root / "etc" / "new").write_text("new")
    os.setxattr(root / "etc", "trusted.overlay.origin", b"x")
    (root / "replaced").mkdir()
    os.setxattr(root / "replaced", "trusted.overlay.opaque", b"y")
    (root / "replaced" / "only").write_text("only")
    return root


def members(upper: Path) -> dict[str, tarfile.TarInfo]:
    out = io.BytesIO()
    write_upper_layer(upper, out, "")
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        return {m.name.rstrip("/"): m for m in tar.getmembers()}


def test_a_whiteout_device_becomes_a_wh_file(upper: Path) -> None:
    entries = members(upper)
    assert entries["etc/.wh.gone"].isreg()
    assert "etc/gone" not in entries


def test_an_opaque_folder_gets_the_opaque_marker_right_after_it(upper: Path) -> None:
    names = list(members(upper))
    assert names.index("replaced/.wh..wh..opq") == names.index("replaced") + 1


def test_overlay_xattrs_are_not_in_the_layer(upper: Path) -> None:
    for info in members(upper).values():
        assert not any(key.startswith("SCHILY.xattr.trusted.overlay") for key in info.pax_headers)


def test_changed_files_are_in_the_layer(upper: Path) -> None:
    entries = members(upper)
    assert entries["etc/new"].size == 3 and entries["replaced/only"].size == 4
