"""Behaviour both backends must show on this host, run against each one that works here.

v1 uses the host's v1 hierarchies; v2 uses whatever cgroup2 mount exists (the whole
of /sys/fs/cgroup on a v2 host, the controller-less /sys/fs/cgroup/unified here).
Checks look at processes, not files: a device that cannot be opened, a process that
stops using CPU.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time

import pytest
from porter_runtime.cgroups.base import CgroupError, rmdir_bounded
from porter_runtime.cgroups.paths import cgroup2_mount, is_unified, v1_mounts
from porter_runtime.cgroups.v1 import CgroupV1Manager
from porter_runtime.cgroups.v2 import CgroupV2Manager

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
]


V1_MOUNTS = {} if is_unified() else v1_mounts()
V2_MOUNT = cgroup2_mount()


@pytest.fixture(params=["v1", "v2"])
def make(request):
    """A factory of managers under a unique parent, which is removed afterwards."""
    parent = f"/porter-test-{secrets.token_hex(4)}"
    if request.param == "v1":
        if not {"devices", "freezer"} <= set(V1_MOUNTS):
            pytest.skip("no v1 devices and freezer hierarchies")
        roots = set(V1_MOUNTS.values())
        yield lambda name: CgroupV1Manager(f"{parent}/{name}")
    else:
        if V2_MOUNT is None:
            pytest.skip("no cgroup2 mount")
        roots = {V2_MOUNT}
        yield lambda name: CgroupV2Manager(f"{parent}/{name}", mountpoint=V2_MOUNT)
    for root in roots:
        rmdir_bounded(os.path.join(root, parent.lstrip("/")))


@pytest.fixture
def spinner():
    """A process burning CPU; killed at the end."""
    proc = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    yield proc
    proc.kill()
    proc.wait()


def probe_opens(manager, resources, paths):
    """Fork a child into the cgroup, apply resources, let it open each path: {path: errno}."""
    go_r, go_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(go_w)
            os.read(go_r, 1)
            result = {}
            for p in paths:
                try:
                    os.close(os.open(p, os.O_RDONLY))
                    result[p] = 0
                except OSError as e:
                    result[p] = e.errno
            os.write(out_w, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(go_r)
    os.close(out_w)
    try:
        manager.apply(pid)
        manager.set(resources)
    finally:
        os.write(go_w, b"x")
        os.close(go_w)
        data = os.read(out_r, 4096)
        os.close(out_r)
        os.waitpid(pid, 0)
    return json.loads(data)


ALLOW_NULL = [{"allow": False}, {"allow": True, "type": "c", "major": 1, "minor": 3}]


def test_denied_device_cannot_be_opened_and_allowed_one_can(make):
    result = probe_opens(make("dev"), {"devices": ALLOW_NULL}, ["/dev/null", "/dev/zero"])
    assert result == {"/dev/null": 0, "/dev/zero": 1}  # EPERM


def test_updated_device_rules_take_effect(make):
    manager = make("dev")
    manager.set({"devices": ALLOW_NULL})
    result = probe_opens(manager, {"devices": [{"allow": True}]}, ["/dev/zero"])
    assert result == {"/dev/zero": 0}


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_frozen_process_makes_no_progress(make, spinner):
    manager = make("spin")
    manager.apply(spinner.pid)
    manager.freeze()
    try:
        before = _cpu_ticks(spinner.pid)
        time.sleep(0.2)
        assert _cpu_ticks(spinner.pid) == before
    finally:
        manager.thaw()


def test_thawed_process_runs_again(make, spinner):
    manager = make("spin")
    manager.apply(spinner.pid)
    manager.freeze()
    manager.thaw()
    before = _cpu_ticks(spinner.pid)
    deadline = time.monotonic() + 10
    while _cpu_ticks(spinner.pid) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _cpu_ticks(spinner.pid) > before


def test_pids_lists_the_process(make, spinner):
    manager = make("ps")
    manager.apply(spinner.pid)
    assert manager.pids() == [spinner.pid] and not manager.is_empty()


def test_destroy_with_a_live_process_fails_with_a_clear_error(make, spinner):
    manager = make("busy")
    manager.apply(spinner.pid)
    with pytest.raises(CgroupError, match="rmdir: still has processes"):
        manager.destroy()


def test_destroy_after_the_process_exits_removes_the_cgroup(make, spinner):
    manager = make("done")
    manager.apply(spinner.pid)
    spinner.kill()
    spinner.wait()
    manager.destroy()
    manager.destroy()
    assert manager.is_empty() and manager.pids() == []
