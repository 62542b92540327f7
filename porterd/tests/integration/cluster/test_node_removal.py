"""`porter node rm` over three real porterd: a ready node stays unless --force; a node whose
porterd stopped, or one removed by force, leaves `node ls`, and the tasks it ran are started
on the nodes that remain. Each test takes a node of its own out of the cluster."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

import pytest

from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, real_cluster_marks

pytestmark = real_cluster_marks()
WAIT = 120


@pytest.fixture
def spread(hosts: ClusterHosts) -> Iterator[str]:
    """A service of 6 tasks running, removed afterwards; its name."""
    porter(hosts.nodes[0], "service", "create", "--name", "spread", "--replicas", "6",
           "busybox", "sleep", "3600")  # fmt: skip
    until(lambda: sum(placement(hosts).values()) == 6, WAIT, "6 tasks running")
    yield "spread"
    attempt(hosts.nodes[0], "service", "rm", "spread")


def placement(hosts: ClusterHosts) -> Counter[str]:
    """Hostname -> how many tasks of `spread` run there."""
    with contextlib.closing(hosts.nodes[0].client()) as client:
        names = {n["ID"]: n["Description"]["Hostname"] for n in client.api.nodes()}
        tasks = client.api.tasks(filters={"service": "spread", "desired-state": "running"})
    return Counter(
        names.get(task["NodeID"], "?") for task in tasks if task["Status"]["State"] == "running"
    )


def moved_off(hosts: ClusterHosts, name: str) -> bool:
    """Whether all 6 tasks run, none of them on node `name`."""
    running = placement(hosts)
    return name not in running and sum(running.values()) == 6


def hostnames(hosts: ClusterHosts) -> list[str]:
    return sorted(porter(hosts.nodes[0], "node", "ls", "--format", "{{.Hostname}}").split())


def test_a_ready_node_stays_without_force(hosts: ClusterHosts) -> None:
    result = attempt(hosts.nodes[0], "node", "rm", "node1")
    assert result.returncode == 1
    assert "node node1 is ready: stop its porterd first, or remove it with --force" in (
        result.stderr
    )
    assert hostnames(hosts) == ["node0", "node1", "node2"]


def test_a_node_removed_by_force_leaves_and_its_tasks_run_on_the_others(
    hosts: ClusterHosts, spread: str
) -> None:
    assert placement(hosts)["node1"] >= 1
    assert porter(hosts.nodes[0], "node", "rm", "--force", "node1").strip() == "node1"
    assert "node1" not in hostnames(hosts)
    until(lambda: moved_off(hosts, "node1"), WAIT, "the tasks moved")


def test_a_stopped_node_is_removed_without_force_and_its_tasks_run_on_the_others(
    hosts: ClusterHosts, spread: str
) -> None:
    assert placement(hosts)["node2"] >= 1
    hosts.stop(hosts.nodes[2])  # a porterd that stops ends its lease: the node is down
    until(
        lambda: "Down" in porter(hosts.nodes[0], "node", "ls", "--format", "{{.Status}}"),
        WAIT,
        "node2 down",
    )
    assert porter(hosts.nodes[0], "node", "rm", "node2").strip() == "node2"
    assert "node2" not in hostnames(hosts)
    until(lambda: moved_off(hosts, "node2"), WAIT, "the tasks moved")
