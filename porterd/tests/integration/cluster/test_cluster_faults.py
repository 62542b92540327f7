"""Issue 14's faults on three real porterd nodes over a 3-member etcd: a porterd killed with
kill -9 and started again adopts its running task containers; an etcd member killed loses
nothing; without quorum the tasks keep running and changes fail with one clear error, then
work again, and a task on an overlay still resolves its service's name and names outside the
cluster (the embedded DNS never waits on etcd); the whole cluster stopped and started brings
every service back, with no duplicate task. Each test removes its services; the module's nodes
are stopped at the end."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import docker
import pytest
from porterd.cluster.etcd import EtcdClient, NoQuorum

from ..containers_support import busybox_rootfs_tar
from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, Node, cluster_hosts, real_cluster_marks
from .overlay_support import host_nameserver, resolved, upstream_resolver

pytestmark = real_cluster_marks()
SERVICE_LABEL = "com.docker.swarm.service.name"
# How long a change may take to fail without quorum: the store client's timeout (5 s) for
# each request a change makes, and the CLI's start-up, with room for a loaded machine.
CHANGE_BOUND = 60


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("faults"), rootfs) as hosts:
        yield hosts


def is_live(node: Node) -> bool:
    return node.porterd is not None and node.porterd.process.poll() is None


def live(hosts: ClusterHosts) -> list[Node]:
    return [node for node in hosts.nodes if is_live(node)]


def containers(node: Node, service: str) -> dict[str, str]:
    """A live node's running containers of `service`: id -> name (SERVICE.SLOT.TASK)."""
    if not is_live(node):
        return {}
    client = node.client()
    try:
        listed = client.api.containers(filters={"label": f"{SERVICE_LABEL}={service}"})
        return {c["Id"]: c["Names"][0].lstrip("/") for c in listed}
    finally:
        client.close()


def everywhere(hosts: ClusterHosts, service: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in hosts.nodes:
        found.update(containers(node, service))
    return found


def at_desired_state(hosts: ClusterHosts, service: str, replicas: int) -> bool:
    """`replicas` containers of the service run, one per slot, and as many tasks should run."""
    names = list(everywhere(hosts, service).values())
    slots = {name.split(".")[1] for name in names}
    if len(names) != replicas or len(slots) != replicas:
        return False
    client = live(hosts)[0].client()
    try:
        tasks = client.api.tasks(filters={"service": service, "desired-state": "running"})
    finally:
        client.close()
    return len(tasks) == replicas and all(t["Status"]["State"] == "running" for t in tasks)


def create(hosts: ClusterHosts, service: str, replicas: int) -> None:
    porter(live(hosts)[0], "service", "create", "--name", service, "--replicas", str(replicas),
           "busybox", "sleep", "3600")  # fmt: skip
    until(lambda: at_desired_state(hosts, service, replicas), 120, f"{service}'s convergence")


@pytest.fixture
def services(hosts: ClusterHosts) -> Iterator[list[str]]:
    """The names of the services a test creates, removed afterwards with their containers."""
    names: list[str] = []
    yield names
    assert hosts.etcd is not None
    for member in hosts.etcd.members:
        if member.process is None:
            hosts.etcd.start(member)
    hosts.etcd.wait_healthy()
    for node in hosts.nodes:
        if not is_live(node):
            hosts.start(node, ",".join(hosts.etcd.endpoints))
    for name in names:
        attempt(live(hosts)[0], "service", "rm", name, timeout=CHANGE_BOUND)
    until(lambda: not any(everywhere(hosts, name) for name in names), 60, "the removal")


def test_a_porterd_killed_with_kill_9_rejoins_and_adopts_its_running_task_containers(
    hosts: ClusterHosts, services: list[str]
) -> None:
    services.append("adopt")
    create(hosts, "adopt", 6)
    before = everywhere(hosts, "adopt")
    victim = hosts.nodes[1]
    own = containers(victim, "adopt")
    client = victim.client()
    pids = [client.api.inspect_container(id)["State"]["Pid"] for id in own]
    client.close()
    victim.kill()
    for pid in pids:
        os.kill(pid, 0)  # its task containers go on without porterd
    assert hosts.etcd is not None
    hosts.start(victim, ",".join(hosts.etcd.endpoints))
    until(lambda: at_desired_state(hosts, "adopt", 6), 60, "the service at 6 again")
    assert containers(victim, "adopt") == own
    assert everywhere(hosts, "adopt") == before


def test_an_etcd_member_killed_loses_nothing_and_changes_still_work(
    hosts: ClusterHosts, services: list[str]
) -> None:
    services.extend(["steady", "more"])
    create(hosts, "steady", 3)
    before = everywhere(hosts, "steady")
    assert hosts.etcd is not None
    hosts.etcd.kill(hosts.etcd.members[0])  # the member every porterd asks first
    node = live(hosts)[0]
    rows = porter(node, "service", "ls", "--format", "{{.Name}} {{.Replicas}}")
    assert "steady 3/3" in rows.splitlines()
    assert everywhere(hosts, "steady") == before
    create(hosts, "more", 3)
    porter(node, "service", "scale", "steady=5")
    until(lambda: at_desired_state(hosts, "steady", 5), 120, "the scale to 5")


def lose_quorum(hosts: ClusterHosts) -> None:
    """Two of the three etcd members killed: the one left cannot commit or read alone."""
    assert hosts.etcd is not None
    for member in hosts.etcd.members[1:]:
        hosts.etcd.kill(member)


def regain_quorum(hosts: ClusterHosts) -> None:
    assert hosts.etcd is not None
    for member in hosts.etcd.members[1:]:
        hosts.etcd.start(member)
    hosts.etcd.wait_healthy()


def has_quorum(hosts: ClusterHosts) -> bool:
    """Whether a linearizable read succeeds (asked from the hub, where the test runs)."""
    assert hosts.etcd is not None
    try:
        EtcdClient(hosts.etcd.endpoints, timeout=3).get("/porter/leader")
    except NoQuorum:
        return False
    return True


def test_without_quorum_tasks_keep_running_and_changes_fail_clearly_until_it_is_back(
    hosts: ClusterHosts, services: list[str]
) -> None:
    services.extend(["quorum", "refused"])
    create(hosts, "quorum", 3)
    before = everywhere(hosts, "quorum")
    lose_quorum(hosts)
    node = live(hosts)[0]

    start = time.monotonic()
    change = ("service", "create", "--name", "refused", "busybox", "sleep", "9")
    refused = attempt(node, *change, timeout=CHANGE_BOUND)
    print(f"without quorum, after {time.monotonic() - start:.1f}s: {refused.stderr.strip()}")
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "quorum" in refused.stderr
    client = node.client()
    template = docker.types.TaskTemplate(docker.types.ContainerSpec("busybox", ["sleep", "9"]))
    try:
        with pytest.raises(docker.errors.APIError) as raised:
            client.api.create_service(template, name="refused")
    finally:
        client.close()
    assert raised.value.status_code == 503, raised.value
    time.sleep(6)  # longer than a node's lease: nothing expires without quorum
    assert everywhere(hosts, "quorum") == before

    regain_quorum(hosts)

    def scaled() -> bool:
        return attempt(node, "service", "scale", "quorum=4", timeout=CHANGE_BOUND).returncode == 0

    until(scaled, 60, "a scale once quorum is back")
    until(lambda: at_desired_state(hosts, "quorum", 4), 120, "the scale to 4")
    assert set(before) <= set(everywhere(hosts, "quorum"))


def test_the_whole_cluster_stopped_and_started_adopts_every_task_with_no_duplicate(
    hosts: ClusterHosts, services: list[str]
) -> None:
    services.extend(["first", "second"])
    create(hosts, "first", 4)
    create(hosts, "second", 2)
    before = {**everywhere(hosts, "first"), **everywhere(hosts, "second")}
    assert hosts.etcd is not None
    for node in hosts.nodes:  # as `systemctl stop porterd` on every node at once
        assert node.porterd is not None
        node.porterd.process.terminate()
    for node in hosts.nodes:
        assert node.porterd is not None
        node.porterd.process.wait(timeout=60)
    for member in hosts.etcd.members:
        hosts.etcd.kill(member)

    for node in hosts.nodes:  # porterd first: each joins once the store answers
        hosts.start(node, ",".join(hosts.etcd.endpoints))
    for member in hosts.etcd.members:
        hosts.etcd.start(member)
    hosts.etcd.wait_healthy()
    until(
        lambda: at_desired_state(hosts, "first", 4) and at_desired_state(hosts, "second", 2),
        120,
        "every service back at its desired state",
    )
    after = {**everywhere(hosts, "first"), **everywhere(hosts, "second")}
    assert after == before


@pytest.fixture
def overlay(hosts: ClusterHosts) -> Iterator[str]:
    """An overlay network, removed after the services (which the test asks for after it)."""
    porter(live(hosts)[0], "network", "create", "-d", "overlay", "ovquorum")
    yield "ovquorum"
    attempt(live(hosts)[0], "network", "rm", "ovquorum", timeout=CHANGE_BOUND)


def test_without_quorum_a_task_on_an_overlay_still_resolves_its_service_and_outside_names(
    hosts: ClusterHosts, overlay: str, services: list[str]
) -> None:
    server = host_nameserver()
    if server is None:
        pytest.skip("the host's resolv.conf names no IPv4 nameserver for porterd to forward to")
    services.append("named")
    porter(live(hosts)[0], "service", "create", "--name", "named", "--replicas", "3",
           "--network", overlay, "busybox", "sleep", "3600")  # fmt: skip
    until(lambda: at_desired_state(hosts, "named", 3), 120, "named's convergence")
    node = hosts.nodes[0]
    container = next(iter(containers(node, "named")))
    until(lambda: len(resolved(node, container, "named")) == 3, 30, "the name's three tasks")
    answer = sorted(resolved(node, container, "named"))

    with upstream_resolver(node.netns, server, "outside.test", "192.0.2.80"):
        lose_quorum(hosts)
        until(lambda: not has_quorum(hosts), 60, "the loss of quorum")
        for _ in range(3):  # several lookups, each answered without waiting on etcd
            assert sorted(resolved(node, container, "named")) == answer
            assert resolved(node, container, "outside.test") == ["192.0.2.80"]
        regain_quorum(hosts)
