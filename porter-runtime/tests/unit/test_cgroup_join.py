"""Stage A joins the container's cgroup itself; a rootless runtime the cgroup refuses goes on
without it, unless the config asked for resources (those it cannot honour are an error)."""

from __future__ import annotations

import errno
import os

import pytest
from porter_runtime import init, launch, sync
from porter_runtime.cgroups.base import CgroupError
from porter_runtime.errors import ConfigError


class FakeCgroup:
    path = "/porter-runtime/c1"
    dirs = {"pids": "/sys/fs/cgroup/pids/porter-runtime/c1"}

    def __init__(self, join_errno: int = 0) -> None:
        self.join_errno = join_errno
        self.joined: list[bool] = []
        self.destroyed = False

    def join_self(self, placed: bool) -> None:
        self.joined.append(placed)
        if self.join_errno:
            error = CgroupError(self.path, "tasks", "cannot write '0'")
            raise error from OSError(self.join_errno, os.strerror(self.join_errno))

    def destroy(self) -> None:
        self.destroyed = True


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, kind: str, **_fields: object) -> None:
        self.sent.append(kind)


def _spec(cgroup: FakeCgroup, resources: dict | None = None) -> init.InitSpec:
    spec = init.InitSpec({"linux": {"resources": resources}}, {"args": ["true"]})
    spec.cgroup = cgroup
    spec.cgroup_placed = True
    return spec


@pytest.fixture
def unprivileged(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)


def test_stage_a_joins_telling_whether_it_was_cloned_in():
    cgroup, chan = FakeCgroup(), Recorder()
    init._join_cgroup(_spec(cgroup), chan)
    assert cgroup.joined == [True]
    assert chan.sent == []


def test_a_refused_join_is_reported_when_rootless(unprivileged):
    chan = Recorder()
    init._join_cgroup(_spec(FakeCgroup(errno.EACCES)), chan)
    assert chan.sent == ["cgroup-denied"]


def test_a_refused_join_is_an_error_for_root():
    with pytest.raises(CgroupError):
        init._join_cgroup(_spec(FakeCgroup(errno.EACCES)), Recorder())


def test_other_join_errors_are_errors_even_when_rootless(unprivileged):
    with pytest.raises(CgroupError):
        init._join_cgroup(_spec(FakeCgroup(errno.EINVAL)), Recorder())


def _drive_after(message: str, spec: init.InitSpec, saved: dict, undo: launch.Undo) -> None:
    """The runtime's side, fed `message` and then end-of-file."""
    parent, child = sync.pair()
    try:
        child.send(message)
        child.close()
        with pytest.raises(Exception, match="exited during setup"):
            launch._drive(spec, saved, undo, parent, 0)
    finally:
        parent.close()


def test_the_runtime_drops_a_cgroup_stage_a_may_not_join():
    cgroup = FakeCgroup()
    undo = launch.Undo(None)
    undo.cgroup = cgroup
    saved = {"pid": 0, "cgroupPath": cgroup.path}
    _drive_after("cgroup-denied", _spec(cgroup), saved, undo)
    assert cgroup.destroyed
    assert undo.cgroup is None
    assert saved["cgroupPath"] is None


def test_resources_in_a_cgroup_stage_a_may_not_join_are_an_error():
    cgroup = FakeCgroup()
    undo = launch.Undo(None)
    undo.cgroup = cgroup
    parent, child = sync.pair()
    try:
        child.send("cgroup-denied")
        spec = _spec(cgroup, {"pids": {"limit": 10}})
        with pytest.raises(ConfigError, match=r"linux\.resources.*may not create cgroup"):
            launch._drive(spec, {"pid": 0}, undo, parent, 0)
    finally:
        parent.close()
        child.close()
    assert not cgroup.destroyed  # create's undo removes it with everything else
