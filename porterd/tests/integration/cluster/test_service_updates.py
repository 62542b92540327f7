"""Rolling updates, rollback and drain over three real porterd, driven by `porter` as a user
would: tasks replaced in batches of the update parallelism, each batch waiting for the new
tasks' health check and then the update delay; a new version failing its health check pauses
the update, or brings the previous spec back with `--update-failure-action rollback`, but
one that fails only after its `--update-monitor` window does not;
`service rollback` by hand; `node update --availability drain` moves a node's tasks away."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from ..containers_support import busybox_rootfs_tar
from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, cluster_hosts, real_cluster_marks

pytestmark = real_cluster_marks()
# A check that passes once the task has run for READY_AFTER seconds, probed every second
# (the retries keep a task from reading as unhealthy before).
READY_AFTER = 2
HEALTHY_LATER = [
    "--health-cmd", "test -e /tmp/ready", "--health-interval", "1s", "--health-retries", "5",
]  # fmt: skip
# With EXIT_AFTER=N in its environment a task fails N seconds after it turned ready.
COMMAND = [
    "sh", "-c",
    f"sleep {READY_AFTER}; touch /tmp/ready; "
    '[ -n "$EXIT_AFTER" ] && sleep "$EXIT_AFTER" && exit 1; exec sleep 3600',
]  # fmt: skip


def created(task: dict[str, Any]) -> float:
    return datetime.fromisoformat(task["CreatedAt"].replace("Z", "+00:00")).timestamp()


class Service:
    """A service of the test, read through node0's Engine API."""

    def __init__(self, hosts: ClusterHosts, name: str) -> None:
        self.hosts, self.name = hosts, name
        self.api = hosts.nodes[0].client().api

    def inspect(self) -> dict[str, Any]:
        return self.api.inspect_service(self.name)

    def tasks(self) -> list[dict[str, Any]]:
        return self.api.tasks(filters={"service": self.name})

    def running(self, image: str) -> list[dict[str, Any]]:
        """The live tasks running `image` and healthy."""
        return [
            task
            for task in self.tasks()
            if task["DesiredState"] == "running"
            and task["Status"]["State"] == "running"
            and task["Status"].get("ContainerStatus", {}).get("Health") == "healthy"
            and task["Spec"]["ContainerSpec"]["Image"] == image
        ]

    def converged(self, image: str, replicas: int) -> bool:
        live = [task for task in self.tasks() if task["DesiredState"] == "running"]
        return len(live) == replicas and len(self.running(image)) == replicas

    def update_state(self) -> str:
        return (self.inspect().get("UpdateStatus") or {}).get("State", "")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    root = tmp_path_factory.mktemp("cluster")
    with cluster_hosts(root, rootfs, tags=("v2",)) as hosts:
        yield hosts


@pytest.fixture
def make_service(hosts: ClusterHosts) -> Iterator[Callable[..., Service]]:
    """Create a service of healthy-later busybox tasks and wait for them; removed after."""
    names: list[str] = []

    def make(name: str, replicas: int, *flags: str) -> Service:
        porter(
            hosts.nodes[0], "service", "create", "--name", name, "--replicas", str(replicas),
            *HEALTHY_LATER, *flags, "busybox", *COMMAND,
        )  # fmt: skip
        names.append(name)
        service = Service(hosts, name)
        until(lambda: service.converged("busybox", replicas), 120, f"{name} running healthy")
        return service

    yield make
    for name in names:
        attempt(hosts.nodes[0], "service", "rm", name)


def test_an_image_update_replaces_the_tasks_in_batches_after_each_is_healthy(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = make_service("rolled", 4, "--update-parallelism", "2", "--update-delay", "1s")
    porter(hosts.nodes[0], "service", "update", "--image", "busybox:v2", "rolled")
    until(lambda: service.converged("busybox:v2", 4), 120, "the update")
    assert until(lambda: service.update_state() == "completed", 30, "the update's end")
    new = sorted(
        (t for t in service.tasks() if t["Spec"]["ContainerSpec"]["Image"] == "busybox:v2"),
        key=created,
    )
    assert len(new) == 4, new
    first, second = new[:2], new[2:]
    # Each batch is made in one round; the next only once the batch is healthy (which takes
    # READY_AFTER seconds at least) and the delay (1 s) has passed.
    assert created(first[1]) - created(first[0]) < 1
    assert created(second[1]) - created(second[0]) < 1
    assert created(second[0]) - created(first[1]) >= READY_AFTER + 1


def updated_to_a_failing_version(
    hosts: ClusterHosts, make_service: Callable[..., Service], name: str, action: str
) -> Service:
    """A service of 3 tasks, updated to busybox:v2 with a health check that always fails."""
    service = make_service(name, 3, "--update-failure-action", action)
    porter(
        hosts.nodes[0], "service", "update", "--image", "busybox:v2", "--health-cmd", "false",
        name,
    )  # fmt: skip
    return service


def test_a_new_version_failing_its_health_check_pauses_the_update(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = updated_to_a_failing_version(hosts, make_service, "paused", "pause")
    until(lambda: service.update_state() == "paused", 60, "the pause")
    status = service.inspect()["UpdateStatus"]
    assert "unhealthy" in status["Message"], status
    time.sleep(3)  # a paused update replaces no more tasks
    assert len(service.running("busybox")) == 2
    # The failed task's slot is filled again, with the service's spec (as swarm's restart
    # does): its tasks are the only ones of the new version.
    new = [t for t in service.tasks() if t["Spec"]["ContainerSpec"]["Image"] == "busybox:v2"]
    assert len({t["Slot"] for t in new}) == 1, new


def test_a_failing_update_with_failure_action_rollback_brings_the_previous_spec_back(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = updated_to_a_failing_version(hosts, make_service, "reverted", "rollback")
    until(lambda: service.update_state() == "rollback_completed", 90, "the rollback")
    inspected = service.inspect()
    assert inspected["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox"
    assert "update rolled back: task" in inspected["UpdateStatus"]["Message"]
    until(lambda: service.converged("busybox", 3), 60, "the previous spec's tasks")


def test_a_new_version_failing_after_its_monitor_window_does_not_stop_the_update(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = make_service("monitored", 3, "--update-monitor", "1s")
    # Each new task fails 4 s after it turned ready: past the 1 s window, no update failure.
    porter(hosts.nodes[0], "service", "update", "--image", "busybox:v2", "--env-add",
           "EXIT_AFTER=4", "monitored")  # fmt: skip
    until(lambda: service.update_state() in ("completed", "paused"), 120, "the update's end")
    assert service.inspect()["UpdateStatus"]["State"] == "completed"
    failed = [t for t in service.tasks() if t["Status"]["State"] == "failed"]
    assert failed and all(t["Spec"]["ContainerSpec"]["Image"] == "busybox:v2" for t in failed)


def test_service_rollback_brings_the_previous_image_back(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = make_service("undone", 2, "--update-parallelism", "0")
    porter(hosts.nodes[0], "service", "update", "--image", "busybox:v2", "undone")
    until(lambda: service.update_state() == "completed", 90, "the update")
    porter(hosts.nodes[0], "service", "rollback", "undone")
    until(lambda: service.update_state() == "rollback_completed", 90, "the rollback")
    assert service.inspect()["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox"
    assert service.converged("busybox", 2)


def test_draining_a_node_moves_its_tasks_to_the_others(
    hosts: ClusterHosts, make_service: Callable[..., Service]
) -> None:
    service = make_service("drained", 3)
    drained = hosts.nodes[2]
    node_id = hosts.nodes[2].client().info()["Swarm"]["NodeID"]
    porter(hosts.nodes[0], "node", "update", "--availability", "drain", drained.name)
    try:

        def moved() -> bool:
            live = [t for t in service.tasks() if t["DesiredState"] == "running"]
            return all(t["NodeID"] != node_id for t in live) and service.converged("busybox", 3)

        until(moved, 90, "the tasks' move")
        api = drained.client().api  # one listing (the model's list inspects each, racing)
        until(
            lambda: (
                not api.containers(
                    all=True, filters={"label": "com.docker.swarm.service.name=drained"}
                )
            ),
            60,
            "the removal of the drained node's containers",
        )
    finally:
        porter(hosts.nodes[0], "node", "update", "--availability", "active", drained.name)
