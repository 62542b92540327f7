"""porter_cli.version_info reads porter's own versions without importlib.metadata and
platform, and finds what they find."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from porter_cli.version_info import client_version, package_version


def test_the_version_is_the_porter_dist_info_folders_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    others = tmp_path / "others"
    ours = tmp_path / "ours"
    for folder, name in [
        (others, "porterd_extras-9.9.dist-info"),
        (others, "porter.pth"),
        (ours, "Porter-1.2.3.dist-info"),
    ]:
        folder.mkdir(exist_ok=True)
        (folder / name).mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(others), str(ours)])
    assert package_version() == "1.2.3"


def test_the_version_is_the_one_importlib_metadata_finds() -> None:
    try:
        expected = version("porter")
    except PackageNotFoundError:
        pytest.skip("porter is not installed in this interpreter")
    assert package_version() == expected


def test_the_python_version_and_arch_are_the_ones_platform_gives() -> None:
    machine = platform.machine().lower()
    versions = client_version()
    assert (versions["PythonVersion"], versions["Arch"]) == (
        platform.python_version(),
        {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine),
    )
