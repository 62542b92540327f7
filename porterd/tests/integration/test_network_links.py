"""Namespaces and veth pairs made over rtnetlink, checked with iproute2 from outside.

Everything happens in a namespace the test makes and its own thread enters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.network import links

from porterd.tests.network_support import entered, make_netns, remove_netns, run_in, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Path]:
    netns = make_netns(tmp_path / "host.ns")
    try:
        with entered(netns):
            links.ensure_bridge("br-test", ["10.98.0.1/24", "fd98::1/64"])
            yield netns
    finally:
        for path in tmp_path.glob("c*.ns"):
            remove_netns(path)
        remove_netns(netns)


def ip_json(netns: Path, *argv: str) -> list[dict]:
    return json.loads(run_in(netns, "ip", "-j", "-d", *argv).stdout or "[]")


def plug(container: Path, addresses: list[str], gateways: list[str]) -> None:
    links.create_netns(container)
    links.plug_veth(
        container, "br-test", "vethtest0", "eth0", "02:42:0a:62:00:02", addresses, gateways
    )


def test_a_new_namespace_is_bound_on_its_file_with_loopback_up(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    links.create_netns(container)
    assert os.path.ismount(container)
    [loopback] = ip_json(container, "link", "show", "lo")
    assert "UP" in loopback["flags"]


def test_a_removed_namespace_leaves_no_mount_or_file(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    links.create_netns(container)
    links.remove_netns(container)
    assert not container.exists()


def test_a_plugged_veth_has_its_mac_addresses_and_default_route(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    plug(container, ["10.98.0.2/24"], ["10.98.0.1"])
    [eth0] = ip_json(container, "addr", "show", "eth0")
    assert eth0["address"] == "02:42:0a:62:00:02" and "UP" in eth0["flags"]
    ipv4 = [(a["local"], a["prefixlen"]) for a in eth0["addr_info"] if a["family"] == "inet"]
    assert ipv4 == [("10.98.0.2", 24)]
    [route] = ip_json(container, "route", "show", "default")
    assert (route["gateway"], route["dev"]) == ("10.98.0.1", "eth0")


def test_the_host_end_is_on_the_bridge_up_and_in_hairpin_mode(host: Path, tmp_path: Path) -> None:
    plug(tmp_path / "c1.ns", ["10.98.0.2/24"], ["10.98.0.1"])
    [veth] = ip_json(host, "link", "show", "vethtest0")
    assert veth["master"] == "br-test" and "UP" in veth["flags"]
    assert veth["linkinfo"]["info_slave_data"]["hairpin"] is True


def test_an_ipv6_address_and_route_are_set_too(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    plug(container, ["10.98.0.2/24", "fd98::2/64"], ["10.98.0.1", "fd98::1"])
    [route] = ip_json(container, "-6", "route", "show", "default")
    assert (route["gateway"], route["dev"]) == ("fd98::1", "eth0")


def test_unplugging_removes_both_ends(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    plug(container, ["10.98.0.2/24"], [])
    links.unplug_veth(container, "eth0", "vethtest0")
    assert ip_json(container, "link", "show", "eth0") == []
    assert not links.link_exists("vethtest0")


def test_deleting_a_link_that_is_gone_is_not_an_error(host: Path) -> None:
    links.delete_link("vethgone0")
    assert not links.link_exists("vethgone0")


def test_a_refused_request_is_a_link_error_naming_what_it_asked(host: Path, tmp_path: Path) -> None:
    container = tmp_path / "c1.ns"
    plug(container, ["10.98.0.2/24"], [])
    with pytest.raises(links.LinkError, match=r"^default route via 10\.97\.0\.1 dev eth1: "):
        links.plug_veth(
            container,
            "br-test",
            "vethtest1",
            "eth1",
            "02:42:0a:62:00:03",
            ["10.98.0.3/24"],
            ["10.97.0.1"],
        )
