"""A replica whose health check starts failing, on three real porterd: as in swarm its task
fails with swarm's error, its container is stopped, and a new healthy task runs in its slot;
`service ps` shows the old task failed with the reason."""

from __future__ import annotations

import contextlib
from typing import Any

from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, Node, real_cluster_marks

pytestmark = real_cluster_marks()
WAIT = 120
# A task is healthy while /ok exists in its container; the test removes it in one of them.
CHECKED = ["--health-cmd", "test -e /ok", "--health-interval", "1s", "--health-retries", "1"]


def tasks(hosts: ClusterHosts) -> list[dict[str, Any]]:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        return client.api.tasks(filters={"service": "checked"})


def healthy(hosts: ClusterHosts) -> list[dict[str, Any]]:
    """The tasks of `checked` meant to run, running and healthy."""
    return [
        task
        for task in tasks(hosts)
        if task["DesiredState"] == "running"
        and task["Status"]["State"] == "running"
        and task["Status"].get("ContainerStatus", {}).get("Health") == "healthy"
    ]


def running(node: Node) -> set[str]:
    """The ids of the task containers running on `node`."""
    with contextlib.closing(node.client()) as client:
        listed = client.api.containers(filters={"label": "com.docker.swarm.task.id"})
    return {container["Id"] for container in listed}


def test_a_task_that_turns_unhealthy_is_failed_and_replaced_by_a_healthy_one(
    hosts: ClusterHosts,
) -> None:
    porter(hosts.nodes[0], "service", "create", "--name", "checked", "--replicas", "2",
           *CHECKED, "busybox", "sh", "-c", "touch /ok && exec sleep 3600")  # fmt: skip
    try:
        until(lambda: len(healthy(hosts)) == 2, WAIT, "two healthy tasks")
        victim = healthy(hosts)[0]
        with contextlib.closing(hosts.nodes[0].client()) as client:
            names = {n["ID"]: n["Description"]["Hostname"] for n in client.api.nodes()}
        node = next(n for n in hosts.nodes if n.name == names[victim["NodeID"]])
        victim_container = victim["Status"]["ContainerStatus"]["ContainerID"]
        porter(node, "exec", victim_container, "rm", "/ok")

        def replaced() -> bool:
            running = healthy(hosts)
            return len(running) == 2 and victim["ID"] not in {task["ID"] for task in running}

        took = until(replaced, 60, "the unhealthy task's replacement")
        print(f"an unhealthy task was replaced by a healthy one {took:.1f}s after it broke")
        assert victim["Slot"] in {task["Slot"] for task in healthy(hosts)}
        rows = porter(hosts.nodes[0], "service", "ps", "checked",
                      "--format", "{{.ID}}|{{.CurrentState}}|{{.Error}}").splitlines()  # fmt: skip
        assert f"{victim['ID'][:12]}|Failed|dockerexec: unhealthy container" in rows, rows
        # Its container is stopped (sleep ignores SIGTERM: killed after the stop's grace).
        until(lambda: victim_container not in running(node), 30, "the container's stop")
    finally:
        attempt(hosts.nodes[0], "service", "rm", "checked")
