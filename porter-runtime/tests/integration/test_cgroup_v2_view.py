"""porter-runtime end to end on its cgroup v2 backend, through a "v2 host view".

Each command runs in a private mount namespace where /sys/fs/cgroup is a cgroup2 mount (the
host's unified hierarchy mounted over the hybrid tmpfs), so the runtime sees a v2 host and
uses CgroupV2Manager for real. The unified hierarchy here has no controllers bound to it
(beyond hugetlb, at most) but cgroup.procs, cgroup.freeze, cgroup.kill, cgroup.events and eBPF
device programs all work. Tests look from the host at the hierarchy's real mount point.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from porter_runtime.cgroups.paths import cgroup2_mount

MOUNT = cgroup2_mount()  # the unified hierarchy as the host sees it

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(MOUNT is None, reason="no cgroup2 mount"),
]

# mounted over whatever /sys/fs/cgroup is, then the runtime replaces the shell ($0 "$@")
VIEW = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
VIEW_SCRIPT = 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"'


def run_to_files(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Output through files: a created container keeps the runtime's stdio open."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout
        )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            argv, proc.returncode, out.read().decode(), err.read().decode()
        )


def sees_unified(binary: str) -> subprocess.CompletedProcess:
    """Ask the runtime's own is_unified() inside the view (with the runtime's interpreter)."""
    script = "from porter_runtime.cgroups import is_unified; print(is_unified())"
    python = os.path.join(os.path.dirname(binary), "python")
    return run_to_files([*VIEW, VIEW_SCRIPT, python, "-c", script], timeout=30)


# -- the view itself ---------------------------------------------------------------------------


def test_the_runtime_sees_the_view_as_a_unified_host(runtime_binary):
    """is_unified() looks at the mount on top of /sys/fs/cgroup (the cgroup2 stacked over
    the hybrid tmpfs), not at the first one mountinfo lists there."""
    result = sees_unified(runtime_binary)
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr
