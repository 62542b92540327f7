"""porterd.network against the real kernel, in a network namespace each test makes: the
test's thread enters it, so the service's bridges, veths and nftables rules are made there;
each "container" is a namespace the service made, with host busybox run inside it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.errors import Conflict, Forbidden, InvalidParameter, NotFound
from porterd.network import ContainerRef, dns

from porterd.tests.network_support import (
    Host,
    links_in,
    make_netns,
    network_host,
    nft_ruleset,
    remove_netns,
    run_in,
    unavailable,
)

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        yield made


def reaches(source: Path, address: str) -> bool:
    """Whether any of three pings is answered (the first may wait on ARP on a busy host)."""
    ping = ("busybox", "ping", "-c", "3", "-i", "0.3", "-W", "2", address)
    return run_in(source, *ping).returncode == 0


def test_the_default_bridge_gets_the_first_subnet_of_the_pool(host: Host) -> None:
    network = host.service.get("bridge")
    assert network.ipv4 == {"Subnet": "10.99.0.0/24", "Gateway": "10.99.0.1"}
    assert "porter0" in links_in(host.netns)
    assert "table inet porter" in nft_ruleset(host.netns)


def test_a_container_on_the_default_bridge_reaches_its_gateway(host: Host) -> None:
    container = host.start("first")
    assert host.address(container) == "10.99.0.2"
    assert reaches(host.ns(container), "10.99.0.1")


def test_containers_on_one_user_network_reach_each_other(host: Host) -> None:
    host.service.create("front")
    one, two = host.start("one", "front"), host.start("two", "front")
    assert reaches(host.ns(one), host.address(two, "front"))


def test_containers_on_different_user_networks_are_isolated(host: Host) -> None:
    host.service.create("red")
    host.service.create("blue")
    red, blue = host.start("red1", "red"), host.start("blue1", "blue")
    assert not reaches(host.ns(red), host.address(blue, "blue"))


def test_icc_false_keeps_containers_of_a_network_apart(host: Host) -> None:
    host.service.create("closed", options={"com.docker.network.bridge.enable_icc": "false"})
    one, two = host.start("c1", "closed"), host.start("c2", "closed")
    assert not reaches(host.ns(one), host.address(two, "closed"))


@contextlib.contextmanager
def outside_peer(host: Host) -> Iterator[Path]:
    """A namespace outside the host, at 192.0.2.2, linked to the host's 192.0.2.1."""
    outside = make_netns(host.root / "outside.ns")
    holder = subprocess.Popen(["nsenter", f"--net={outside}", "sleep", "600"])
    try:
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino != os.stat(outside).st_ino:
            time.sleep(0.01)  # until nsenter has entered the namespace
        subprocess.run(
            ["ip", "link", "add", "pjout", "type", "veth", "peer", "name", "pjin",
             "netns", str(holder.pid)], check=True)  # fmt: skip
        subprocess.run(["ip", "addr", "add", "192.0.2.1/24", "dev", "pjout"], check=True)
        subprocess.run(["ip", "link", "set", "pjout", "up"], check=True)
        run_in(outside, "ip", "addr", "add", "192.0.2.2/24", "dev", "pjin")
        run_in(outside, "ip", "link", "set", "pjin", "up")
        run_in(outside, "ip", "route", "add", "default", "via", "192.0.2.1")
        yield outside
    finally:
        holder.kill()
        holder.wait()
        remove_netns(outside)


def test_a_removed_container_leaves_no_icc_rule_behind(host: Host) -> None:
    host.service.create("shut", options={"com.docker.network.bridge.enable_icc": "false"})
    container = host.start("c3", "shut")
    veth = host.service.store.endpoints(container_id=container.id)[0].host_veth
    assert veth in nft_ruleset(host.netns)
    host.service.release(container.id)
    assert veth not in nft_ruleset(host.netns)


def test_an_internal_network_has_no_way_out(host: Host) -> None:
    with outside_peer(host):
        host.service.create("sealed", internal=True)
        sealed = host.start("sealed1", "sealed")
        open_one = host.start("open1")
        assert reaches(host.ns(open_one), "192.0.2.2")
        assert not reaches(host.ns(sealed), "192.0.2.2")


def test_names_and_aliases_resolve_through_the_embedded_dns(host: Host) -> None:
    host.service.create("dns")
    web = host.start("web", "dns", endpoints={"dns": {"Aliases": ["frontend"]}})
    client = host.start("client", "dns")
    expected = host.address(web, "dns")
    for name in ("web", "frontend", web.id[:12]):
        answer = run_in(host.ns(client), "busybox", "nslookup", name, "127.0.0.11")
        assert expected in answer.stdout, (name, answer.stdout, answer.stderr)


def test_other_names_are_forwarded_to_the_hosts_resolver(host: Host) -> None:
    subprocess.run(["ip", "addr", "add", "192.0.2.53/32", "dev", "lo"], check=True)
    (host.root / "resolv.conf").write_text("nameserver 192.0.2.53\n")
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # made in the host's namespace
    upstream.bind(("192.0.2.53", 53))
    upstream.settimeout(10)
    replies = threading.Thread(target=answer_once, args=(upstream, "192.0.2.80"))
    replies.start()
    try:
        host.service.create("fwd")
        client = host.start("asker", "fwd")
        answer = run_in(host.ns(client), "busybox", "nslookup", "example.test", "127.0.0.11")
        assert "192.0.2.80" in answer.stdout, answer.stdout + answer.stderr
    finally:
        replies.join()
        upstream.close()


def answer_once(upstream: socket.socket, address: str) -> None:
    """A resolver answering one A question with `address` (others with no records)."""
    with contextlib.suppress(TimeoutError):
        for _ in range(2):  # busybox asks for A and AAAA
            query, peer = upstream.recvfrom(512)
            _, qtype, _ = dns.parse_question(query)
            upstream.sendto(dns.answer(query, [address] if qtype == dns.TYPE_A else []), peer)


def test_an_alias_shared_by_two_containers_answers_both(host: Host) -> None:
    host.service.create("pool")
    first = host.start("a1", "pool", endpoints={"pool": {"Aliases": ["svc"]}})
    second = host.start("a2", "pool", endpoints={"pool": {"Aliases": ["svc"]}})
    assert sorted(host.service.dns_answer(first.id, "svc")) == sorted(
        [host.address(first, "pool"), host.address(second, "pool")]
    )


@contextlib.contextmanager
def serving(host: Host, host_ip: str = "") -> Iterator[ContainerRef]:
    """A container serving one page with busybox httpd, its port 80 published on 18080
    (on `host_ip`, or on every address)."""
    binding = {"HostIp": host_ip, "HostPort": "18080"}
    container = host.start("httpd", ports={"80/tcp": [binding]})
    root = host.root / "www"
    root.mkdir(exist_ok=True)
    (root / "index.html").write_text("hello from the container\n")
    server = subprocess.Popen(
        ["nsenter", f"--net={host.ns(container)}", "busybox", "httpd", "-f", "-p", "80",
         "-h", str(root)]
    )  # fmt: skip
    try:
        yield container
    finally:
        server.kill()
        server.wait()


@pytest.fixture
def web(host: Host) -> Iterator[ContainerRef]:
    with serving(host) as container:
        yield container


def fetch(url: str, netns: Path | None = None) -> str:
    """The page at `url` (curl, retried while the server comes up), from `netns` if given."""
    argv = ["curl", "-s", "-m", "2", url]
    for _ in range(50):
        result = (
            run_in(netns, *argv)
            if netns
            else subprocess.run(argv, capture_output=True, text=True, check=False)
        )
        if result.stdout:
            return result.stdout
        time.sleep(0.1)
    return ""


def test_a_published_port_answers_on_loopback(host: Host, web: ContainerRef) -> None:
    assert fetch("http://127.0.0.1:18080/") == "hello from the container\n"


def test_a_published_port_answers_on_ipv6_loopback_through_the_userland_proxy(
    host: Host, web: ContainerRef
) -> None:
    assert fetch("http://[::1]:18080/") == "hello from the container\n"


def test_a_port_published_on_0_0_0_0_answers_on_loopback_and_the_hosts_own_address(
    host: Host,
) -> None:
    subprocess.run(["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"], check=True)
    with serving(host, "0.0.0.0"):
        assert fetch("http://127.0.0.1:18080/") == "hello from the container\n"
        assert fetch("http://198.51.100.7:18080/") == "hello from the container\n"


def test_a_port_published_on_every_ipv6_address_reaches_a_container_with_only_ipv4(
    host: Host,
) -> None:
    subprocess.run(["ip", "addr", "add", "2001:db8::7/128", "dev", "lo"], check=True)
    with serving(host, "::"):
        assert fetch("http://[::1]:18080/") == "hello from the container\n"
        assert fetch("http://[2001:db8::7]:18080/") == "hello from the container\n"


def test_a_port_taken_on_ipv6_loopback_is_refused(host: Host) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as taken:
        taken.bind(("::1", 18083))
        taken.listen()
        container = ContainerRef(
            id=secrets.token_hex(32),
            name="late6",
            port_bindings={"80/tcp": [{"HostPort": "18083"}]},
        )
        host.service.register(container)
        with pytest.raises(Conflict, match=r"\[::1\]:18083"):
            host.service.prepare(container)
        host.service.release(container.id)


def test_a_published_port_answers_on_the_hosts_own_address(host: Host, web: ContainerRef) -> None:
    subprocess.run(["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"], check=True)
    assert fetch("http://198.51.100.7:18080/") == "hello from the container\n"


def test_a_published_port_answers_other_containers_through_the_host(
    host: Host, web: ContainerRef
) -> None:
    subprocess.run(["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"], check=True)
    client = host.start("hairpin")
    assert fetch("http://198.51.100.7:18080/", host.ns(client)) == "hello from the container\n"


def test_a_published_port_answers_from_outside_the_host(host: Host, web: ContainerRef) -> None:
    with outside_peer(host) as outside:
        assert fetch("http://192.0.2.1:18080/", outside) == "hello from the container\n"


def test_a_host_port_already_bound_is_refused_and_nothing_is_left(host: Host) -> None:
    host.start("holder", ports={"80/tcp": [{"HostPort": "18081"}]})
    container = ContainerRef(
        id=secrets.token_hex(32),
        name="late",
        port_bindings={"80/tcp": [{"HostPort": "18081"}]},
    )
    host.service.register(container)
    with pytest.raises(Conflict, match="18081"):
        host.service.prepare(container)
    assert not host.service.netns_path(container.id).exists()
    host.service.release(container.id)
    assert all(lease["container_id"] != container.id for lease in host.service.store.leases())


def test_removing_a_container_leaves_no_link_rule_namespace_or_lease(host: Host) -> None:
    host.service.create("temp")
    container = host.start("gone", "temp", ports={"80/tcp": [{"HostPort": "18082"}]})
    veth = host.service.store.endpoints(container_id=container.id)[0].host_veth
    host.service.release(container.id)
    assert veth not in links_in(host.netns)
    assert "18082" not in nft_ruleset(host.netns)
    assert not host.ns(container).exists()
    assert host.service.store.leases() == []


def test_an_address_is_never_handed_out_twice(host: Host) -> None:
    host.service.create("fixed", ipam=[{"Subnet": "10.77.0.0/24"}])
    one = host.start(
        "f1", "fixed", endpoints={"fixed": {"IPAMConfig": {"IPv4Address": "10.77.0.9"}}}
    )
    assert host.address(one, "fixed") == "10.77.0.9"
    with pytest.raises(Conflict, match=re.escape("10.77.0.9")):
        host.start("f2", "fixed", endpoints={"fixed": {"IPAMConfig": {"IPv4Address": "10.77.0.9"}}})
    host.service.close()
    host.service = host.open()  # a restarted porterd leases from the same records
    assert host.address(host.start("f3", "fixed"), "fixed") == "10.77.0.2"


def test_overlapping_subnets_are_refused(host: Host) -> None:
    host.service.create("first", ipam=[{"Subnet": "10.50.0.0/16"}])
    with pytest.raises(Conflict, match="overlaps"):
        host.service.create("second", ipam=[{"Subnet": "10.50.1.0/24"}])
    assert host.service.find("second") is None


def test_a_gateway_outside_its_subnet_is_refused(host: Host) -> None:
    with pytest.raises(InvalidParameter, match="gateway"):
        host.service.create("bad", ipam=[{"Subnet": "10.51.0.0/24", "Gateway": "10.52.0.1"}])


def test_a_network_in_use_is_not_removed(host: Host) -> None:
    host.service.create("busy")
    host.start("user", "busy")
    with pytest.raises(Forbidden, match="active endpoints"):
        host.service.remove("busy")


def test_an_unknown_network_is_not_found(host: Host) -> None:
    with pytest.raises(NotFound):
        host.start("lost", "nowhere")


def test_a_running_container_is_connected_and_disconnected(host: Host) -> None:
    host.service.create("late")
    peer = host.start("peer", "late")
    container = host.start("mover")
    host.service.connect("late", container)
    assert "eth1" in links_in(host.ns(container))
    assert reaches(host.ns(container), host.address(peer, "late"))
    host.service.disconnect("late", container.id)
    assert "eth1" not in links_in(host.ns(container))


def default_route(netns: Path) -> tuple[str, str]:
    [route] = json.loads(run_in(netns, "ip", "-j", "route", "show", "default").stdout)
    return route["gateway"], route["dev"]


def test_disconnecting_the_network_of_the_default_route_moves_it_to_the_next(
    host: Host,
) -> None:
    host.service.create("next", ipam=[{"Subnet": "10.97.7.0/24"}])
    container = host.start("rerouted")
    host.service.connect("next", container)
    assert default_route(host.ns(container)) == ("10.99.0.1", "eth0")
    host.service.disconnect("bridge", container.id)
    assert default_route(host.ns(container)) == ("10.97.7.1", "eth1")


def bridge_addresses(host: Host) -> list[str]:
    [bridge] = json.loads(run_in(host.netns, "ip", "-j", "addr", "show", "porter0").stdout)
    return [f"{a['local']}/{a['prefixlen']}" for a in bridge["addr_info"] if a["scope"] == "global"]


def test_a_new_bip_readdresses_the_default_bridge_and_its_containers(host: Host) -> None:
    container = host.start("readdressed")
    host.service.stop(container.id)
    host.service.close()
    host.service = host.open(bip="10.97.5.1/24")
    assert host.service.get("bridge").ipv4 == {"Subnet": "10.97.5.0/24", "Gateway": "10.97.5.1"}
    assert bridge_addresses(host) == ["10.97.5.1/24"]
    assert host.address(container) == "10.97.5.2"
    host.service.prepare(container)
    assert reaches(host.ns(container), "10.97.5.1")


def test_a_new_bip_readdresses_a_running_container_at_recovery(host: Host) -> None:
    container = host.start("running")
    host.service.close()
    host.service = host.open(bip="10.97.8.1/24")
    host.service.recover({container.id: True})
    [eth0] = json.loads(run_in(host.ns(container), "ip", "-j", "-4", "addr", "show", "eth0").stdout)
    assert [a["local"] for a in eth0["addr_info"]] == ["10.97.8.2"]
    assert default_route(host.ns(container)) == ("10.97.8.1", "eth0")
    assert reaches(host.ns(container), "10.97.8.1")


def test_a_bip_overlapping_a_user_network_is_refused(host: Host) -> None:
    host.service.create("taken", ipam=[{"Subnet": "10.97.6.0/24"}])
    host.service.close()
    with pytest.raises(Conflict, match=r"10\.97\.6\.0/24"):
        host.open(bip="10.97.6.1/24")
    host.service = host.open()
    assert host.service.get("bridge").ipv4["Subnet"] == "10.99.0.0/24"


def test_dual_stack_gives_an_ipv6_address_and_aaaa_answers(host: Host) -> None:
    host.service.create(
        "six", enable_ipv6=True, ipam=[{"Subnet": "10.66.0.0/24"}, {"Subnet": "fd66::/64"}]
    )
    one, two = host.start("s1", "six"), host.start("s2", "six")
    endpoint = host.service.store.endpoints(container_id=two.id)[0]
    assert endpoint.ipv6 == "fd66::3/64"
    time.sleep(2)  # duplicate address detection
    assert (
        run_in(host.ns(one), "busybox", "ping", "-6", "-c", "1", "-W", "2", "fd66::3").returncode
        == 0
    )
    assert "fd66::3" in host.service.dns_answer(one.id, "s2")


def test_recovery_remakes_bridges_and_removes_what_no_container_owns(host: Host) -> None:
    host.service.create("kept")
    kept = host.start("kept1", "kept")
    orphan = host.start("orphan1", "kept")
    bridge = host.service.get("kept").bridge
    host.service.close()
    subprocess.run(["ip", "link", "del", bridge], check=True)
    subprocess.run(["nft", "delete", "table", "inet", "porter"], check=True)
    host.service = host.open()
    host.service.recover({kept.id: True})
    assert bridge in links_in(host.netns)
    assert "table inet porter" in nft_ruleset(host.netns)
    assert not host.ns(orphan).exists()
    assert {lease["container_id"] for lease in host.service.store.leases()} == {kept.id}
    assert reaches(host.ns(kept), host.service.get("kept").ipv4["Gateway"])


def test_recovery_takes_down_the_namespace_of_a_container_that_stopped(host: Host) -> None:
    stopped = host.start("stopped1", ports={"80/tcp": [{"HostPort": "18083"}]})
    host.service.close()
    host.service = host.open()
    host.service.recover({stopped.id: False})
    assert not host.ns(stopped).exists()
    assert "18083" not in nft_ruleset(host.netns)
    assert host.address(stopped) == "10.99.0.2"  # kept until the container is removed
