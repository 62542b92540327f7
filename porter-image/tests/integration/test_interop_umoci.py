"""umoci (Debian's) and porter-image unpack each other's images to identical trees.

umoci writes a bundle with `rootfs/`, as `porter-image unpack` does; the trees are compared
with `tree_digest` (paths, types, modes, owners, contents, link targets, xattrs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from image_host_features import missing_program, needs
from image_test_support import PORTER_IMAGE
from porter_image.layer import tree_digest
from porter_image.layout import Layout, check_layout

pytestmark = [
    pytest.mark.integration,
    needs(missing_program("umoci")),
]


def umoci(*args: object) -> None:
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    command, *rest = map(str, args)
    extra = rootless if command in ("unpack", "repack") else []
    result = subprocess.run(
        ["umoci", command, *extra, *rest], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def porter(*args: object) -> None:
    result = subprocess.run(
        [str(PORTER_IMAGE), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def modify(rootfs: Path) -> None:
    """Changes of every kind: new file, new dir, symlink, hardlink, chmod, delete, replace."""
    (rootfs / "srv" / "data").mkdir(parents=True)
    (rootfs / "srv" / "data" / "file").write_text("new content\n")
    os.link(rootfs / "srv" / "data" / "file", rootfs / "srv" / "hardlink")
    (rootfs / "srv" / "link").symlink_to("data/file")
    (rootfs / "etc" / "group").unlink()
    os.chmod(rootfs / "etc" / "passwd", 0o600)
    shutil.rmtree(rootfs / "home")
    (rootfs / "home").write_text("now a file\n")


def test_umoci_unpacks_our_image_to_our_tree(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    umoci("unpack", "--image", f"{layout}:{tag}", tmp_path / "umoci")
    porter("unpack", f"{layout}:{tag}", tmp_path / "porter")
    assert tree_digest(tmp_path / "umoci" / "rootfs") == tree_digest(tmp_path / "porter" / "rootfs")


def test_umoci_unpacks_our_repacked_image_to_our_tree(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    shutil.copytree(busybox_image[0], layout)
    porter("unpack", f"{layout}:busybox", tmp_path / "work")
    modify(tmp_path / "work" / "rootfs")
    porter("repack", f"{layout}:modified", tmp_path / "work")
    umoci("unpack", "--image", f"{layout}:modified", tmp_path / "umoci")
    expected = tree_digest(tmp_path / "work" / "rootfs")
    assert tree_digest(tmp_path / "umoci" / "rootfs") == expected


def test_umoci_unpacks_each_of_our_successive_repacks_to_our_tree(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    shutil.copytree(busybox_image[0], layout)
    porter("unpack", f"{layout}:busybox", tmp_path / "work")
    rootfs = tmp_path / "work" / "rootfs"
    modify(rootfs)
    porter("repack", f"{layout}:step1", tmp_path / "work")
    passwd = rootfs / "etc" / "passwd"
    st = os.stat(passwd)
    edited = passwd.read_bytes().replace(b"root", b"ROOT", 1)  # same size
    passwd.write_bytes(edited)
    os.utime(passwd, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime restored, as touch -d
    shutil.rmtree(rootfs / "srv" / "data")
    (rootfs / "srv" / "data").symlink_to("/tmp")
    porter("repack", f"{layout}:step2", tmp_path / "work")
    for step in ("step1", "step2"):
        umoci("unpack", "--image", f"{layout}:{step}", tmp_path / f"umoci-{step}")
    assert (tmp_path / "umoci-step2" / "rootfs" / "etc" / "passwd").read_bytes() == edited
    assert tree_digest(tmp_path / "umoci-step2" / "rootfs") == tree_digest(rootfs)
    step1 = Layout.open(layout).resolve("step1")
    assert step1.digest != Layout.open(layout).resolve("step2").digest


def test_we_unpack_an_image_umoci_built_and_repacked(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:base")
    umoci("unpack", "--image", f"{layout}:base", tmp_path / "bundle")
    rootfs = tmp_path / "bundle" / "rootfs"
    for name in ("etc", "home/user", "bin"):
        (rootfs / name).mkdir(parents=True)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\n")
    (rootfs / "bin" / "tool").write_bytes(b"\x7fELF tool")
    umoci("repack", "--image", f"{layout}:step1", tmp_path / "bundle")
    modify(rootfs)  # deletions become umoci's whiteouts in the second layer
    umoci("repack", "--image", f"{layout}:step2", tmp_path / "bundle")
    porter("validate", f"{layout}:step2")
    porter("unpack", f"{layout}:step2", tmp_path / "porter")
    assert tree_digest(tmp_path / "porter" / "rootfs") == tree_digest(rootfs)


def test_our_tools_accept_a_layout_umoci_wrote(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:base")
    umoci("config", "--image", f"{layout}:base", "--config.cmd", "sh")
    assert check_layout(Layout.open(layout)) == []
    porter("config", f"{layout}:base", "--env", "A=1")
    umoci("unpack", "--image", f"{layout}:base", tmp_path / "bundle")  # umoci reads our edit
