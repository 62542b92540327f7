"""A container's cgroup as later commands reopen it from the saved state."""

from __future__ import annotations

import pytest
from porter_runtime import container
from porter_runtime.cgroups import base
from porter_runtime.cgroups.base import CgroupError, rmdir_each


@pytest.fixture
def no_manager(monkeypatch):
    """Building a manager (which reads the host's mount table) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a cgroup manager was built")

    monkeypatch.setattr("porter_runtime.cgroups.load_cgroup_manager", refuse)


def test_destroy_removes_the_saved_directories_without_building_a_manager(tmp_path, no_manager):
    dirs = [tmp_path / "memory" / "ctr", tmp_path / "pids" / "ctr"]
    for d in dirs:
        d.mkdir(parents=True)
    cgroup = container.load_cgroup({"cgroupPath": "/ctr", "cgroupDirs": [str(d) for d in dirs]})
    cgroup.destroy()
    assert [d.exists() for d in dirs] == [False, False]


def test_destroy_leaves_what_one_rmdir_cannot_remove_to_the_bounded_removal(
    tmp_path, monkeypatch, no_manager
):
    leaf, busy = tmp_path / "memory" / "ctr", tmp_path / "pids" / "ctr"
    (busy / "child").mkdir(parents=True)
    leaf.mkdir(parents=True)
    bounded = []
    monkeypatch.setattr(base, "rmdir_each", bounded.append)
    cgroup = container.load_cgroup({"cgroupPath": "/ctr", "cgroupDirs": [str(leaf), str(busy)]})
    cgroup.destroy()
    assert (leaf.exists(), bounded) == (False, [[str(busy)]])


def test_destroy_of_directories_already_gone_succeeds(tmp_path, no_manager):
    cgroup = container.load_cgroup({"cgroupPath": "/ctr", "cgroupDirs": [str(tmp_path / "x")]})
    cgroup.destroy()


def test_destroy_of_a_state_without_saved_directories_builds_the_manager(monkeypatch):
    destroyed = []

    class Manager:
        def destroy(self) -> None:
            destroyed.append(True)

    monkeypatch.setattr("porter_runtime.cgroups.load_cgroup_manager", lambda path: Manager())
    container.load_cgroup({"cgroupPath": "/ctr"}).destroy()
    assert destroyed == [True]


def test_no_saved_cgroup_path_means_no_cgroup():
    assert container.load_cgroup({"cgroupPath": None, "cgroupDirs": ["/x"]}) is None


def test_rmdir_each_tries_every_directory_and_raises_the_first_failure(monkeypatch, tmp_path):
    tried = []

    def rmdir(directory: str) -> None:
        tried.append(directory)
        if directory != "b":
            raise CgroupError(directory, "rmdir", "busy")

    monkeypatch.setattr(base, "rmdir_bounded", rmdir)
    with pytest.raises(CgroupError, match="cgroup a: rmdir: busy"):
        rmdir_each(["a", "b", "c"])
    assert tried == ["a", "b", "c"]
