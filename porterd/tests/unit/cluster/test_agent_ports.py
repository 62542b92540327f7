"""The agent's part in the routing mesh: a task of a service with a published port asks for
an ephemeral host port, its agent reports that port as docker's PortStatus, and drains it
before it stops."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from typing import Any

import pytest
from porterd.cluster.agent import DRAIN, Agent, Observed, container_body, observed_status
from porterd.cluster.node import mesh_host_ip

SIOCGIFADDR = 0x8915  # an interface's IPv4 address
ENDPOINT = {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080}]}
TASK = {
    "ID": "t1",
    "ServiceID": "s1",
    "ServiceName": "web",
    "Slot": 1,
    "NodeID": "n1",
    "DesiredState": "running",
    "Spec": {"ContainerSpec": {"Image": "busybox"}},
    "Endpoint": {"Spec": ENDPOINT},
    "Status": {"State": "assigned"},
}


def test_a_task_of_a_service_with_a_published_port_asks_for_an_ephemeral_host_port() -> None:
    body = container_body(TASK)
    assert body["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostPort": ""}]}


def test_a_task_s_port_in_the_mesh_is_published_on_the_node_s_address_when_given() -> None:
    body = container_body(TASK, "10.0.0.5")
    assert body["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "10.0.0.5", "HostPort": ""}]
    }


def own_address() -> str | None:
    """An IPv4 address of one of this host's interfaces other than loopback, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # no IPv4 address on it
                continue
            address = socket.inet_ntoa(answer[20:24])
            if not ipaddress.ip_address(address).is_loopback:
                return address
    return None


def test_the_mesh_publishes_on_an_advertised_address_of_the_node_s_own() -> None:
    address = own_address()
    if address is None:
        pytest.skip("this host has no IPv4 address besides loopback")
    assert mesh_host_ip(address) == address


def test_the_mesh_publishes_on_every_address_for_a_loopback_advertised_address() -> None:
    assert mesh_host_ip("127.0.0.1") == ""


def test_the_mesh_publishes_on_every_address_for_an_advertised_address_not_the_node_s() -> None:
    assert mesh_host_ip("192.0.2.1") == ""  # TEST-NET-1, no host's


def test_the_mesh_publishes_on_every_address_for_an_advertised_name() -> None:
    assert mesh_host_ip("eth0") == ""


def test_the_agent_reports_the_host_port_of_a_running_task_as_docker_s_port_status() -> None:
    new = observed_status(TASK, Observed("c1", running=True, ports=(("tcp", 80, 32768),)))
    assert new is not None
    assert new["PortStatus"] == {
        "Ports": [
            {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 32768, "PublishMode": "host"}
        ]
    }


def test_a_task_without_published_ports_asks_for_none() -> None:
    assert "PortBindings" not in container_body({**TASK, "Endpoint": {"Spec": {}}})["HostConfig"]


def test_a_changed_host_port_is_reported_again() -> None:
    seen = Observed("c1", running=True, ports=(("tcp", 80, 32768),))
    first = {**TASK, "Status": observed_status(TASK, seen)}
    assert observed_status(first, seen) is None
    moved = Observed("c1", running=True, ports=(("tcp", 80, 32999),))
    assert observed_status(first, moved) is not None


class Removals(Agent):
    """An agent that records the removals it asks for, and the reports it writes."""

    def __init__(self) -> None:
        super().__init__(Reports(), "n1", runtime=None)  # type: ignore[arg-type]
        self.removed: list[tuple[str, float]] = []

    def remove(self, container_id: str, drain: float = 0.0) -> None:
        self.removed.append((container_id, drain))


class Reports:
    def write_tasks(self, tasks: list[dict[str, Any]]) -> bool:
        return True


def test_a_task_serving_a_published_port_is_drained_before_its_container_stops() -> None:
    agent = Removals()
    serving = Observed("c1", running=True, ports=(("tcp", 80, 32768),))
    agent._sync_task({**TASK, "DesiredState": "shutdown"}, serving, set())
    assert agent.removed == [("c1", DRAIN)]


def test_a_task_without_published_ports_stops_at_once() -> None:
    agent = Removals()
    agent._sync_task({**TASK, "DesiredState": "shutdown"}, Observed("c1", running=True), set())
    assert agent.removed == [("c1", 0.0)]
