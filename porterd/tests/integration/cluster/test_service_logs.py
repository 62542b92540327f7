"""`docker service logs` and `porter service logs` over three real porterd: the node asked
gathers every task's lines from every node (each node serves its own tasks' logs to the
others over the cluster's mutual TLS), each line after its task (`web.SLOT.TASK@NODE | ...`);
and that cluster port refuses a client without a certificate of the cluster's CA, or with one
that names no node."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from porterd.cluster.etcd import EtcdClient
from porterd.cluster.peer_logs import LOG_PORT
from porterd.cluster.store import ClusterStore
from porterd.cluster.trust import cluster_ca, make_ca, node_certificate

from ...network_support import entered
from ..containers_support import DOCKER_CLI, busybox_rootfs_tar
from .cluster_cli import PORTER, until
from .cluster_nodes import ClusterHosts, Node, cluster_hosts, real_cluster_marks

pytestmark = real_cluster_marks()
SERVICE = "logged"
# Each task says hello, then once more when /tmp/more appears in its container.
COMMAND = (
    "echo hello from a task; while [ ! -e /tmp/more ]; do sleep 0.2; done;"
    " echo more from a task; exec sleep 3600"
)


def cli(binary: str, node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    assert node.porterd is not None
    return subprocess.run(
        [binary, "-H", node.porterd.url, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("cluster"), rootfs) as hosts:
        created = cli(
            PORTER, hosts.nodes[0], "service", "create", "--name", SERVICE, "--mode", "global",
            "busybox", "sh", "-c", COMMAND,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        until(
            lambda: (
                cli(PORTER, hosts.nodes[0], "service", "logs", SERVICE).stdout.count("hello")
                == len(hosts.nodes)
            ),
            120,
            "every task's first line",
        )
        yield hosts


def test_docker_service_logs_prints_the_lines_of_the_tasks_on_every_node(
    hosts: ClusterHosts,
) -> None:
    result = cli(str(DOCKER_CLI), hosts.nodes[1], "service", "logs", SERVICE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(hosts.nodes), result.stdout + result.stderr
    where = set()
    for line in lines:
        context, message = line.split("|", 1)
        assert context.startswith(f"{SERVICE}.") and "@" in context
        assert message.strip() == "hello from a task"
        where.add(context.strip().rpartition("@")[2])
    assert where == {node.name for node in hosts.nodes}


def test_porter_service_logs_prints_as_docker_does(hosts: ClusterHosts) -> None:
    docker = cli(str(DOCKER_CLI), hosts.nodes[0], "service", "logs", "--no-trunc", SERVICE)
    porter = cli(PORTER, hosts.nodes[0], "service", "logs", "--no-trunc", SERVICE)
    assert porter.returncode == 0, porter.stderr
    assert sorted(line.split() for line in porter.stdout.splitlines()) == sorted(
        line.split() for line in docker.stdout.splitlines()
    )


def test_each_tasks_logs_are_read_by_its_id_from_any_node(hosts: ClusterHosts) -> None:
    listed = cli(PORTER, hosts.nodes[0], "service", "ps", "-q", SERVICE)
    ids = listed.stdout.split()
    assert len(ids) == len(hosts.nodes)
    outputs = [cli(PORTER, hosts.nodes[0], "service", "logs", task).stdout for task in ids]
    assert all(output.count("hello from a task") == 1 for output in outputs), outputs


def test_tail_and_timestamps_apply_to_the_tasks_of_other_nodes(hosts: ClusterHosts) -> None:
    result = cli(PORTER, hosts.nodes[2], "service", "logs", "-t", "--tail", "1", SERVICE)
    lines = result.stdout.splitlines()
    assert len(lines) == len(hosts.nodes), result.stdout + result.stderr
    assert all(line[:4].isdigit() and "T" in line.split()[0] for line in lines), lines
    empty = cli(PORTER, hosts.nodes[2], "service", "logs", "--tail", "0", SERVICE)
    assert empty.stdout == "" and empty.returncode == 0


def test_follow_brings_the_new_lines_of_a_task_on_another_node(hosts: ClusterHosts) -> None:
    assert hosts.nodes[0].porterd is not None
    follower = subprocess.Popen(
        [PORTER, "-H", hosts.nodes[0].porterd.url, "service", "logs", "-f", SERVICE],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        seen = [follower.stdout.readline() for _ in hosts.nodes]
        assert all("hello from a task" in line for line in seen), seen
        remote = hosts.nodes[2].client()
        (container,) = remote.containers.list(
            filters={"label": f"com.docker.swarm.service.name={SERVICE}"}
        )
        container.exec_run(["touch", "/tmp/more"])
        line = follower.stdout.readline()
        assert "more from a task" in line and line.split("|")[0].strip().endswith("@node2")
    finally:
        follower.kill()
        follower.wait(timeout=10)


def _log_url(node: Node, task_id: str) -> str:
    return f"https://{node.address}:{LOG_PORT}/tasks/{task_id}/logs?stdout=1&stderr=1"


def _a_task_of(node: Node) -> str:
    client = node.client()
    (container,) = client.containers.list(
        filters={"label": f"com.docker.swarm.service.name={SERVICE}"}
    )
    return container.labels["com.docker.swarm.task.id"]


def _tls_files(node: Node) -> tuple[str, tuple[str, str]]:
    folder = node.workdir / "data" / "cluster" / "tls"
    return str(folder / "ca.pem"), (str(folder / "node-cert.pem"), str(folder / "node-key.pem"))


def test_the_cluster_port_serves_a_tasks_logs_to_a_holder_of_a_cluster_certificate(
    hosts: ClusterHosts,
) -> None:
    served, asking = hosts.nodes[1], hosts.nodes[0]
    ca, cert = _tls_files(asking)
    with entered(asking.netns):
        response = requests.get(_log_url(served, _a_task_of(served)), verify=ca, cert=cert)
    assert response.status_code == 200
    assert b"hello from a task" in response.content


def test_the_cluster_port_refuses_a_client_without_a_certificate(hosts: ClusterHosts) -> None:
    served = hosts.nodes[1]
    ca, _ = _tls_files(served)
    with entered(hosts.nodes[0].netns), pytest.raises(requests.exceptions.ConnectionError):
        requests.get(_log_url(served, _a_task_of(served)), verify=ca, timeout=10)


def test_the_cluster_port_refuses_a_certificate_of_another_ca(
    hosts: ClusterHosts, tmp_path: Path
) -> None:
    served = hosts.nodes[1]
    ca, _ = _tls_files(served)
    cert, key = node_certificate(make_ca(), "intruder", hosts.nodes[0].address)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    foreign = (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    with entered(hosts.nodes[0].netns), pytest.raises(requests.exceptions.ConnectionError):
        requests.get(_log_url(served, _a_task_of(served)), verify=ca, cert=foreign, timeout=10)


def test_the_cluster_port_serves_nothing_but_task_logs(hosts: ClusterHosts) -> None:
    served, asking = hosts.nodes[1], hosts.nodes[0]
    ca, cert = _tls_files(asking)
    with entered(asking.netns):
        for path in ("/containers/json", "/services", "/_ping"):
            url = f"https://{served.address}:{LOG_PORT}{path}"
            assert requests.get(url, verify=ca, cert=cert, timeout=10).status_code == 404
        # nor the logs of a task of another node
        other = _log_url(served, _a_task_of(hosts.nodes[2]))
        assert requests.get(other, verify=ca, cert=cert, timeout=10).status_code == 404


def test_the_cluster_port_refuses_a_cluster_certificate_of_no_node(
    hosts: ClusterHosts, tmp_path: Path
) -> None:
    assert hosts.etcd is not None
    with entered(hosts.hub):  # the CA as the store holds it
        ca = cluster_ca(ClusterStore(EtcdClient(hosts.etcd.endpoints)))
    cert, key = node_certificate(ca, "not-a-node", hosts.nodes[0].address)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    served = hosts.nodes[1]
    ca_file, _ = _tls_files(served)
    stranger = (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    with entered(hosts.nodes[0].netns):
        url = _log_url(served, _a_task_of(served))
        response = requests.get(url, verify=ca_file, cert=stranger, timeout=10)
    assert response.status_code == 403
    assert "not-a-node is not a node of this cluster" in response.json()["message"]
