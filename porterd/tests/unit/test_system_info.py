"""What /version and /info say about the host."""

from __future__ import annotations

import platform
from pathlib import Path

from porterd.system_info import backing_filesystem, go_arch, version_document


def test_the_backing_filesystem_is_the_deepest_mount_holding_the_path() -> None:
    assert backing_filesystem(Path("/proc/self/status")) == "proc"


def test_ext4_is_named_extfs_as_dockerd_names_it(tmp_path: Path, monkeypatch) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /srv/my\\040data rw - xfs /dev/sdb1 rw\n"
    )
    real_read = Path.read_text

    def read_text(self: Path, *args, **kwargs) -> str:
        if str(self) == "/proc/self/mountinfo":
            return real_read(mountinfo)
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert backing_filesystem(Path("/var/lib/porter")) == "extfs"
    assert backing_filesystem(Path("/srv/my data/porter")) == "xfs"


def test_the_architecture_is_named_as_go_names_it(monkeypatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert go_arch() == "arm64"
    assert version_document()["Arch"] == "arm64"
