"""A porterd outside a cluster serves the swarm routes (answering 409) without importing the
cluster node's machinery: its agent, reconciler, membership and etcd client load only when
`--cluster-store` makes a node."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from types import SimpleNamespace
from falcon import testing
from porterd.api.app import create_app
client = testing.TestClient(create_app(SimpleNamespace(cluster=None), routers=["swarm"]))
print(client.simulate_get("/services").status_code)
print(json.dumps(sorted(sys.modules)))
"""

NOT_OUTSIDE_A_CLUSTER = (
    "porterd.cluster.node",
    "porterd.cluster.agent",
    "porterd.cluster.reconciler",
    "porterd.cluster.membership",
    "porterd.cluster.etcd",
)


def test_the_swarm_routes_outside_a_cluster_import_no_cluster_node() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    status, modules = result.stdout.strip().splitlines()[-2:]
    assert status == "409"
    loaded = set(json.loads(modules))
    assert [name for name in NOT_OUTSIDE_A_CLUSTER if name in loaded] == []
