"""The overlay network's pure parts: VXLAN ids, subnets and addresses handed out, the VXLAN
devices' flood entries, the names the DNS answers, and a task's networks."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from porterd.cluster.agent import container_body
from porterd.cluster.overlay import in_rotation, matches
from porterd.cluster.overlay_store import (
    VNI_FIRST,
    lease_address,
    next_vni,
    overlay_range,
)
from porterd.cluster.spec import normalized
from porterd.errors import Conflict, InvalidParameter
from porterd.network.ipam import Range
from porterd.network.overlay import fdb_script, flood_peers, vxlan_name
from porterd.network.records import NetworkRecord


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_the_first_vxlan_id_follows_swarm_s_reserved_ones() -> None:
    assert next_vni(set()) == VNI_FIRST == 4097


def test_a_vxlan_id_is_never_handed_out_twice() -> None:
    assert next_vni({4097, 4098, 4100}) == 4099


def test_an_overlay_without_a_subnet_gets_the_pool_s_first_free_one() -> None:
    family = overlay_range([], [net("10.0.0.0/24"), net("10.0.1.0/24")])
    assert (str(family.subnet), str(family.gateway)) == ("10.0.2.0/24", "10.0.2.1")


def test_an_overlay_keeps_the_subnet_and_gateway_given() -> None:
    family = overlay_range([{"Subnet": "192.168.50.0/24", "Gateway": "192.168.50.254"}], [])
    assert family.to_json() == {"Subnet": "192.168.50.0/24", "Gateway": "192.168.50.254"}


def test_a_subnet_overlapping_another_overlay_is_refused() -> None:
    with pytest.raises(Conflict, match="overlaps"):
        overlay_range([{"Subnet": "10.0.0.128/25"}], [net("10.0.0.0/24")])


@pytest.mark.parametrize(
    ("ipam", "message"),
    [
        ([{"Subnet": "fd00::/64"}], "only IPv4"),
        ([{"Gateway": "10.1.0.1"}], "needs a Subnet"),
        ([{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}], "one IPAM config"),
    ],
)
def test_an_overlay_s_bad_ipam_is_refused(ipam: list[dict[str, str]], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        overlay_range(ipam, [])


def test_an_address_is_the_lowest_one_no_lease_holds() -> None:
    family = Range.build(net("10.0.0.0/24"))
    assert str(lease_address(family, {"10.0.0.2", "10.0.0.3"})) == "10.0.0.4"


def test_an_address_asked_for_that_another_holds_is_refused() -> None:
    family = Range.build(net("10.0.0.0/24"))
    with pytest.raises(Conflict):
        lease_address(family, {"10.0.0.9"}, "10.0.0.9")


def test_the_vxlan_device_is_named_after_its_bridge() -> None:
    assert vxlan_name("ov-0123456789ab") == "vx-0123456789ab"


def test_the_flood_entries_gained_and_lost_are_rendered_as_bridge_commands() -> None:
    script = fdb_script("vx-a", present={"10.0.0.2", "10.0.0.3"}, peers={"10.0.0.3", "10.0.0.4"})
    assert script == (
        "fdb append 00:00:00:00:00:00 dev vx-a dst 10.0.0.4\n"
        "fdb del 00:00:00:00:00:00 dev vx-a dst 10.0.0.2\n"
    )


def test_flood_entries_already_right_render_nothing() -> None:
    assert fdb_script("vx-a", {"10.0.0.2"}, ["10.0.0.2"]) == ""


def test_only_the_all_zeros_entries_count_as_peers() -> None:
    shown = [
        {"mac": "00:00:00:00:00:00", "dst": "10.77.0.21", "state": "permanent"},
        {"mac": "02:42:0a:00:00:02", "dst": "10.77.0.22"},
        {"mac": "4a:11:22:33:44:55", "state": "permanent"},
    ]
    assert flood_peers(shown) == {"10.77.0.21"}


@pytest.mark.parametrize("name", ["web", "WEB.", "tasks.web", "web.1.abc", "0123456789ab"])
def test_a_task_answers_its_service_name_tasks_name_and_container_name_and_id(name: str) -> None:
    holder = {"Name": "web.1.abc", "Aliases": ["web"], "Container": "0123456789abcdef"}
    assert matches(holder, name)


def test_a_task_does_not_answer_another_service_s_name() -> None:
    assert not matches({"Name": "web.1.abc", "Aliases": ["web"]}, "tasks.api")


def task_of(
    container: str, state: str = "running", health: str = "", desired: str = "running"
) -> dict[str, Any]:
    status = {"ContainerID": container, **({"Health": health} if health else {})}
    return {"DesiredState": desired, "Status": {"State": state, "ContainerStatus": status}}


def hit(address: str, container: str, node: str = "n1") -> tuple[str, dict[str, Any]]:
    return (address, {"Node": node, "Container": container})


def test_the_rotation_holds_the_running_tasks_on_ready_nodes() -> None:
    hits = [hit("10.0.0.2", "a"), hit("10.0.0.3", "b", node="gone")]
    assert in_rotation(hits, {"n1"}, [task_of("a"), task_of("b")]) == ["10.0.0.2"]


@pytest.mark.parametrize(
    "task",
    [
        task_of("a", health="unhealthy"),
        task_of("a", state="failed"),
        task_of("a", desired="shutdown"),
    ],
)
def test_a_task_unhealthy_ended_or_told_to_stop_leaves_the_rotation(task: dict[str, Any]) -> None:
    assert in_rotation([hit("10.0.0.2", "a")], {"n1"}, [task]) == []


def test_a_container_no_task_names_is_in_the_rotation() -> None:
    assert in_rotation([hit("10.0.0.2", "attached")], {"n1"}, [task_of("a")]) == ["10.0.0.2"]


def test_an_overlay_s_mtu_leaves_room_for_the_vxlan_header() -> None:
    record = NetworkRecord("id", "n", "ov-id", "", {}, options={})
    assert record.mtu == 1500
    record.options["com.docker.network.driver.mtu"] = "1450"
    assert record.mtu == 1450


def spec(**template: Any) -> dict[str, Any]:
    return {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}, **template}}


def test_a_service_s_networks_are_kept_in_its_task_template() -> None:
    networks = [{"Target": "front", "Aliases": ["www"]}]
    assert normalized(spec(Networks=networks))["TaskTemplate"]["Networks"] == networks


def test_the_top_level_networks_of_older_clients_move_to_the_task_template() -> None:
    result = normalized({**spec(), "Networks": [{"Target": "front"}]})
    assert result["TaskTemplate"]["Networks"] == [{"Target": "front"}]
    assert "Networks" not in result


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        ("front", "must be a list"),
        ([{"Aliases": []}], "needs a Target"),
        ([{"Target": "front", "Aliases": "www"}], "Aliases are strings"),
        ([{"Target": "front"}, {"Target": "front"}], "attached twice"),
    ],
)
def test_a_malformed_network_attachment_is_refused(networks: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        normalized(spec(Networks=networks))


def test_a_task_joins_its_networks_under_its_service_s_name() -> None:
    task = {
        "ID": "t1",
        "ServiceID": "s1",
        "ServiceName": "web",
        "Slot": 1,
        "NodeID": "n1",
        "Spec": {
            "ContainerSpec": {"Image": "busybox"},
            "Networks": [{"Target": "front"}, {"Target": "back", "Aliases": ["db"]}],
        },
    }
    body = container_body(task)
    assert "NetworkMode" not in body["HostConfig"]  # the default bridge first
    assert body["NetworkingConfig"]["EndpointsConfig"] == {
        "front": {"Aliases": ["web"]},
        "back": {"Aliases": ["web", "db"]},
    }
