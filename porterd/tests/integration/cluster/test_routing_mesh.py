"""The routing mesh on three real porterd nodes: a service's published port is open on every
node (one running none of its replicas too), from outside and from the node itself, and its
connections are spread evenly over the replicas of every node; a replica that dies leaves
the rotation; the port's rules go with the service."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ...network_support import entered, run_in
from ..containers_support import busybox_rootfs_tar
from .cluster_nodes import ClusterHosts, cluster_hosts, porter, real_cluster_marks, until

pytestmark = real_cluster_marks()
PUBLISHED = 8080
# Each replica answers with its container's hostname, so a test sees which one it reached.
SERVE_HOSTNAME = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("mesh"), rootfs) as hosts:
        yield hosts


def fetch(address: str, port: int = PUBLISHED) -> str | None:
    """The body an HTTP GET gets (in the calling thread's namespace), None if it failed."""
    try:
        with socket.create_connection((address, port), timeout=3) as connection:
            connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
    except OSError:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    return body.decode().strip() if head.split(b"\r\n")[0].endswith(b" 200 OK") else None


def replica_hosts(hosts: ClusterHosts) -> dict[str, str]:
    """Hostname of each running replica -> the node it runs on."""
    found = {}
    for node in hosts.nodes:
        client = node.client()
        try:
            for listed in client.api.containers(filters={"label": "com.docker.swarm.task.id"}):
                found[listed["Id"][:12]] = node.name
        finally:
            client.close()
    return found


def answers(netns: Path, address: str, count: int) -> list[str | None]:
    with entered(netns):
        return [fetch(address) for _ in range(count)]


@pytest.fixture
def web(hosts: ClusterHosts) -> Iterator[dict[str, str]]:
    """Two replicas over three nodes (so one node runs none), all answering through the mesh."""
    porter(hosts.nodes[0], "service", "create", "--name", "web", "--replicas", "2",
           "-p", f"{PUBLISHED}:80", "busybox", "sh", "-c", SERVE_HOSTNAME)  # fmt: skip

    def both_answer() -> bool:
        running = replica_hosts(hosts)
        if len(running) != 2:
            return False
        return all(set(answers(hosts.hub, node.address, 4)) == set(running) for node in hosts.nodes)

    until(both_answer, 120, "both replicas answering on every node")
    yield replica_hosts(hosts)
    porter(hosts.nodes[0], "service", "rm", "web")
    until(lambda: not replica_hosts(hosts), 60, "the service's removal")


def test_the_published_port_reaches_every_replica_from_every_node(
    hosts: ClusterHosts, web: dict[str, str]
) -> None:
    idle = [node for node in hosts.nodes if node.name not in web.values()]
    assert len(idle) == 1, "two replicas over three nodes leave one node without any"
    for node in hosts.nodes:
        assert set(answers(hosts.hub, node.address, 6)) == set(web), node.name


def test_connections_are_spread_evenly_over_the_replicas(
    hosts: ClusterHosts, web: dict[str, str]
) -> None:
    for node in hosts.nodes:
        counts = Counter(answers(hosts.hub, node.address, 10))
        assert sorted(counts.values()) == [5, 5], (node.name, counts)


def test_the_published_port_answers_from_the_node_itself(
    hosts: ClusterHosts, web: dict[str, str]
) -> None:
    for node in hosts.nodes:
        for address in ("127.0.0.1", node.address):
            assert set(answers(node.netns, address, 6)) == set(web), (node.name, address)


def test_a_replica_that_dies_leaves_the_rotation(hosts: ClusterHosts, web: dict[str, str]) -> None:
    victim, where = next(iter(web.items()))
    node = next(n for n in hosts.nodes if n.name == where)
    client = node.client()
    client.containers.get(victim).kill()
    client.close()

    # Within a round or two of the mesh no connection goes to it any more; its replacement
    # joins the rotation once it runs.
    def only_live_replicas_answer() -> bool:
        got = [answer for n in hosts.nodes for answer in answers(hosts.hub, n.address, 4)]
        return victim not in got and None not in got

    until(only_live_replicas_answer, 30, "the dead replica leaving the rotation")


def test_the_mesh_rules_go_with_the_service(hosts: ClusterHosts) -> None:
    porter(hosts.nodes[0], "service", "create", "--name", "gone", "-p", "8081:80",
           "busybox", "sh", "-c", SERVE_HOSTNAME)  # fmt: skip

    def rules() -> list[str]:
        return [run_in(node.netns, "nft", "list", "table", "inet", "porter").stdout
                for node in hosts.nodes]  # fmt: skip

    until(lambda: all("dport 8081" in ruleset for ruleset in rules()), 60, "the mesh rules")
    porter(hosts.nodes[0], "service", "rm", "gone")
    until(lambda: not any("dport 8081" in ruleset for ruleset in rules()), 30, "their removal")
