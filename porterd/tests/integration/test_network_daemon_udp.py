"""Published UDP ports under a real porterd (in a network namespace of the test's own), asked
for through the Engine API as `docker run -p 15353:53/udp` asks: reached from porterd's
namespace over 127.0.0.1, its own address and [::1], and shown by inspect. The container's
busybox has no UDP server, so a small echo server runs in the container's network namespace
(test_network_udp has it, and the same paths from other containers and from outside)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, needs_containers
from porterd_process import PorterdProcess

from porterd.tests.integration.test_network_udp import ask, echo_server
from porterd.tests.network_support import unavailable

pytestmark = [
    pytest.mark.integration,
    needs_containers,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]
PORT = 15353


@pytest.fixture
def echo(client: docker.DockerClient) -> Iterator[str]:
    """A container publishing 53/udp on PORT, a UDP echo server in its network namespace;
    its id."""
    container = client.containers.run(IMAGE, ["sleep", "600"], detach=True, ports={"53/udp": PORT})
    try:
        pid = client.api.inspect_container(container.id)["State"]["Pid"]
        with echo_server(Path(f"/proc/{pid}/ns/net")):
            yield container.id
    finally:
        container.remove(force=True)


def namespace(porterd: PorterdProcess) -> Path:
    return Path(f"/proc/{porterd.process.pid}/ns/net")


def test_a_published_udp_port_is_reached_over_loopback_and_the_namespaces_address(
    echo: str, porterd: PorterdProcess
) -> None:
    assert ask(namespace(porterd), "127.0.0.1", port=PORT) == "echo:ping"
    assert ask(namespace(porterd), "172.17.0.1", port=PORT) == "echo:ping"


def test_a_published_udp_port_is_reached_over_ipv6_loopback(
    echo: str, porterd: PorterdProcess
) -> None:
    assert ask(namespace(porterd), "::1", port=PORT) == "echo:ping"


def test_inspect_shows_the_published_udp_port(echo: str, client: docker.DockerClient) -> None:
    ports = client.api.inspect_container(echo)["NetworkSettings"]["Ports"]
    assert ports["53/udp"] == [{"HostIp": "0.0.0.0", "HostPort": str(PORT)}]
