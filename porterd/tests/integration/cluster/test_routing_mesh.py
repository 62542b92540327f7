"""The routing mesh on three real porterd nodes: a service's published port is open on every
node (one running none of its replicas too), from outside and from the node itself, and its
connections are spread evenly over the replicas of every node; a replica that dies leaves
the rotation; the port's rules go with the service. A start-first rolling update under a
steady request loop fails no request; autoscaling on requests per second (new connections)
scales up under a request loop and back down once it stops and the down window passes, and is
refused without a published port or on a global service; a port held by another service or
by a container is refused."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from ...network_support import entered, run_in
from ..containers_support import busybox_rootfs_tar
from .cluster_cli import attempt, porter, until
from .cluster_nodes import ClusterHosts, cluster_hosts, real_cluster_marks

pytestmark = real_cluster_marks()
PUBLISHED = 8080
# Each replica answers with its container's hostname, so a test sees which one it reached.
SERVE_HOSTNAME = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("mesh"), rootfs, tags=("v2",)) as hosts:
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


def answers(netns: Path, address: str, count: int, port: int = PUBLISHED) -> list[str | None]:
    with entered(netns):
        return [fetch(address, port) for _ in range(count)]


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


def test_a_replica_that_fails_its_health_check_leaves_the_rotation(hosts: ClusterHosts) -> None:
    checked = ["--health-cmd", "test -e /www/index.html", "--health-interval", "1s",
               "--health-retries", "1"]  # fmt: skip
    with service(hosts, "checked", "--replicas", "2", "-p", "8087:80", *checked):
        until(lambda: len(set(answers(hosts.hub, hosts.nodes[0].address, 4, 8087))) == 2,
              120, "both replicas answering")  # fmt: skip
        victim, where = next(iter(replica_hosts(hosts).items()))
        node = next(n for n in hosts.nodes if n.name == where)
        porter(node, "exec", victim, "rm", "/www/index.html")  # it answers 404 from now on

        def only_the_healthy_one_answers() -> bool:
            got = [a for n in hosts.nodes for a in answers(hosts.hub, n.address, 4, 8087)]
            return None not in got and victim not in got

        took = until(only_the_healthy_one_answers, 30, "the unhealthy replica leaving")
        print(f"an unhealthy replica left the rotation {took:.1f}s after it broke")


def test_the_mesh_rules_go_with_the_service(hosts: ClusterHosts) -> None:
    porter(hosts.nodes[0], "service", "create", "--name", "gone", "-p", "8081:80",
           "busybox", "sh", "-c", SERVE_HOSTNAME)  # fmt: skip

    def rules() -> list[str]:
        return [run_in(node.netns, "nft", "list", "table", "inet", "porter").stdout
                for node in hosts.nodes]  # fmt: skip

    until(lambda: all("dport 8081" in ruleset for ruleset in rules()), 60, "the mesh rules")
    porter(hosts.nodes[0], "service", "rm", "gone")
    until(lambda: not any("dport 8081" in ruleset for ruleset in rules()), 30, "their removal")


class RequestLoop:
    """Requests through the published port, one after another over the three nodes, from the
    hub, on a thread of its own until stopped (and at most `limit` of them)."""

    def __init__(self, hosts: ClusterHosts, port: int, limit: int = 20_000) -> None:
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(hosts, port, limit))
        self._thread.start()

    def _run(self, hosts: ClusterHosts, port: int, limit: int) -> None:
        addresses = [node.address for node in hosts.nodes]
        with entered(hosts.hub):
            for count in range(limit):
                if self._stop.is_set():
                    return
                address = addresses[count % len(addresses)]
                if fetch(address, port) is None:
                    self.failed.append(address)
                else:
                    self.ok += 1
                self._stop.wait(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def service(
    hosts: ClusterHosts, name: str, *flags: str, command: str = SERVE_HOSTNAME
) -> Iterator[None]:
    porter(hosts.nodes[0], "service", "create", "--name", name, *flags,
           "busybox", "sh", "-c", command)  # fmt: skip
    try:
        yield
    finally:
        porter(hosts.nodes[0], "service", "rm", name)
        until(lambda: not replica_hosts(hosts), 60, "the service's removal")


def inspect(hosts: ClusterHosts, name: str) -> dict:
    return json.loads(porter(hosts.nodes[0], "service", "inspect", name))[0]


def test_a_start_first_rolling_update_under_a_steady_request_loop_fails_no_request(
    hosts: ClusterHosts,
) -> None:
    healthy = ["--health-cmd", "wget -q -O- http://127.0.0.1:80/", "--health-interval", "1s"]
    with service(hosts, "rolling", "--replicas", "3", "-p", "8082:80", *healthy,
                 "--update-order", "start-first"):  # fmt: skip
        until(lambda: len(set(answers(hosts.hub, hosts.nodes[0].address, 6, 8082))) == 3,
              120, "three replicas answering")  # fmt: skip
        loop = RequestLoop(hosts, 8082)
        try:
            porter(hosts.nodes[0], "service", "update", "--image", "busybox:v2", "rolling")
            until(lambda: inspect(hosts, "rolling")["UpdateStatus"]["State"] == "completed",
                  180, "the update")  # fmt: skip
        finally:
            loop.stop()
        assert loop.failed == [] and loop.ok > 100, (loop.ok, loop.failed[:10])


def replicas(hosts: ClusterHosts, name: str) -> int:
    return inspect(hosts, name)["Spec"]["Mode"]["Replicated"]["Replicas"]


def scale_up_under_load(hosts: ClusterHosts, name: str, port: int, wanted: int) -> None:
    """A request loop through the service's published port until it has `wanted` replicas
    (at least), then stopped."""
    until(lambda: answers(hosts.hub, hosts.nodes[0].address, 1, port) != [None], 120,
          "the replica answering")  # fmt: skip
    loop = RequestLoop(hosts, port)
    try:
        until(lambda: replicas(hosts, name) >= wanted, 90, "the scale-up")
    finally:
        loop.stop()


def test_rps_autoscaling_scales_up_under_a_request_loop_and_records_why(
    hosts: ClusterHosts,
) -> None:
    with service(hosts, "busy", "--replicas", "1", "-p", "8083:80",
                 "--autoscale", "min=1,max=3,rps=5"):  # fmt: skip
        scale_up_under_load(hosts, "busy", 8083, 3)
        [decision] = inspect(hosts, "busy")["Autoscale"]["Decisions"]
        assert (decision["From"], decision["To"]) == (1, 3)
        assert decision["Reason"].startswith("rps ")


def test_rps_autoscaling_scales_back_down_once_the_loop_stops_and_the_down_window_passes(
    hosts: ClusterHosts,
) -> None:
    with service(hosts, "calm", "--replicas", "1", "-p", "8087:80",
                 "--autoscale", "min=1,max=3,rps=5,down-window=10s"):  # fmt: skip
        scale_up_under_load(hosts, "calm", 8087, 2)
        until(lambda: replicas(hosts, "calm") == 1, 120, "the scale-down")
        decisions = inspect(hosts, "calm")["Autoscale"]["Decisions"]
    down = decisions[-1]
    assert (down["To"], down["Reason"][:4]) == (1, "rps "), decisions
    # Back to 1 only once the last scale-up's recommendation has left the down window.
    up = [decision for decision in decisions if decision["To"] > decision["From"]][-1]
    assert down["At"] - up["At"] > 10, decisions


def create_error(hosts: ClusterHosts, *args: str) -> subprocess.CompletedProcess[str]:
    return attempt(hosts.nodes[0], "service", "create", *args, "busybox", "true")


def test_an_rps_target_without_a_published_port_is_refused_in_one_line(
    hosts: ClusterHosts,
) -> None:
    result = create_error(hosts, "--name", "unmeasured", "--autoscale", "min=1,max=3,rps=5")
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: autoscale rps needs a published port: it counts"
        " the new connections per second to the service's published ports"
    ]
    client = hosts.nodes[0].client()
    template = docker.types.TaskTemplate(docker.types.ContainerSpec("busybox", ["true"]))
    try:
        with pytest.raises(docker.errors.APIError) as raised:
            client.api.create_service(
                template, name="unmeasured", labels={"porter.autoscale": "min=1,max=3,rps=5"}
            )
    finally:
        client.close()
    assert raised.value.status_code == 400


def test_autoscaling_a_global_service_is_refused_in_one_line(hosts: ClusterHosts) -> None:
    result = create_error(hosts, "--name", "everywhere", "--mode", "global",
                          "--autoscale", "min=1,max=3,cpu=50%")  # fmt: skip
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: autoscale can only be used with replicated mode"
    ]


def test_a_port_another_service_publishes_is_refused_in_one_line(hosts: ClusterHosts) -> None:
    with service(hosts, "first", "-p", "8084:80"):
        result = create_error(hosts, "--name", "second", "-p", "8084:80")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: port 8084/tcp is already published by service 'first'"
    ]


def test_a_port_a_container_publishes_on_a_node_is_refused_in_one_line(
    hosts: ClusterHosts,
) -> None:
    node = hosts.nodes[1]
    plain = porter(node, "run", "-d", "-p", "8085:80", "busybox", "sleep", "600").strip()
    try:
        # Each node reports the ports its containers hold every couple of seconds.
        until(lambda: port_refused(hosts, "8085:80"), 30, "the refusal")
        result = create_error(hosts, "--name", "clash", "-p", "8085:80")
    finally:
        porter(node, "rm", "-f", plain)
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: port 8085/tcp is already published by a container on"
        " node 'node1'"
    ]


def test_a_container_cannot_publish_a_port_a_service_holds(hosts: ClusterHosts) -> None:
    with service(hosts, "holder", "-p", "8086:80"):
        node = hosts.nodes[2]
        until(lambda: "dport 8086" in run_in(node.netns, "nft", "list", "table", "inet",
                                              "porter").stdout, 60, "the mesh rules")  # fmt: skip
        result = attempt(node, "run", "-d", "--name", "clasher", "-p", "8086:80", "busybox", "true")
        porter(node, "rm", "-f", "clasher")
    assert result.returncode != 0
    assert "0.0.0.0:8086/tcp failed: address already in use" in result.stderr


def port_refused(hosts: ClusterHosts, port: str) -> bool:
    """Whether a service publishing `port` is refused (one made meanwhile is removed)."""
    if create_error(hosts, "--name", "probe", "--replicas", "0", "-p", port).returncode:
        return True
    porter(hosts.nodes[0], "service", "rm", "probe")
    return False


def test_an_update_adding_a_port_a_container_publishes_on_a_node_is_refused_in_one_line(
    hosts: ClusterHosts,
) -> None:
    node = hosts.nodes[1]
    plain = porter(node, "run", "-d", "-p", "8091:80", "busybox", "sleep", "600").strip()
    try:
        with service(hosts, "adder", "--replicas", "1"):
            until(lambda: port_refused(hosts, "8091:80"), 30, "the node's report of the port")
            result = attempt(
                hosts.nodes[0], "service", "update", "--publish-add", "8091:80", "adder"
            )
            ports = inspect(hosts, "adder")["Spec"]["EndpointSpec"]["Ports"]
    finally:
        porter(node, "rm", "-f", plain)
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: port 8091/tcp is already published by a container on"
        " node 'node1'"
    ]
    assert ports == []


def running_tasks(hosts: ClusterHosts, name: str) -> set[str]:
    listed = porter(
        hosts.nodes[0], "service", "ps", "-q", "--filter", "desired-state=running", name
    )
    return set(listed.split())


def test_changing_only_the_target_port_replaces_the_tasks_which_then_answer_on_it(
    hosts: ClusterHosts,
) -> None:
    # Each replica answers on 80 and on 8000 (a second httpd in the background).
    both = "mkdir -p /www && hostname > /www/index.html && httpd -p 8000 -h /www && " + (
        "exec httpd -f -p 80 -h /www"
    )
    with service(hosts, "retarget", "--replicas", "2", "-p", "8088:80", command=both):
        until(lambda: len(set(answers(hosts.hub, hosts.nodes[0].address, 6, 8088))) == 2,
              120, "two replicas answering")  # fmt: skip
        before = running_tasks(hosts, "retarget")
        porter(hosts.nodes[0], "service", "update", "--publish-rm", "80",
               "--publish-add", "8088:8000", "retarget")  # fmt: skip
        until(lambda: inspect(hosts, "retarget")["UpdateStatus"]["State"] == "completed",
              120, "the update")  # fmt: skip
        after = running_tasks(hosts, "retarget")
        until(lambda: len(set(answers(hosts.hub, hosts.nodes[0].address, 6, 8088))) == 2,
              60, "the new replicas answering")  # fmt: skip
        targets = {target for node in hosts.nodes for target in published_targets(node, after)}
    assert len(after) == 2 and not after & before
    assert targets == {"8000/tcp"}


def published_targets(node: Any, tasks: set[str]) -> set[str]:
    """The container ports that the node's containers of these tasks publish."""
    client = node.client()
    try:
        found = set()
        for listed in client.api.containers(filters={"label": "com.docker.swarm.task.id"}):
            task = listed["Labels"]["com.docker.swarm.task.id"]
            if any(task.startswith(prefix) for prefix in tasks):
                bindings = client.api.inspect_container(listed["Id"])["HostConfig"]["PortBindings"]
                found |= set(bindings or {})
        return found
    finally:
        client.close()
