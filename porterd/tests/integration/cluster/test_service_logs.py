"""`docker service logs` and `porter service logs` over three real porterd: the node asked
reads its own tasks' container logs, each line after its task (`web.SLOT.TASK@NODE | ...`),
and says in one stderr line per task where the logs of a task on another node are."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..containers_support import DOCKER_CLI, busybox_rootfs_tar
from .cluster_nodes import ClusterHosts, Node, cluster_hosts, real_cluster_marks

pytestmark = real_cluster_marks()
PORTER = str(Path(sys.executable).parent / "porter")
SERVICE = "logged"


def cli(binary: str, node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    assert node.porterd is not None
    return subprocess.run(
        [binary, "-H", node.porterd.url, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what} did not happen in {timeout}s"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("cluster"), rootfs) as hosts:
        created = cli(
            PORTER, hosts.nodes[0], "service", "create", "--name", SERVICE, "--mode", "global",
            "busybox", "sh", "-c", "echo hello from a task; sleep 3600",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        until(
            lambda: (
                "hello from a task"
                in cli(PORTER, hosts.nodes[0], "service", "logs", SERVICE).stdout
            ),
            120,
            "the local task's first line",
        )
        yield hosts


def test_docker_service_logs_prints_the_local_tasks_lines_after_the_task(
    hosts: ClusterHosts,
) -> None:
    result = cli(str(DOCKER_CLI), hosts.nodes[0], "service", "logs", SERVICE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    context, message = lines[0].split("|", 1)
    assert context.startswith(f"{SERVICE}.") and "@" in context
    assert message.strip() == "hello from a task"


def test_porter_service_logs_prints_as_docker_does(hosts: ClusterHosts) -> None:
    docker = cli(str(DOCKER_CLI), hosts.nodes[0], "service", "logs", "--no-trunc", SERVICE)
    porter = cli(PORTER, hosts.nodes[0], "service", "logs", "--no-trunc", SERVICE)
    assert porter.returncode == 0, porter.stderr
    assert [line.split() for line in porter.stdout.splitlines()] == [
        line.split() for line in docker.stdout.splitlines()
    ]


def test_the_tasks_on_other_nodes_are_named_with_where_their_logs_are(
    hosts: ClusterHosts,
) -> None:
    result = cli(PORTER, hosts.nodes[0], "service", "logs", SERVICE)
    remote = [line for line in result.stderr.splitlines() if "are on node" in line]
    assert len(remote) == len(hosts.nodes) - 1, result.stderr
    assert all(line.startswith(f"{SERVICE}.") for line in remote)


def test_a_tasks_logs_are_read_by_its_id(hosts: ClusterHosts) -> None:
    listed = cli(PORTER, hosts.nodes[0], "service", "ps", "-q", SERVICE)
    ids = listed.stdout.split()
    outputs = [cli(PORTER, hosts.nodes[0], "service", "logs", task).stdout for task in ids]
    assert sum("hello from a task" in output for output in outputs) == 1
