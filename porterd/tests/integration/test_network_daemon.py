"""Networking under a real porterd (in a network namespace of the test's own), driven by
docker-py and the Debian docker CLI: busybox containers reaching each other by name and
alias on user networks, isolation between networks, published ports reached from porterd's
namespace over 127.0.0.1 and over its own address, nothing left behind by a removal, and
addresses, DNS and ports still working after porterd is killed and started again."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import (
    IMAGE,
    clean_up,
    client_for,
    docker_cli,
    import_image,
    needs_containers,
    needs_docker_cli,
    remove_all_containers,
)
from porterd_process import PorterdProcess, porterd_argv, running_porterd

from porterd.tests.network_support import make_netns, remove_netns, unavailable

pytestmark = [
    pytest.mark.integration,
    needs_containers,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]
PAGE = "hello from httpd"
SERVE = f"mkdir -p /www && echo '{PAGE}' > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture
def client(client: docker.DockerClient, porterd: PorterdProcess) -> Iterator[docker.DockerClient]:
    """The shared client, and after the test no container, network or rule left behind."""
    yield client
    for container in client.containers.list(all=True):
        container.remove(force=True)
    client.networks.prune()
    assert_nothing_left(porterd)


def assert_nothing_left(porterd: PorterdProcess) -> None:
    """With every container and user network removed: no veth, no user bridge, no namespace,
    no published port rule, no userland proxy and no lease is left."""
    links = in_namespace(porterd, "ip", "-o", "link", "show")
    assert "veth" not in links
    assert "br-" not in links
    assert " dnat ip" not in in_namespace(porterd, "nft", "list", "table", "inet", "porter")
    netns = porterd.workdir / "exec" / "netns"
    assert not netns.exists() or list(netns.iterdir()) == []
    proxies = porterd.workdir / "exec" / "proxies"
    assert not proxies.exists() or list(proxies.iterdir()) == []
    with contextlib.closing(sqlite3.connect(porterd.workdir / "data" / "porterd.db")) as db:
        assert db.execute("SELECT count(*) FROM leases").fetchone() == (0,)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def serve(client: docker.DockerClient, **options: object) -> docker.models.containers.Container:
    return client.containers.run(IMAGE, ["sh", "-c", SERVE], detach=True, **options)


def run(client: docker.DockerClient, script: str, **options: object) -> str:
    """The output of `sh -c script` in a busybox container removed afterwards."""
    container = client.containers.run(IMAGE, ["sh", "-c", script], detach=True, **options)
    try:
        container.wait(timeout=60)
        return container.logs().decode()
    finally:
        container.remove(force=True)


def fetch_script(host: str, port: int = 80, tries: int = 50) -> str:
    """busybox nc fetching / (retried while the server comes up); then `fetched: 1` or 0."""
    request = r"printf 'GET / HTTP/1.0\r\n\r\n'"
    return (
        f"for i in $(seq {tries}); do {request} | nc -w 2 {host} {port} && echo fetched: 1"
        " && exit 0; sleep 0.1; done; echo fetched: 0"
    )


def in_namespace(porterd: PorterdProcess, *argv: str) -> str:
    result = subprocess.run(
        porterd.in_namespace(list(argv)), capture_output=True, text=True, timeout=60, check=False
    )
    return result.stdout


def fetch_from_namespace(porterd: PorterdProcess, url: str) -> str:
    for _ in range(50):
        page = in_namespace(porterd, "curl", "-s", "-m", "2", url)
        if page:
            return page
        time.sleep(0.1)
    return ""


def test_a_container_on_the_default_network_has_an_address_and_a_way_out(
    client: docker.DockerClient,
) -> None:
    container = serve(client)
    settings = client.api.inspect_container(container.id)["NetworkSettings"]
    address = settings["Networks"]["bridge"]["IPAddress"]
    assert address.startswith("172.17.0.")
    assert settings["Gateway"] == "172.17.0.1"
    assert PAGE in run(client, fetch_script(address))


def test_containers_reach_each_other_by_name_and_alias(client: docker.DockerClient) -> None:
    network = client.networks.create(unique("front"))
    name = unique("web")
    web = serve(client, name=name, network=network.name)
    client.api.disconnect_container_from_network(web.id, network.id)
    client.api.connect_container_to_network(web.id, network.id, aliases=["frontend"])
    for host in (name, "frontend"):
        assert PAGE in run(client, fetch_script(host), network=network.name)


def test_nslookup_answers_with_the_containers_address(client: docker.DockerClient) -> None:
    network = client.networks.create(unique("dns"))
    name = unique("named")
    container = serve(client, name=name, network=network.name)
    address = client.api.inspect_container(container.id)["NetworkSettings"]["Networks"][
        network.name
    ]["IPAddress"]
    assert address in run(client, f"nslookup {name}", network=network.name)


def test_containers_on_different_networks_cannot_reach_each_other(
    client: docker.DockerClient,
) -> None:
    red, blue = client.networks.create(unique("red")), client.networks.create(unique("blue"))
    web = serve(client, network=red.name)
    address = client.api.inspect_container(web.id)["NetworkSettings"]["Networks"][red.name][
        "IPAddress"
    ]
    assert PAGE in run(client, fetch_script(address), network=red.name)
    blocked = run(client, fetch_script(address, tries=3), network=blue.name)
    assert "fetched: 0" in blocked


def test_a_dual_stack_network_gives_ipv6_addresses_reachable_by_name(
    client: docker.DockerClient,
) -> None:
    ipam = docker.types.IPAMConfig(
        pool_configs=[
            docker.types.IPAMPool(subnet="10.125.0.0/24"),
            docker.types.IPAMPool(subnet="fd12:3456::/64"),
        ]
    )
    network = client.networks.create(unique("six"), enable_ipv6=True, ipam=ipam)
    name = unique("v6web")
    web = serve(client, name=name, network=network.name)
    settings = client.api.inspect_container(web.id)["NetworkSettings"]["Networks"][network.name]
    assert settings["GlobalIPv6Address"] == "fd12:3456::2"
    assert settings["IPv6Gateway"] == "fd12:3456::1"
    script = f"sleep 2; nslookup -type=AAAA {name} 127.0.0.11; ping -6 -c 1 -W 2 {name}"
    output = run(client, script, network=network.name)
    assert "fd12:3456::2" in output
    assert "1 packets received" in output, output


def test_a_published_port_is_reached_over_loopback_and_the_namespaces_address(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    serve(client, ports={"80/tcp": 18090})
    assert PAGE in fetch_from_namespace(porterd, "http://127.0.0.1:18090/")
    assert PAGE in fetch_from_namespace(porterd, "http://172.17.0.1:18090/")


def test_a_port_published_on_ipv6_loopback_reaches_a_container_with_only_ipv4(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    serve(client, ports={"80/tcp": ("::1", 18097)})
    assert PAGE in fetch_from_namespace(porterd, "http://[::1]:18097/")


def test_a_port_published_on_127_0_0_1_is_reached_there(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    serve(client, ports={"80/tcp": ("127.0.0.1", 18098)})
    assert PAGE in fetch_from_namespace(porterd, "http://127.0.0.1:18098/")


def test_a_published_port_is_reached_from_another_container(client: docker.DockerClient) -> None:
    serve(client, ports={"80/tcp": 18091})
    assert PAGE in run(client, fetch_script("172.17.0.1", 18091))


def test_a_host_port_already_published_is_refused(client: docker.DockerClient) -> None:
    serve(client, ports={"80/tcp": 18092})
    with pytest.raises(docker.errors.APIError, match="18092"):
        serve(client, ports={"80/tcp": 18092})


def test_an_ephemeral_port_is_shown_by_inspect(client: docker.DockerClient) -> None:
    container = serve(client, ports={"80/tcp": None})
    ports = client.api.inspect_container(container.id)["NetworkSettings"]["Ports"]
    assert int(ports["80/tcp"][0]["HostPort"]) > 0


def test_publish_all_puts_each_exposed_port_on_a_host_port(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    created = client.api.create_container(
        IMAGE, ["sh", "-c", SERVE], ports=[80],
        host_config=client.api.create_host_config(publish_all_ports=True),
    )  # fmt: skip
    client.api.start(created["Id"])
    ports = client.api.inspect_container(created["Id"])["NetworkSettings"]["Ports"]
    port = ports["80/tcp"][0]["HostPort"]
    assert PAGE in fetch_from_namespace(porterd, f"http://127.0.0.1:{port}/")


@needs_docker_cli
def test_docker_ps_and_port_show_the_published_port(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    container = serve(client, ports={"80/tcp": 18096})
    assert docker_cli(porterd, "port", container.id).stdout.splitlines() == [
        "80/tcp -> 0.0.0.0:18096"
    ]
    listed = docker_cli(porterd, "ps", "--format", "{{.Ports}}", "-f", f"id={container.id}")
    assert listed.stdout.strip() == "0.0.0.0:18096->80/tcp"


def test_removing_containers_and_networks_leaves_nothing_behind(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    network = client.networks.create(unique("temp"))
    container = serve(client, network=network.name, ports={"80/tcp": 18093})
    container.remove(force=True)
    network.remove()
    assert_nothing_left(porterd)


def test_network_none_has_only_loopback(client: docker.DockerClient) -> None:
    output = run(client, "ip -o link show", network_mode="none")
    assert "lo" in output
    assert "eth0" not in output


def test_a_container_joins_another_containers_network(client: docker.DockerClient) -> None:
    web = serve(client)
    assert PAGE in run(client, fetch_script("127.0.0.1"), network_mode=f"container:{web.id}")


@needs_docker_cli
def test_the_docker_cli_creates_lists_inspects_and_removes_a_network(
    porterd: PorterdProcess,
) -> None:
    name = unique("cli")
    created = docker_cli(porterd, "network", "create", "--subnet", "10.123.0.0/24", name)
    assert created.returncode == 0, created.stderr
    assert name in docker_cli(porterd, "network", "ls").stdout
    subnet = docker_cli(
        porterd, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", name
    )
    assert subnet.stdout.strip() == "10.123.0.0/24"
    overlapping = docker_cli(porterd, "network", "create", "--subnet", "10.123.0.0/16", "x" + name)
    assert overlapping.returncode != 0
    assert "overlaps" in overlapping.stderr
    assert docker_cli(porterd, "network", "rm", name).returncode == 0


@needs_docker_cli
def test_docker_run_with_a_network_and_a_fixed_address(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    name = unique("fixed")
    docker_cli(porterd, "network", "create", "--subnet", "10.124.0.0/24", name)
    started = docker_cli(
        porterd, "run", "-d", "--network", name, "--ip", "10.124.0.50", IMAGE, "sh", "-c", SERVE
    )
    assert started.returncode == 0, started.stderr
    assert address_on(client, started.stdout.strip(), name) == "10.124.0.50"
    assert PAGE in run(client, fetch_script("10.124.0.50"), network=name)


@contextlib.contextmanager
def porterd_in(netns: Path, workdir: Path) -> Iterator[PorterdProcess]:
    """porterd started inside the namespace bound at `netns` (so a second one, after the
    first was killed, finds the same bridges and rules)."""
    with open(workdir / "porterd.log", "ab") as log:
        process = subprocess.Popen(
            ["nsenter", f"--net={netns}", *porterd_argv(workdir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    porterd = PorterdProcess(workdir, process)
    try:
        porterd.wait_until_serving()
        yield porterd
    finally:
        porterd.stop()


def address_on(client: docker.DockerClient, container_id: str, network: str) -> str:
    networks = client.api.inspect_container(container_id)["NetworkSettings"]["Networks"]
    return networks[network]["IPAddress"]


def test_addresses_dns_and_ports_survive_porterd_being_killed(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    workdir = tmp_path / "crash"
    workdir.mkdir()
    netns = make_netns(tmp_path / "crash.ns")
    try:
        with porterd_in(netns, workdir) as first:
            import_image(first, busybox_rootfs)
            client = client_for(first)
            before = {}
            for network in ("crash1", "crash2", "crash3"):
                client.networks.create(network)
                container = serve(client, name=f"web-{network}", network=network)
                before[network] = (container.id, address_on(client, container.id, network))
            serve(client, name="published", ports={"80/tcp": 18095})
            client.close()
            first.process.kill()
            first.process.wait()
        with porterd_in(netns, workdir) as second:
            client = client_for(second)
            try:
                for network, (container_id, address) in before.items():
                    assert address_on(client, container_id, network) == address
                    output = run(client, fetch_script(f"web-{network}"), network=network)
                    assert PAGE in output, output
                    fresh = client.containers.create(IMAGE, ["true"], network=network)
                    assert address_on(client, fresh.id, network) != address
                assert PAGE in fetch_from_namespace(second, "http://127.0.0.1:18095/")
                assert PAGE in fetch_from_namespace(second, "http://[::1]:18095/")
            finally:
                remove_all_containers(second)
                client.networks.prune()
                client.close()
    finally:
        clean_up(workdir)
        remove_netns(netns)


def test_bip_and_icc_flags_configure_the_default_bridge(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    flags = ("--bip", "10.201.0.1/24", "--icc=false")
    with running_porterd(tmp_path / "flags", *flags) as porterd:
        try:
            import_image(porterd, busybox_rootfs)
            client = client_for(porterd)
            bridge = client.networks.get("bridge").attrs
            assert bridge["IPAM"]["Config"] == [
                {"Subnet": "10.201.0.0/24", "Gateway": "10.201.0.1"}
            ]
            assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "false"
            web = serve(client)
            address = address_on(client, web.id, "bridge")
            assert "fetched: 0" in run(client, fetch_script(address, tries=3))
            client.close()
        finally:
            remove_all_containers(porterd)
    clean_up(tmp_path / "flags")


def test_a_malformed_address_pool_stops_porterd_with_one_line(tmp_path: Path) -> None:
    from porterd_process import PORTERD

    result = subprocess.run(
        ["unshare", "--net", str(PORTERD),
         "--data-root", str(tmp_path / "d"), "--exec-root", str(tmp_path / "e"),
         "-H", f"unix://{tmp_path / 'sock'}", "--default-address-pool", "base=10.0.0.0/16,size=8"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "porterd: invalid default address pool 'base=10.0.0.0/16,size=8': size 8"
    ]


def porter(porterd: PorterdProcess, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(Path(sys.executable).parent / "porter"), "-H", porterd.url, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_porter_creates_lists_inspects_connects_and_removes_a_network(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    name = unique("porter")
    created = porter(
        porterd, "network", "create", "--subnet", "10.126.0.0/24", "--gateway", "10.126.0.254",
        "--label", "tier=back", name,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = porter(porterd, "network", "ls", "--format", "{{.Name}} {{.Driver}}")
    assert f"{name} bridge" in listed.stdout.splitlines()
    ipam = porter(porterd, "network", "inspect", "-f", "{{.IPAM}}", name)
    assert "Gateway:10.126.0.254 Subnet:10.126.0.0/24" in ipam.stdout
    web = serve(client)
    joined = porter(
        porterd, "network", "connect", "--alias", "api", "--ip", "10.126.0.7", name, web.id
    )
    assert joined.returncode == 0, joined.stderr
    assert address_on(client, web.id, name) == "10.126.0.7"
    assert PAGE in run(client, fetch_script("api"), network=name)
    assert porter(porterd, "network", "disconnect", name, web.id).returncode == 0
    removed = porter(porterd, "network", "rm", name)
    assert (removed.returncode, removed.stdout.strip()) == (0, name)


def test_porter_network_errors_are_one_line(porterd: PorterdProcess) -> None:
    result = porter(porterd, "network", "rm", "no-such-network")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: network no-such-network not found"
    ]


def test_porter_run_takes_a_network_alias_and_an_address(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    name = unique("runnet")
    client.networks.create(name, ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet="10.127.0.0/24")]))  # fmt: skip
    started = porter(
        porterd, "run", "-d", "--network", name, "--network-alias", "db", "--ip", "10.127.0.9",
        IMAGE, "sh", "-c", SERVE,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert address_on(client, started.stdout.strip(), name) == "10.127.0.9"
    assert PAGE in run(client, fetch_script("db"), network=name)


def test_dns_flags_shape_resolv_conf_on_the_default_and_a_user_network(
    client: docker.DockerClient,
) -> None:
    options = {"dns": ["192.0.2.9"], "dns_search": ["example.test"]}
    default = run(client, "cat /etc/resolv.conf", **options)
    assert default.splitlines()[:2] == ["nameserver 192.0.2.9", "search example.test"]
    network = client.networks.create(unique("dnsflags"))
    user = run(client, "cat /etc/resolv.conf", network=network.name, **options)
    assert user.splitlines()[0] == "nameserver 127.0.0.11"
    assert "# ExtServers: [192.0.2.9]" in user


def test_a_created_container_connected_before_start_is_on_both_networks(
    client: docker.DockerClient,
) -> None:
    extra = client.networks.create(unique("extra"))
    name = unique("late")
    container = client.containers.create(IMAGE, ["sh", "-c", SERVE], name=name)
    extra.connect(container, aliases=["second"])
    container.start()
    networks = client.api.inspect_container(container.id)["NetworkSettings"]["Networks"]
    assert set(networks) == {"bridge", extra.name}
    assert PAGE in run(client, fetch_script("second"), network=extra.name)
    assert PAGE in run(client, fetch_script(networks["bridge"]["IPAddress"]))


def test_network_events_are_published(client: docker.DockerClient) -> None:
    since = int(time.time()) - 1
    network = client.networks.create(unique("events"))
    container = client.containers.create(IMAGE, ["true"])
    network.connect(container)
    network.disconnect(container)
    network.remove()
    events = client.events(
        since=since, until=int(time.time()) + 1, decode=True, filters={"type": "network"}
    )
    actions = [event["Action"] for event in events if event["Actor"]["ID"] == network.id]
    assert actions == ["create", "connect", "disconnect", "destroy"]
