"""What a porterd under a test's folder leaves on the host is removed after it: the
processes named by the pid files under its exec root, and the mounts under the folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from porterd_process import mounts_under, remove_leftovers


def test_a_container_process_named_by_its_pid_file_is_killed(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "3600"])
    try:
        folder = tmp_path / "exec" / "containers" / "0123abcd"
        folder.mkdir(parents=True)
        (folder / "pid").write_text(f"{sleeper.pid}\n")
        left = remove_leftovers(tmp_path)
        assert sleeper.wait(10) == -9
        assert left == [f"process {sleeper.pid} of {folder / 'pid'}"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_mounts_under_the_folder_are_unmounted(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    target = tmp_path / "storage" / "merged"
    target.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(target)], check=True)
    try:
        assert mounts_under(tmp_path) == [str(target.resolve())]
        remove_leftovers(tmp_path)
        assert mounts_under(tmp_path) == []
    finally:
        subprocess.run(["umount", "--lazy", str(target)], capture_output=True, check=False)


def test_nothing_left_is_nothing_reported(tmp_path: Path) -> None:
    (tmp_path / "exec" / "containers" / "gone").mkdir(parents=True)
    assert remove_leftovers(tmp_path) == []
