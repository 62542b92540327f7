"""Published UDP ports (`-p 5353:53/udp`) against the real kernel, in a network namespace the
test makes (as test_network_library): a UDP echo server in a container, reached from outside
the host, from another container (hairpin) and from the host itself over 127.0.0.1, [::1] and
its own address, as docker's NAT rules and docker-proxy serve them. (The host's busybox nc has
no -u, so the echo server and its clients are small Python programs run in the namespaces.)"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.network import ContainerRef

from porterd.tests.integration.test_network_library import outside_peer
from porterd.tests.network_support import Host, network_host, run_in, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

ECHO = """
import socket, sys
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("0.0.0.0", 53))
print("ready", flush=True)
while True:
    data, peer = server.recvfrom(65535)
    server.sendto(b"echo:" + data, peer)
"""

ASK = """
import socket, sys
host, port, source, texts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
clients = [socket.socket(family, socket.SOCK_DGRAM) for _ in texts]
for number, client in enumerate(clients):
    client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    client.bind(("::" if ":" in host else "0.0.0.0", source + number if source else 0))
for _ in range(20):
    try:
        for client, text in zip(clients, texts):
            client.settimeout(0.3)
            client.sendto(text.encode(), (host, port))
        print(" ".join(client.recvfrom(65535)[0].decode() for client in clients))
        break
    except OSError:
        continue
"""


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        yield made


@pytest.fixture
def echo(host: Host) -> Iterator[ContainerRef]:
    """A container answering UDP datagrams on its port 53, published on the host's 5353."""
    container = host.start("udp-echo", ports={"53/udp": [{"HostPort": "5353"}]})
    with echo_server(host.ns(container)):
        yield container


@contextlib.contextmanager
def echo_server(netns: Path) -> Iterator[None]:
    """The UDP echo server on port 53 in `netns`, for the block."""
    server = subprocess.Popen(
        ["nsenter", f"--net={netns}", sys.executable, "-c", ECHO], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        yield
    finally:
        server.kill()
        server.wait()


def ask(netns: Path, address: str, *texts: str, port: int = 5353, source: int = 0) -> str:
    """The answers to datagrams sent from `netns` to `port`, one from each of as many
    sockets (from port `source` on, if given), all sent before any answer is read (retried
    while none comes)."""
    texts = texts or ("ping",)
    argv = (sys.executable, "-c", ASK, address, str(port), str(source), *texts)
    return run_in(netns, *argv).stdout.strip()


def test_a_published_udp_port_answers_on_loopback(host: Host, echo: ContainerRef) -> None:
    assert ask(host.netns, "127.0.0.1") == "echo:ping"


def test_a_published_udp_port_answers_on_the_hosts_own_address(
    host: Host, echo: ContainerRef
) -> None:
    subprocess.run(["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"], check=True)
    assert ask(host.netns, "198.51.100.7") == "echo:ping"


def test_a_published_udp_port_answers_on_ipv6_loopback_through_the_userland_proxy(
    host: Host, echo: ContainerRef
) -> None:
    assert ask(host.netns, "::1") == "echo:ping"


def test_a_published_udp_port_answers_other_containers_through_the_host(
    host: Host, echo: ContainerRef
) -> None:
    subprocess.run(["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"], check=True)
    client = host.start("udp-hairpin")
    assert ask(host.ns(client), "198.51.100.7") == "echo:ping"


def test_a_published_udp_port_answers_other_containers_at_the_gateway(
    host: Host, echo: ContainerRef
) -> None:
    client = host.start("udp-gateway")
    assert ask(host.ns(client), "10.99.0.1") == "echo:ping"


def test_a_published_udp_port_answers_from_outside_the_host(host: Host, echo: ContainerRef) -> None:
    with outside_peer(host) as outside:
        assert ask(outside, "192.0.2.1") == "echo:ping"


def test_the_udp_proxy_answers_each_client_on_its_own(host: Host, echo: ContainerRef) -> None:
    assert ask(host.netns, "::1", "first", "second") == "echo:first echo:second"


def test_a_udp_flow_seen_before_the_port_was_published_reaches_the_container_after(
    host: Host,
) -> None:
    """The kernel keeps the flow's untranslated conntrack entry while datagrams keep coming;
    publishing the port drops it, as docker does, so the next datagram is translated."""
    assert ask(host.netns, "127.0.0.1", "early", source=45353) == ""  # nothing there yet
    container = host.start("udp-late", ports={"53/udp": [{"HostPort": "5353"}]})
    with echo_server(host.ns(container)):
        assert ask(host.netns, "127.0.0.1", "late", source=45353) == "echo:late"
