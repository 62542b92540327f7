"""`porter node rm --force` of the leader's node while its porterd runs, over three real
porterd: that porterd leaves the cluster (it resigns, logs it once, and does not register
again), another node leads, the tasks the removed node ran are started on the others, and
the removed node's task containers are gone."""

from __future__ import annotations

import contextlib
import time
from collections import Counter

from .cluster_cli import porter, until
from .cluster_nodes import ClusterHosts, Node, real_cluster_marks

pytestmark = real_cluster_marks()
WAIT = 120
REMOVED = "was removed from the cluster: it leaves"


def leader(hosts: ClusterHosts, asked: Node) -> str | None:
    """The hostname of the node that leads, as `asked` sees it."""
    with contextlib.closing(asked.client()) as client:
        nodes = client.api.nodes()
    leading = [n for n in nodes if (n.get("ManagerStatus") or {}).get("Leader")]
    return leading[0]["Description"]["Hostname"] if leading else None


def placement(asked: Node) -> Counter[str]:
    """Hostname -> how many tasks of `spread` run there, as `asked` sees it."""
    with contextlib.closing(asked.client()) as client:
        names = {n["ID"]: n["Description"]["Hostname"] for n in client.api.nodes()}
        tasks = client.api.tasks(filters={"service": "spread", "desired-state": "running"})
    return Counter(
        names.get(task["NodeID"], "?") for task in tasks if task["Status"]["State"] == "running"
    )


def task_containers(asked: Node) -> int:
    """How many task containers `asked` holds, running or not."""
    with contextlib.closing(asked.client()) as client:
        listed = client.api.containers(all=True, filters={"label": "com.docker.swarm.task.id"})
    return len(listed)


def test_the_leaders_node_removed_by_force_leaves_and_another_leads(hosts: ClusterHosts) -> None:
    first = hosts.nodes[0]
    porter(first, "service", "create", "--name", "spread", "--replicas", "6",
           "busybox", "sleep", "3600")  # fmt: skip
    until(lambda: sum(placement(first).values()) == 6, WAIT, "6 tasks running")
    name = leader(hosts, first)
    removed = next(node for node in hosts.nodes if node.name == name)
    other = next(node for node in hosts.nodes if node is not removed)
    assert placement(other)[name] >= 1
    assert porter(other, "node", "rm", "--force", name).strip() == name
    until(lambda: leader(hosts, other) not in (None, name), WAIT, "another node to lead")
    until(
        lambda: name not in placement(other) and sum(placement(other).values()) == 6,
        WAIT,
        "the removed node's tasks running on the others",
    )
    assert removed.porterd is not None
    assert removed.porterd.process.poll() is None  # its porterd runs on, out of the cluster
    assert removed.porterd.log_text().count(REMOVED) == 1
    until(lambda: task_containers(removed) == 0, WAIT, "the removed node's containers gone")
    time.sleep(3)  # several lease renewals, had it gone on renewing
    hostnames = porter(other, "node", "ls", "--format", "{{.Hostname}}").split()
    assert name not in hostnames
