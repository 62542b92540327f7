"""`porter service create`'s placement, resource and mount flags over three real porterd:
`--constraint node.labels.K==V` puts every task on the labelled node; `--reserve-cpu` and
`--reserve-memory` reach the spec and the scheduler; `--limit-cpu` and `--limit-memory`
reach the task container's cgroup on its node; `--mount type=volume|bind` is in the task
container."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from porter_runtime.cgroups.paths import is_unified, v1_mounts

from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, Node, real_cluster_marks

pytestmark = real_cluster_marks()
COMMAND = ["sleep", "3600"]
WAIT = 120


@pytest.fixture
def service(hosts: ClusterHosts) -> Iterator[Callable[..., str]]:
    """`porter service create --name NAME FLAGS... busybox COMMAND...` on node0; the name.
    The services are removed afterwards."""
    names: list[str] = []

    def create(name: str, *flags: str, command: tuple[str, ...] = tuple(COMMAND)) -> str:
        porter(hosts.nodes[0], "service", "create", "--name", name, *flags, "busybox", *command)
        names.append(name)
        return name

    yield create
    for name in names:
        attempt(hosts.nodes[0], "service", "rm", name)


def tasks(hosts: ClusterHosts, name: str) -> list[dict[str, Any]]:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        return client.api.tasks(filters={"service": name, "desired-state": "running"})


def running(hosts: ClusterHosts, name: str, replicas: int) -> list[dict[str, Any]]:
    """The service's tasks once `replicas` of them run."""
    found: list[dict[str, Any]] = []

    def check() -> bool:
        found[:] = [t for t in tasks(hosts, name) if t["Status"]["State"] == "running"]
        return len(found) == replicas

    until(check, WAIT, f"{replicas} tasks of {name} running")
    return found


def node_of(hosts: ClusterHosts, task: dict[str, Any]) -> Node:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        hostname = client.api.inspect_node(task["NodeID"])["Description"]["Hostname"]
    return next(node for node in hosts.nodes if node.name == hostname)


def container_of(hosts: ClusterHosts, task: dict[str, Any]) -> dict[str, Any]:
    """The task container's inspect document, from the node that runs it."""
    container_id = task["Status"]["ContainerStatus"]["ContainerID"]
    with contextlib.closing(node_of(hosts, task).client()) as client:
        return client.api.inspect_container(container_id)


def inspect(hosts: ClusterHosts, name: str) -> dict[str, Any]:
    return json.loads(porter(hosts.nodes[0], "service", "inspect", name))[0]


def test_a_label_constraint_puts_every_task_on_the_labelled_node(
    hosts: ClusterHosts, service: Callable[..., str]
) -> None:
    zone = f"z{secrets.token_hex(3)}"
    porter(hosts.nodes[1], "node", "update", "--label-add", f"zone={zone}", "node1")
    service("zoned", "--replicas", "4", "--constraint", f"node.labels.zone=={zone}")
    placed = running(hosts, "zoned", 4)
    assert {node_of(hosts, task).name for task in placed} == {"node1"}


def test_reservations_are_in_the_spec_inspect_shows(
    hosts: ClusterHosts, service: Callable[..., str]
) -> None:
    service("reserved", "--reserve-cpu", "0.25", "--reserve-memory", "16m")
    resources = inspect(hosts, "reserved")["Spec"]["TaskTemplate"]["Resources"]
    assert resources["Reservations"] == {"NanoCPUs": 250_000_000, "MemoryBytes": 16 << 20}
    running(hosts, "reserved", 1)


def test_a_reservation_larger_than_any_node_is_refused_in_one_line(hosts: ClusterHosts) -> None:
    result = attempt(hosts.nodes[0], "service", "create", "--name", "huge",
                     "--reserve-cpu", "4096", "busybox", *COMMAND)  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: service 'huge' cannot be placed: "
        "no node has the resources the service reserves"
    ]
    assert "huge" not in porter(hosts.nodes[0], "service", "ls", "--format", "{{.Name}}")


def test_a_task_no_node_has_room_for_is_pending_with_the_reason(
    hosts: ClusterHosts, service: Callable[..., str]
) -> None:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        nodes = client.api.nodes()
    cpus = min(node["Description"]["Resources"]["NanoCPUs"] for node in nodes) / 1e9
    # room for one task a node: three run, the fourth waits
    service("crowded", "--replicas", "4", "--reserve-cpu", f"{cpus * 0.6:.2f}")
    running(hosts, "crowded", 3)
    rows = porter(hosts.nodes[0], "service", "ps", "crowded", "--format",
                  "{{.Node}}|{{.CurrentState}}|{{.Error}}").splitlines()  # fmt: skip
    assert sorted(rows) == [
        "node0|Running|",
        "node1|Running|",
        "node2|Running|",
        "|Pending|no node has the resources the service reserves",
    ]


def cgroup_file(pid: int, controller: str, name: str) -> Path:
    """The file `name` of the v1 `controller` cgroup process `pid` is in."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path(v1_mounts()[controller]) / path.lstrip("/") / name
    raise AssertionError(f"process {pid} is in no {controller} cgroup")


@pytest.mark.skipif(
    is_unified() or "cpu" not in v1_mounts() or "memory" not in v1_mounts(),
    reason="the host has no cgroup v1 cpu and memory hierarchies",
)
def test_limits_reach_the_task_containers_cgroup(
    hosts: ClusterHosts, service: Callable[..., str]
) -> None:
    service("limited", "--limit-cpu", "0.5", "--limit-memory", "48m")
    (task,) = running(hosts, "limited", 1)
    pid = container_of(hosts, task)["State"]["Pid"]
    quota = int(cgroup_file(pid, "cpu", "cpu.cfs_quota_us").read_text())
    period = int(cgroup_file(pid, "cpu", "cpu.cfs_period_us").read_text())
    assert quota / period == 0.5
    memory = cgroup_file(pid, "memory", "memory.limit_in_bytes").read_text()
    assert int(memory) == 48 << 20


def test_a_volume_mount_is_in_the_task_container(
    hosts: ClusterHosts, service: Callable[..., str]
) -> None:
    volume = f"data-{secrets.token_hex(4)}"
    service("volumed", "--mount", f"type=volume,src={volume},dst=/data",
            command=("sh", "-c", "echo kept > /data/note; exec sleep 3600"))  # fmt: skip
    (task,) = running(hosts, "volumed", 1)
    (mount,) = container_of(hosts, task)["Mounts"]
    assert (mount["Type"], mount["Name"], mount["Destination"]) == ("volume", volume, "/data")
    note = Path(mount["Source"]) / "note"
    until(note.exists, 30, "the task's write into its volume")
    assert note.read_text() == "kept\n"


def test_a_bind_mount_is_in_the_task_container(
    hosts: ClusterHosts, service: Callable[..., str], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in").write_text("from the node\n")
    os.chmod(shared, 0o777)
    service("bound", "--mount", f"type=bind,src={shared},dst=/shared",
            command=("sh", "-c", "cat /shared/in > /shared/out; exec sleep 3600"))  # fmt: skip
    (task,) = running(hosts, "bound", 1)
    (mount,) = container_of(hosts, task)["Mounts"]
    assert (mount["Type"], mount["Source"], mount["Destination"]) == ("bind", str(shared),
                                                                       "/shared")  # fmt: skip
    until((shared / "out").exists, 30, "the task's write through its bind mount")
    assert (shared / "out").read_text() == "from the node\n"
