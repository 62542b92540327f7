"""porterd.network's pure parts: address pools, ranges, the files, the rules, DNS messages."""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

import pytest
from porterd.errors import Conflict, Forbidden, InvalidParameter
from porterd.network import dns, firewall
from porterd.network.definitions import define_network
from porterd.network.etcfiles import ResolvConf, hosts_file, resolv_conf_file
from porterd.network.ipam import AddressPool, Range, check_free, next_subnet
from porterd.network.ports import port_bindings
from porterd.network.records import NetworkRecord


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def test_a_pool_parses_as_dockerds_flag_spells_it() -> None:
    assert AddressPool.parse("base=10.10.0.0/16,size=24") == AddressPool(net("10.10.0.0/16"), 24)


def test_a_pool_size_shorter_than_its_base_is_refused() -> None:
    with pytest.raises(InvalidParameter):
        AddressPool.parse("base=10.10.0.0/16,size=8")


def test_the_next_subnet_skips_those_in_use() -> None:
    pools = [AddressPool.parse("base=10.10.0.0/16,size=24")]
    assert next_subnet(pools, [net("10.10.0.0/24"), net("10.10.1.0/25")]) == net("10.10.2.0/24")


def test_an_overlapping_subnet_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="overlaps"):
        check_free(net("10.0.1.0/24"), [net("10.0.0.0/16")])


def test_a_range_hands_out_from_its_ip_range_skipping_the_gateway() -> None:
    family = Range.build(net("10.1.0.0/24"), "10.1.0.5", "10.1.0.4/30")
    assert str(family.pick({"10.1.0.6"})) == "10.1.0.4"
    assert str(family.pick({"10.1.0.4", "10.1.0.6"})) == "10.1.0.7"


def test_a_static_address_already_leased_is_a_conflict() -> None:
    family = Range.build(net("10.1.0.0/24"))
    with pytest.raises(Conflict):
        family.check_static(ipaddress.ip_address("10.1.0.9"), {"10.1.0.9"})


def test_a_gateway_outside_the_subnet_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="gateway"):
        Range.build(net("10.1.0.0/24"), "10.2.0.1")


def test_hosts_names_the_container_at_each_address() -> None:
    text = hosts_file("abc", ["172.17.0.2"], ["db:10.0.0.5"])
    assert text.startswith("127.0.0.1\tlocalhost\n")
    assert text.endswith("10.0.0.5\tdb\n172.17.0.2\tabc\n")


def test_resolv_conf_drops_loopback_nameservers_and_falls_back_to_googles() -> None:
    host = ResolvConf.parse("nameserver 127.0.0.53\nsearch corp\noptions edns0\n")
    assert resolv_conf_file(host, embedded=False) == (
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch corp\noptions edns0\n"
    )


def test_resolv_conf_on_a_user_network_points_at_the_embedded_server() -> None:
    host = ResolvConf.parse("nameserver 192.0.2.53\noptions ndots:2\n")
    assert resolv_conf_file(host, embedded=True) == (
        "nameserver 127.0.0.11\noptions ndots:0\n\n# ExtServers: [192.0.2.53]\n"
    )


def test_the_ruleset_masquerades_only_networks_that_are_not_internal() -> None:
    script = firewall.render(
        [
            firewall.BridgeRules("porter0", ("172.17.0.0/16",)),
            firewall.BridgeRules("br-int", ("10.5.0.0/24",), internal=True),
        ],
        [],
    )
    assert 'ip saddr 172.17.0.0/16 oifname != "porter0" masquerade' in script
    assert "10.5.0.0/24" not in script
    assert 'iifname "br-int" oifname != "br-int" drop' in script


def test_the_ruleset_replaces_only_porters_own_tables() -> None:
    script = firewall.render([], [])
    deleted = [line for line in script.splitlines() if line.startswith(("delete", "flush"))]
    assert deleted == ["delete table inet porter", "delete table bridge porter"]


def test_a_published_port_becomes_a_dnat_rule() -> None:
    script = firewall.render([], [firewall.PortRule("tcp", "", 8080, "172.17.0.2", 80)])
    assert "meta nfproto ipv4 tcp dport 8080 dnat ip to 172.17.0.2:80" in script


def test_traffic_to_loopback_is_left_to_the_userland_proxy() -> None:
    script = firewall.render([], [firewall.PortRule("tcp", "", 8080, "172.17.0.2", 80)])
    published = script[script.index("chain published {") :]
    assert published.splitlines()[1].strip() == "ip daddr 127.0.0.0/8 return"


def test_a_port_published_on_every_address_of_a_family_matches_that_family() -> None:
    script = firewall.render([], [firewall.PortRule("tcp", "0.0.0.0", 8080, "172.17.0.2", 80)])
    assert "meta nfproto ipv4 tcp dport 8080 dnat ip to 172.17.0.2:80" in script


def test_traffic_to_ipv6_loopback_is_left_to_the_userland_proxy() -> None:
    script = firewall.render([], [firewall.PortRule("tcp", "", 8080, "fd00::2", 80)])
    published = script[script.index("chain published {") :]
    assert published.splitlines()[2].strip() == "ip6 daddr ::1 return"


def test_a_host_ip_that_is_no_address_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="invalid host IP"):
        port_bindings({"80/tcp": [{"HostIp": "example", "HostPort": "8080"}]})


def test_port_bindings_parse_the_engine_apis_form() -> None:
    bindings = port_bindings(
        {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": None}
    )
    assert [(b.protocol, b.container_port, b.host_ip, b.host_port) for b in bindings] == [
        ("tcp", 80, "127.0.0.1", 8080),
        ("udp", 53, "", 0),
    ]


def test_a_malformed_port_is_refused() -> None:
    with pytest.raises(InvalidParameter):
        port_bindings({"80/sctp": []})


def query(name: str, qtype: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return (
        struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)
    )


def test_a_dns_answer_carries_the_addresses_of_the_asked_family() -> None:
    reply = dns.answer(query("web", dns.TYPE_A), ["10.0.0.2", "10.0.0.3", "fd00::2"])
    ident, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    assert (ident, flags & 0x8000, answers) == (0x1234, 0x8000, 2)
    assert {reply[-4:], reply[-20:-16]} == {bytes([10, 0, 0, 2]), bytes([10, 0, 0, 3])}


def test_a_dns_question_is_parsed_to_name_and_type() -> None:
    assert dns.parse_question(query("a.b", dns.TYPE_AAAA))[:2] == ("a.b", dns.TYPE_AAAA)


def define(name: str, existing: list[NetworkRecord] | None = None, **options: Any) -> NetworkRecord:
    settings: dict[str, Any] = {
        "internal": False,
        "attachable": False,
        "enable_ipv6": False,
        "ipam": (),
        "labels": {},
        "options": {},
        **options,
    }
    pools = [AddressPool.parse("base=10.30.0.0/16,size=24")]
    return define_network(name, existing or [], pools, **settings)


def test_a_network_without_a_subnet_gets_the_next_free_one() -> None:
    first = define("one")
    assert define("two", [first]).ipv4 == {"Subnet": "10.30.1.0/24", "Gateway": "10.30.1.1"}


def test_a_network_name_in_use_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="already exists"):
        define("twice", [define("twice")])


def test_the_predefined_names_cannot_be_created() -> None:
    for name in ("bridge", "host", "none"):
        with pytest.raises(Forbidden):
            define(name)


def test_ipv6_without_an_ipv6_subnet_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="IPv6"):
        define("six", enable_ipv6=True)


def test_the_bridge_name_option_names_the_bridge() -> None:
    network = define("named", options={"com.docker.network.bridge.name": "pj-custom"})
    assert network.bridge == "pj-custom"


def test_a_bridge_name_longer_than_an_interface_name_is_refused() -> None:
    with pytest.raises(Conflict):
        define("long", options={"com.docker.network.bridge.name": "a-very-long-bridge-name"})


def test_icc_false_is_read_from_the_options() -> None:
    assert define("closed", options={"com.docker.network.bridge.enable_icc": "false"}).icc is False
