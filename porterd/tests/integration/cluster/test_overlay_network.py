"""An overlay network over three real porterd nodes (each in a network namespace of its own):
created once with the docker CLI, listed by every node, and carrying the traffic of a
service's tasks from node to node over VXLAN, its name answered by the embedded DNS."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import docker
import pytest
from porterd.cluster.etcd import EtcdClient

from ...network_support import entered, links_in, run_in
from ..containers_support import busybox_rootfs_tar
from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, Node, cluster_hosts, real_cluster_marks
from .overlay_support import exec_in, resolved

pytestmark = real_cluster_marks()
DOCKER = "/usr/bin/docker"
NETWORK = "ovtest"
SERVICE = "ovweb"
# Each task serves a page naming its own hostname, so a reply says which task answered.
HTTPD = "hostname > /tmp/index.html && exec httpd -f -p 80 -h /tmp"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("overlay"), rootfs) as hosts:
        yield hosts


def docker_cli(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    """The docker CLI's `docker -H NODE ARGS...`, which may fail."""
    assert node.porterd is not None
    return subprocess.run(
        [DOCKER, "-H", node.porterd.url, *args], capture_output=True, text=True, timeout=60
    )


def task_addresses(node: Node, service: str = SERVICE, network: str = NETWORK) -> dict[str, str]:
    """Container id -> its address on the overlay, of the node's running containers of the
    service's tasks."""
    client = node.client()
    try:
        found = {}
        label = f"com.docker.swarm.service.name={service}"
        for listed in client.api.containers(filters={"label": label}):
            try:
                inspected = client.api.inspect_container(listed["Id"])
            except docker.errors.NotFound:  # removed since it was listed
                continue
            networks = inspected["NetworkSettings"]["Networks"]
            if network in networks:
                found[listed["Id"]] = networks[network]["IPAddress"]
        return found
    finally:
        client.close()


def leases(hosts: ClusterHosts) -> list[str]:
    """The overlay address leases in etcd (read from the hub's namespace, where etcd runs)."""
    assert hosts.etcd is not None
    with entered(hosts.hub):
        etcd = EtcdClient(hosts.etcd.endpoints)
        return [kv.key for kv in etcd.prefix("/porter/overlay-leases/")]


def overlay_links(node: Node) -> set[str]:
    return {name for name in links_in(node.netns) if name.startswith(("ov-", "vx-"))}


@pytest.fixture(scope="module")
def network(hosts: ClusterHosts) -> Iterator[str]:
    created = docker_cli(hosts.nodes[0], "network", "create", "-d", "overlay", NETWORK)
    assert created.returncode == 0, created.stderr
    yield NETWORK
    docker_cli(hosts.nodes[0], "network", "rm", NETWORK)


@pytest.fixture(scope="module")
def web(hosts: ClusterHosts, network: str) -> Iterator[dict[str, tuple[Node, str]]]:
    """The service's three tasks, one per node: address -> (node, container id)."""
    porter(
        hosts.nodes[0], "service", "create", "--name", SERVICE, "--replicas", "3",
        "--network", network, "busybox", "sh", "-c", HTTPD,
    )  # fmt: skip

    def spread() -> bool:
        return all(len(task_addresses(n)) == 1 for n in hosts.nodes)

    until(spread, 120, "a task on each node")
    yield {
        address: (node, container)
        for node in hosts.nodes
        for container, address in task_addresses(node).items()
    }
    porter(hosts.nodes[0], "service", "rm", SERVICE)
    until(lambda: not any(task_addresses(n) for n in hosts.nodes), 60, "the tasks' removal")


def test_every_node_lists_the_overlay_network_in_swarm_scope(
    hosts: ClusterHosts, network: str
) -> None:
    for node in hosts.nodes:
        listed = docker_cli(node, "network", "ls", "--format", "{{json .}}").stdout
        rows = [json.loads(line) for line in listed.splitlines()]
        assert [(r["Driver"], r["Scope"]) for r in rows if r["Name"] == network] == [
            ("overlay", "swarm")
        ]


def test_tasks_on_different_nodes_reach_each_other(
    hosts: ClusterHosts, web: dict[str, tuple[Node, str]]
) -> None:
    (first, *others) = sorted(web, key=lambda a: web[a][0].name)
    node, container = web[first]
    for address in others:
        code, output = exec_in(node, container, "ping", "-c", "1", "-W", "5", address)
        assert code == 0, f"ping {address} from {node.name}: {output}"
        code, page = exec_in(node, container, "wget", "-q", "-O", "-", f"http://{address}/")
        assert code == 0, page
        assert page.strip() == web[address][1][:12]


def test_a_task_resolves_the_service_name_to_the_tasks_on_every_node(
    hosts: ClusterHosts, web: dict[str, tuple[Node, str]]
) -> None:
    node, container = next(iter(web.values()))
    for name in (SERVICE, f"tasks.{SERVICE}"):
        assert sorted(resolved(node, container, name)) == sorted(web)


def test_the_service_name_answers_each_task_first_in_turn(
    hosts: ClusterHosts, web: dict[str, tuple[Node, str]]
) -> None:
    node, container = next(iter(web.values()))
    firsts = set()
    for _ in range(30):
        firsts.add(resolved(node, container, SERVICE)[0])
        if len(firsts) == 3:
            break
    assert firsts == set(web)


def test_removing_the_network_while_a_service_uses_it_is_refused_in_one_line(
    hosts: ClusterHosts, web: dict[str, tuple[Node, str]]
) -> None:
    refused = attempt(hosts.nodes[1], "network", "rm", NETWORK)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        f"porter: Error response from daemon: network {NETWORK} is in use by service {SERVICE}"
    ]


def test_an_overlapping_subnet_is_refused_in_one_line(hosts: ClusterHosts, network: str) -> None:
    subnet = docker_cli(hosts.nodes[0], "network", "inspect", network, "-f",
                 "{{(index .IPAM.Config 0).Subnet}}").stdout.strip()  # fmt: skip
    refused = attempt(hosts.nodes[2], "network", "create", "-d", "overlay", "--subnet",
                  subnet, "ovclash")  # fmt: skip
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "overlaps" in refused.stderr


def service_on_new_overlay(hosts: ClusterHosts, network: str, service: str) -> tuple[str, set[str]]:
    """A new overlay and a service of three sleeping tasks on it, once every node has the
    overlay's devices: the network's id and its devices' names."""
    created = docker_cli(hosts.nodes[0], "network", "create", "-d", "overlay", network)
    assert created.returncode == 0, created.stderr
    ident = created.stdout.strip()
    devices = {f"ov-{ident[:12]}", f"vx-{ident[:12]}"}
    porter(
        hosts.nodes[1], "service", "create", "--name", service, "--replicas", "3",
        "--network", network, "busybox", "sleep", "3600",
    )  # fmt: skip
    until(lambda: all(overlay_links(n) >= devices for n in hosts.nodes), 120, "the devices")
    return ident, devices


def test_removing_service_and_network_leaves_no_device_or_lease_on_any_node(
    hosts: ClusterHosts,
) -> None:
    network_id, devices = service_on_new_overlay(hosts, "ovgone", "gone")
    assert len([key for key in leases(hosts) if network_id in key]) == 3
    porter(hosts.nodes[2], "service", "rm", "gone")
    until(lambda: not any(overlay_links(n) & devices for n in hosts.nodes), 60, "their removal")
    assert not [key for key in leases(hosts) if network_id in key]
    removed = attempt(hosts.nodes[2], "network", "rm", "ovgone")
    assert removed.returncode == 0, removed.stderr
    for node in hosts.nodes:
        assert "ovgone" not in docker_cli(node, "network", "ls").stdout


def test_containers_on_an_attachable_overlay_reach_each_other_by_name_across_nodes(
    hosts: ClusterHosts,
) -> None:
    made = docker_cli(hosts.nodes[0], "network", "create", "-d", "overlay", "--attachable", "ovat")
    assert made.returncode == 0, made.stderr
    started = []
    try:
        for node, name in ((hosts.nodes[1], "ovserver"), (hosts.nodes[2], "ovclient")):
            result = docker_cli(node, "run", "-d", "--name", name, "--network", "ovat",
                         "busybox", "sh", "-c", HTTPD)  # fmt: skip
            assert result.returncode == 0, result.stderr
            started.append(result.stdout.strip())
        code, page = exec_in(
            hosts.nodes[2], "ovclient", "wget", "-q", "-O", "-", "http://ovserver/"
        )
    finally:
        for node, name in ((hosts.nodes[1], "ovserver"), (hosts.nodes[2], "ovclient")):
            docker_cli(node, "rm", "-f", name)
        docker_cli(hosts.nodes[0], "network", "rm", "ovat")
    assert (code, page.strip()) == (0, started[0][:12])


def test_a_container_joining_an_overlay_not_attachable_is_refused_in_one_line(
    hosts: ClusterHosts, network: str
) -> None:
    refused = attempt(hosts.nodes[1], "create", "--network", network, "busybox", "true")
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        f"porter: Error response from daemon: could not attach to network {network}: it is not"
        " manually attachable (create it with --attachable)"
    ]


def network_id(node: Node, name: str) -> str:
    return docker_cli(node, "network", "inspect", name, "-f", "{{.Id}}").stdout.strip()


def flood_peers(node: Node, network: str) -> set[str]:
    """The other nodes the VXLAN device of `network` on `node` floods to."""
    device = f"vx-{network_id(node, network)[:12]}"
    shown = run_in(node.netns, "bridge", "-j", "fdb", "show", "dev", device).stdout
    return {e["dst"] for e in json.loads(shown or "[]") if e["mac"] == "00:00:00:00:00:00"}


def restart(hosts: ClusterHosts, node: Node) -> None:
    assert hosts.etcd is not None
    hosts.start(node, ",".join(hosts.etcd.endpoints))


def test_a_node_back_after_its_service_went_removes_the_devices_and_leases_left(
    hosts: ClusterHosts,
) -> None:
    ident, devices = service_on_new_overlay(hosts, "ovback", "back")
    victim = hosts.nodes[2]
    victim.kill()
    porter(hosts.nodes[0], "service", "rm", "back")
    until(lambda: not any(overlay_links(n) & devices for n in hosts.nodes[:2]), 60, "removal")
    assert overlay_links(victim) >= devices
    assert len([key for key in leases(hosts) if ident in key]) == 1
    restart(hosts, victim)
    until(lambda: not overlay_links(victim) & devices, 60, "the removal of what was left")
    assert not [key for key in leases(hosts) if ident in key]
    removed = attempt(hosts.nodes[0], "network", "rm", "ovback")
    assert removed.returncode == 0, removed.stderr


def test_the_vxlan_peers_follow_the_nodes_that_leave_and_come_back(
    hosts: ClusterHosts, network: str
) -> None:
    # The peers are the other live nodes with a task on the network. A global service keeps
    # one there on each node, and places a new one on a node that comes back (a replicated
    # task of a node that was down has moved to another node for good, and the container of
    # the old task holds its address only until the node's agent has stopped it).
    porter(
        hosts.nodes[0], "service", "create", "--name", "ovpeers", "--mode", "global",
        "--network", network, "busybox", "sleep", "3600",
    )  # fmt: skip
    first, _, leaving = hosts.nodes
    others = {n.address for n in hosts.nodes if n is not first}
    try:
        until(lambda: all(task_addresses(n, "ovpeers") for n in hosts.nodes), 60, "its tasks")
        until(lambda: flood_peers(first, network) == others, 30, "a peer entry per other node")
        old = set(task_addresses(leaving, "ovpeers"))
        leaving.kill()
        until(lambda: flood_peers(first, network) == others - {leaving.address}, 60, "removal")
        restart(hosts, leaving)
        until(lambda: set(task_addresses(leaving, "ovpeers")) - old, 60, "its new task")
        until(lambda: not old & set(task_addresses(leaving, "ovpeers")), 60, "the old one's end")
        until(lambda: flood_peers(first, network) == others, 30, "its entry again")
    finally:
        porter(hosts.nodes[0], "service", "rm", "ovpeers")
        until(lambda: not any(task_addresses(n, "ovpeers") for n in hosts.nodes), 60, "removal")


def test_a_vxlan_device_floods_only_to_the_nodes_with_a_task_on_its_network(
    hosts: ClusterHosts,
) -> None:
    made = docker_cli(hosts.nodes[0], "network", "create", "-d", "overlay", "ovfdb")
    assert made.returncode == 0, made.stderr
    pinned = {node.name: f"fdb{node.name}" for node in hosts.nodes}
    first, second, third = hosts.nodes

    def place(node: Node) -> None:
        porter(
            first, "service", "create", "--name", pinned[node.name], "--network", "ovfdb",
            "--constraint", f"node.hostname=={node.name}", "busybox", "sleep", "3600",
        )  # fmt: skip
        until(lambda: task_addresses(node, pinned[node.name], "ovfdb"), 60, f"{node.name}'s task")

    try:
        place(first)
        place(second)
        # The third node has no task on the network: no entry floods to it.
        until(lambda: flood_peers(first, "ovfdb") == {second.address}, 30, "the second's entry")
        assert flood_peers(second, "ovfdb") == {first.address}
        place(third)
        everyone = {node.address for node in hosts.nodes}
        for node in hosts.nodes:
            until(lambda n=node: flood_peers(n, "ovfdb") == everyone - {n.address}, 30,
                  f"the entries on {node.name}")  # fmt: skip
    finally:
        for name in pinned.values():
            attempt(first, "service", "rm", name)
        for node in hosts.nodes:
            until(lambda n=node: not task_addresses(n, pinned[n.name], "ovfdb"), 60, "removal")
        docker_cli(first, "network", "rm", "ovfdb")


def test_the_docker_cli_creates_a_service_on_the_overlay(hosts: ClusterHosts, network: str) -> None:
    created = docker_cli(hosts.nodes[0], "service", "create", "--detach", "--name", "ovdocker",
                  "--network", network, "busybox", "sleep", "3600")  # fmt: skip
    assert created.returncode == 0, created.stderr
    try:
        inspected = docker_cli(hosts.nodes[0], "service", "inspect", "ovdocker").stdout
        targets = json.loads(inspected)[0]["Spec"]["TaskTemplate"]["Networks"]
        assert [t["Target"] for t in targets] in ([network], [network_id(hosts.nodes[0], network)])
        until(lambda: any(task_addresses(n, "ovdocker") for n in hosts.nodes), 60, "its task")
    finally:
        docker_cli(hosts.nodes[0], "service", "rm", "ovdocker")


def test_a_published_port_of_a_service_on_an_overlay_reaches_its_tasks(
    hosts: ClusterHosts, network: str
) -> None:
    porter(
        hosts.nodes[0], "service", "create", "--name", "ovpub", "--replicas", "2",
        "--network", network, "-p", "8089:80", "busybox", "sh", "-c", HTTPD,
    )  # fmt: skip
    try:
        until(lambda: sum(len(task_addresses(n, "ovpub")) for n in hosts.nodes) == 2, 90, "tasks")
        for node in hosts.nodes:
            url = f"http://{node.address}:8089/"

            def served(node: Node = node, url: str = url) -> bool:
                return run_in(node.netns, "curl", "-sf", "-m", "5", url).returncode == 0

            until(served, 30, f"the port on {node.name}")
    finally:
        porter(hosts.nodes[0], "service", "rm", "ovpub")
