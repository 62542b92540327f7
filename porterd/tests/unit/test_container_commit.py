"""docker commit's layer: overlayfs's upper folder in OCI layer form."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from porterd.containers.commit import upper_to_tar


def layer_of(upper: Path) -> dict[str, tarfile.TarInfo]:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w", format=tarfile.PAX_FORMAT) as tar:
        upper_to_tar(upper, tar)
    data.seek(0)
    with tarfile.open(fileobj=data) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_new_files_and_folders_are_in_the_layer(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "motd").write_text("hi\n")
    entries = layer_of(tmp_path)
    assert entries["etc"].isdir() and entries["etc/motd"].size == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="making a 0/0 character device needs root")
def test_an_overlay_whiteout_becomes_a_wh_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mknod(tmp_path / "etc" / "group", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    entries = layer_of(tmp_path)
    assert "etc/group" not in entries
    assert entries["etc/.wh.group"].isreg() and entries["etc/.wh.group"].size == 0


def test_an_opaque_folder_gets_the_opaque_marker(tmp_path: Path) -> None:
    folder = tmp_path / "opt"
    folder.mkdir()
    try:
        os.setxattr(folder, "trusted.overlay.opaque", b"y")
    except OSError as error:
        pytest.skip(f"trusted xattrs cannot be set here: {error.strerror}")
    entries = layer_of(tmp_path)
    assert "opt/.wh..wh..opq" in entries
