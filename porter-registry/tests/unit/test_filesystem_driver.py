"""The filesystem driver passes the shared storage-driver suite, plus its own durability rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from driver_suite import StorageDriverSuite
from porter_registry.storage.filesystem import FilesystemDriver


class TestFilesystemDriver(StorageDriverSuite):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> FilesystemDriver:
        return FilesystemDriver(tmp_path / "store")


def test_put_content_leaves_no_temporary_file(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    driver.put_content("f/x", b"data")
    assert os.listdir(tmp_path / "f") == ["x"]


def test_temporary_files_left_by_a_crash_are_not_listed(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    driver.put_content("f/x", b"data")
    (tmp_path / "f" / ".tmp-deadbeef").write_bytes(b"half")
    assert driver.list("f") == ["f/x"]
