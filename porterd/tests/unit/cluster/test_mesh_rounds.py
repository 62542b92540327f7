"""A node's routing mesh round (porterd.cluster.mesh.RoutingMesh) over a store and a host
that record what it does: the chains are applied only when the backends change, a port a
container of the node holds is left to it and reported, and the load report says what the
counters counted."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from porterd.cluster.mesh import RoutingMesh

NODES = [{"ID": "n1", "Addr": "10.0.0.1", "Status": {"State": "ready"}}]


def web(port: int) -> dict[str, Any]:
    ports = [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": port}]
    return {"ID": "s1", "Spec": {"EndpointSpec": {"Ports": ports}}}


def running(task_id: str) -> dict[str, Any]:
    return {
        "ID": task_id,
        "ServiceID": "s1",
        "NodeID": "n1",
        "DesiredState": "running",
        "Spec": {},
        "Status": {"State": "running", "ContainerStatus": {"ContainerID": f"c-{task_id}"}},
    }


class Store:
    prefix = "/p/"

    def __init__(self, port: int) -> None:
        self.etcd = self
        self.service = web(port)
        self.task_list = [running("a")]
        self.puts: dict[str, dict[str, Any]] = {}

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def services(self) -> list[dict[str, Any]]:
        return [self.service]

    def tasks(self) -> list[dict[str, Any]]:
        return self.task_list

    def nodes(self) -> list[dict[str, Any]]:
        return NODES

    def put(self, key: str, value: str) -> None:
        self.puts[key] = json.loads(value)


class Host:
    def __init__(self) -> None:
        self.applied: list[str] = []

    def apply_mesh(self, chains: str) -> None:
        self.applied.append(chains)

    def container_address(self, container_id: str) -> str | None:
        return {"c-a": "172.17.0.2", "c-b": "172.17.0.3"}.get(container_id)

    def counters(self) -> dict[str, int]:
        return {}

    def allow_loopback_to(self, address: str) -> None:
        pass

    def held_ports(self) -> set[tuple[str, int]]:
        return {("tcp", 45678)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


def mesh_over(store: Store, host: Host) -> RoutingMesh:
    return RoutingMesh(store, "n1", host, clock=lambda: 1000.0)  # type: ignore[arg-type]


def test_the_chains_are_applied_again_only_when_the_backends_change() -> None:
    store, host = Store(free_port()), Host()
    mesh = mesh_over(store, host)
    try:
        mesh.sync_once()
        mesh.sync_once()
        assert len(host.applied) == 1 and "172.17.0.2:80" in host.applied[0]
        store.task_list = [running("a"), running("b")]
        mesh.sync_once()
        assert len(host.applied) == 2 and "172.17.0.3:80" in host.applied[1]
    finally:
        mesh.stop()


def test_a_published_port_is_held_on_the_node_while_the_service_publishes_it() -> None:
    port = free_port()
    store, host = Store(port), Host()
    mesh = mesh_over(store, host)
    try:
        mesh.sync_once()
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("0.0.0.0", port))
    finally:
        mesh.stop()
    assert host.applied[-1] == ""  # the mesh's rules go when it stops


def test_a_port_something_else_holds_on_the_node_is_left_to_it_and_reported() -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        port = holder.getsockname()[1]
        store, host = Store(port), Host()
        mesh = mesh_over(store, host)
        try:
            mesh.sync_once()
        finally:
            mesh.stop()
    assert f"dport {port}" not in host.applied[0]
    [report] = store.puts.values()
    assert report["Conflicts"] == [f"port {port}/tcp is taken on this node: Address already in use"]
    assert report["Taken"] == ["45678/tcp"]
