"""net_cls and net_prio on v1, which this host does not mount: mounted for the test only.

The hierarchy is mounted in a private mount namespace (a child under `unshare -m`), so
no other process on the host ever sees it; the child creates, writes, reads back and
removes its cgroup, and reports what it read.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap

import pytest
from host_features import missing_program, needs

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    needs(missing_program("unshare")),
]

SCRIPT = textwrap.dedent(
    """
    import json, subprocess, sys
    from porter_runtime.cgroups.v1 import CgroupV1Manager
    from porter_runtime.cgroups import files
    mnt, path = sys.argv[1], sys.argv[2]
    mount = ["mount", "-t", "cgroup", "-o", "net_cls,net_prio", "porter", mnt]
    if subprocess.run(mount).returncode:
        print(json.dumps({"skip": "cannot mount net_cls,net_prio here"}))
        sys.exit(0)
    try:
        m = CgroupV1Manager(path, mounts={"net_cls": mnt, "net_prio": mnt})
        try:
            m.set({"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}})
            out = {
                "classid": files.read(m.dirs["net_cls"], "net_cls.classid"),
                "ifpriomap": files.read(m.dirs["net_prio"], "net_prio.ifpriomap"),
            }
        finally:
            m.destroy()
        print(json.dumps(out))
    finally:
        subprocess.run(["umount", "-l", mnt])
    """
)


@pytest.fixture(scope="module")
def network_cgroup(tmp_path_factory):
    mnt = tmp_path_factory.mktemp("netcls")
    path = f"/porter-test-{secrets.token_hex(4)}"
    cmd = ["unshare", "-m", "--propagation", "private", sys.executable, "-c", SCRIPT]
    done = subprocess.run([*cmd, str(mnt), path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def test_class_id_is_written_to_net_cls(network_cgroup):
    assert network_cgroup["classid"] == "1048577"


def test_interface_priority_is_written_to_net_prio(network_cgroup):
    assert "lo 5" in network_cgroup["ifpriomap"].splitlines()
