"""The routing mesh's pure parts: which replicas a published port reaches from a node, the
chains that balance over them, and the connection rates autoscaling reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from porterd.cluster.etcd import KeyValue
from porterd.cluster.mesh import (
    FRESH_FOR,
    ConnectionRates,
    refuse_taken_ports,
    service_rps,
)
from porterd.cluster.routing import Backend, MeshPort, mesh_ports, render
from porterd.errors import InvalidParameter
from porterd.network import firewall

WEB = {
    "ID": "s1",
    "Spec": {
        "EndpointSpec": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080}]}
    },
}
NODES = [
    {"ID": "n1", "Addr": "10.0.0.1", "Status": {"State": "ready"}},
    {"ID": "n2", "Addr": "10.0.0.2", "Status": {"State": "ready"}},
    {"ID": "n3", "Addr": "10.0.0.3", "Status": {"State": "down"}},
]
LOCAL = {"c-local": "172.17.0.5"}


def task(
    task_id: str, node: str, *, state: str = "running", desired: str = "running", **extra: Any
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "State": state,
        "ContainerStatus": {"ContainerID": f"c-{task_id}", **extra.pop("container", {})},
        "PortStatus": {
            "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 32000 + len(task_id)}]
        },
    }
    return {
        "ID": task_id,
        "ServiceID": "s1",
        "NodeID": node,
        "DesiredState": desired,
        "Spec": {"ContainerSpec": {"Image": "busybox"}},
        "Status": status,
        **extra,
    }


def backends(*tasks: dict[str, Any]) -> tuple[Backend, ...]:
    [port] = mesh_ports([WEB], tasks, NODES, "n1", LOCAL.get)
    return port.backends


def test_a_remote_replica_is_reached_at_its_node_address_and_host_port() -> None:
    assert backends(task("a", "n2")) == (Backend("10.0.0.2", 32001),)


def test_a_local_replica_is_reached_at_its_container_address_and_target_port() -> None:
    assert backends(task("local", "n1")) == (Backend("172.17.0.5", 80),)


def test_replicas_of_every_ready_node_are_in_rotation() -> None:
    assert backends(task("local", "n1"), task("a", "n2"), task("bb", "n2")) == (
        Backend("10.0.0.2", 32001),
        Backend("10.0.0.2", 32002),
        Backend("172.17.0.5", 80),
    )


def test_a_replica_on_a_down_node_leaves_the_rotation() -> None:
    assert backends(task("a", "n3")) == ()


def test_a_replica_being_shut_down_leaves_the_rotation_while_it_still_runs() -> None:
    assert backends(task("a", "n2", desired="shutdown")) == ()


def test_a_replica_not_yet_running_is_not_in_rotation() -> None:
    assert backends(task("a", "n2", state="starting")) == ()


def test_an_unhealthy_replica_leaves_the_rotation() -> None:
    assert backends(task("a", "n2", container={"Health": "unhealthy"})) == ()


def test_a_replica_whose_health_check_has_not_passed_yet_is_not_in_rotation() -> None:
    assert backends(task("a", "n2", container={"Health": "starting"})) == ()


def test_a_replica_with_a_health_check_not_yet_probed_is_not_in_rotation() -> None:
    checked = task("a", "n2", Spec={"ContainerSpec": {"Healthcheck": {"Test": ["CMD", "true"]}}})
    assert backends(checked) == ()


def test_a_healthy_replica_is_in_rotation() -> None:
    assert backends(task("a", "n2", container={"Health": "healthy"})) != ()


def test_a_remote_replica_whose_host_port_is_not_reported_yet_is_not_in_rotation() -> None:
    waiting = task("a", "n2")
    del waiting["Status"]["PortStatus"]
    assert backends(waiting) == ()


def test_a_port_published_in_host_mode_is_not_in_the_mesh() -> None:
    spec = {"EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": 8080,
                                        "PublishMode": "host"}]}}  # fmt: skip
    assert mesh_ports([{"ID": "s1", "Spec": spec}], [], NODES, "n1", LOCAL.get) == []


def test_a_service_without_replicas_still_has_its_port_in_the_mesh() -> None:
    assert mesh_ports([WEB], [], NODES, "n1", LOCAL.get) == [MeshPort("tcp", 8080, "s1", ())]


def test_the_chains_send_new_connections_in_turn_to_each_backend() -> None:
    port = MeshPort("tcp", 8080, "s1", (Backend("10.0.0.2", 32001), Backend("172.17.0.5", 80)))
    chains = render([port])
    assert (
        f'meta nfproto ipv4 tcp dport 8080 counter name "mesh_tcp_8080" ct mark set '
        f"{firewall.MESH_MARK:#x} numgen inc mod 2 vmap "
        "{ 0 : goto mesh_tcp_8080_0, 1 : goto mesh_tcp_8080_1 }"
    ) in chains
    assert "meta l4proto tcp dnat ip to 10.0.0.2:32001" in chains
    assert "meta l4proto tcp dnat ip to 172.17.0.5:80" in chains


def test_a_port_without_backends_only_counts_its_connections() -> None:
    chains = render([MeshPort("tcp", 8080, "s1", ())])
    assert 'tcp dport 8080 counter name "mesh_tcp_8080"\n' in chains
    assert "dnat" not in chains


def test_no_published_port_renders_no_mesh_and_the_firewall_no_jump_to_it() -> None:
    assert render([]) == ""
    assert "jump mesh" not in firewall.render([], [], render([]))


def test_the_firewall_checks_the_mesh_before_the_published_ports_and_masquerades_it() -> None:
    script = firewall.render([], [], render([MeshPort("tcp", 8080, "s1", ())]))
    prerouting = script.split("chain prerouting")[1].split("}")[0]
    assert prerouting.index("jump mesh") < prerouting.index("jump published")
    assert f"ct mark {firewall.MESH_MARK:#x} oifname != @bridges masquerade" in script


def test_connection_rates_are_counted_between_two_readings() -> None:
    rates = ConnectionRates()
    assert rates.update({"mesh_tcp_8080": 10}, at=100.0) == {}
    assert rates.update({"mesh_tcp_8080": 30}, at=102.0) == {"mesh_tcp_8080": 10.0}


def test_a_counter_set_back_to_zero_by_a_table_made_afresh_counts_from_zero() -> None:
    rates = ConnectionRates()
    rates.update({"mesh_tcp_8080": 50}, at=100.0)
    assert rates.update({"mesh_tcp_8080": 4}, at=102.0) == {"mesh_tcp_8080": 2.0}


def test_counters_are_read_from_nft_json() -> None:
    counter = {"name": "mesh_tcp_8080", "packets": 7, "bytes": 420}
    listing = {"nftables": [{"metainfo": {}}, {"counter": counter}]}
    assert firewall.counters_of(listing) == {"mesh_tcp_8080": (7, 420)}


def test_a_firewall_swap_declares_the_mesh_counters_with_what_they_counted() -> None:
    ports = [MeshPort("tcp", 8080, "s1", ()), MeshPort("udp", 53, "s2", ())]
    script = firewall.carry_counters(firewall.render([], [], render(ports)), {
        "mesh_tcp_8080": (7, 420), "mesh_other": (1, 60)
    })  # fmt: skip
    assert "  counter mesh_tcp_8080 { packets 7 bytes 420 }\n" in script
    assert "  counter mesh_udp_53 { }\n" in script


class Reports:
    """Just enough of an EtcdClient: the nodes' load reports under /p/load/."""

    def __init__(self, reports: dict[str, dict[str, Any]]) -> None:
        self.reports = reports

    def prefix(self, key: str) -> list[KeyValue]:
        assert key == "/p/load/"
        return [
            KeyValue(f"/p/load/{node}", json.dumps(report).encode(), 1, 1, 1, 0)
            for node, report in self.reports.items()
        ]


class ReportsOnly:
    """Just enough of a ClusterStore for the nodes' load reports."""

    def __init__(self, reports: dict[str, dict[str, Any]]) -> None:
        self.etcd = Reports(reports)
        self.reports = reports

    def key(self, *parts: str) -> str:
        return "/p/" + "/".join(parts)

    def nodes(self) -> list[dict[str, Any]]:
        return [{"ID": node, "Description": {"Hostname": f"host-{node}"}} for node in self.reports]


def store_with(**reports: dict[str, Any]) -> Any:
    return ReportsOnly(reports)


def test_a_service_s_rate_is_the_sum_of_the_fresh_reports_of_every_node() -> None:
    store = store_with(
        n1={"At": 100.0, "Rates": {"s1": 3.0, "s2": 1.0}},
        n2={"At": 99.0, "Rates": {"s1": 4.5}},
        n3={"At": 100.0 - FRESH_FOR - 1, "Rates": {"s1": 50.0}},
    )
    assert service_rps(store, "s1", now=100.0) == 7.5


def test_without_a_fresh_report_a_service_has_no_rate_yet() -> None:
    assert service_rps(store_with(n1={"At": 0.0, "Rates": {"s1": 3.0}}), "s1", now=100.0) is None


def test_a_service_publishing_a_port_a_container_holds_on_a_node_is_refused() -> None:
    store = store_with(n1={"At": 100.0, "Taken": ["8080/tcp"]})
    with pytest.raises(InvalidParameter, match=r"port 8080/tcp .* container on node 'host-n1'"):
        refuse_taken_ports(store, WEB["Spec"], now=100.0)


def test_a_port_held_on_no_node_is_not_refused() -> None:
    store = store_with(n1={"At": 100.0, "Taken": ["8081/tcp", "8080/udp"]})
    refuse_taken_ports(store, WEB["Spec"], now=100.0)


def test_an_update_adding_a_port_a_container_holds_on_a_node_is_refused() -> None:
    store = store_with(n1={"At": 100.0, "Taken": ["8080/tcp"]})
    unpublished = {**WEB["Spec"], "EndpointSpec": {"Ports": []}}
    with pytest.raises(InvalidParameter, match=r"port 8080/tcp .* container on node 'host-n1'"):
        refuse_taken_ports(store, WEB["Spec"], now=100.0, current=unpublished)


def test_an_update_keeping_a_port_it_publishes_already_is_not_refused() -> None:
    store = store_with(n1={"At": 100.0, "Taken": ["8080/tcp"]})
    refuse_taken_ports(store, WEB["Spec"], now=100.0, current=WEB["Spec"])
