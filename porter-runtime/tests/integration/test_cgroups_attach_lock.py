"""The attach-lock primer: a child that re-enters its own cgroup, collected afterwards."""

from __future__ import annotations

import os

import pytest
from porter_runtime.cgroups import attach_lock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
]


def _own_cgroups() -> str:
    with open("/proc/self/cgroup") as f:
        return f.read()


def test_primer_child_is_reaped_and_the_caller_stays_in_its_cgroups():
    before = _own_cgroups()
    pid = attach_lock.prime()
    assert pid > 0
    attach_lock.reap(pid)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already collected: no zombie left behind
    assert _own_cgroups() == before


def test_primer_targets_exist_for_this_process():
    assert any(os.path.exists(path) for path in attach_lock._own_procs_files())
