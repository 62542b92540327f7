"""The docker CLI's `docker service create | scale | update | rollback` without -d over three
real porterd: each waits for the service to converge, asking for the tasks of the current spec
(the `_up-to-date` filter) and the nodes, and ends with docker's converged progress and 0."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from .cluster_cli import DOCKER, attempt, docker, until
from .cluster_nodes import ClusterHosts, module_cluster, real_cluster_marks

pytestmark = [
    *real_cluster_marks(),
    pytest.mark.skipif(
        shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
    ),
]
# The CLI watches a converged service for UpdateConfig.Monitor (5 s unless set) before it
# reports it converged; the bound leaves room for the tasks to start as well.
WAIT = 90
COMMAND = ["sleep", "3600"]


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    with module_cluster(tmp_path_factory, tags=("v2",)) as hosts:
        yield hosts


@pytest.fixture
def waited(hosts: ClusterHosts) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """`docker ARGS...` on node0, without -d: it must end within WAIT seconds. The services
    it names after --name are removed afterwards."""
    names: list[str] = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        if "--name" in args:
            names.append(args[args.index("--name") + 1])
        return docker(hosts.nodes[0], *args, timeout=WAIT)

    yield run
    for name in names:
        attempt(hosts.nodes[0], "service", "rm", name)


def running(hosts: ClusterHosts, name: str, image: str = "busybox:latest") -> int:
    """How many tasks of `name` run `image` now (the docker CLI names it with its tag)."""
    with contextlib.closing(hosts.nodes[0].client()) as client:
        tasks = client.api.tasks(filters={"service": name})
    return sum(
        1
        for task in tasks
        if task["DesiredState"] == "running"
        and task["Status"]["State"] == "running"
        and task["Spec"]["ContainerSpec"]["Image"] == image
    )


def converged(result: subprocess.CompletedProcess[str], replicas: int, doing: str = "") -> None:
    """The command succeeded and printed docker's progress (of `doing`, as "rolling back
    update: ") up to its converged line."""
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert f"overall progress: {doing}{replicas} out of {replicas} tasks" in lines, result.stdout
    assert lines[-1] == "verify: Service converged", result.stdout


def create(
    waited: Callable[..., subprocess.CompletedProcess[str]], name: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """`docker service create` of busybox sleeping, named `name`, with `flags`."""
    return waited("service", "create", "--no-resolve-image", "--name", name, *flags,
                  "busybox", *COMMAND)  # fmt: skip


def created(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]], name: str
) -> None:
    """A service of 2 tasks, made with -d and waited for here."""
    made = create(waited, name, "-d", "--replicas", "2")
    assert made.returncode == 0, made.stderr
    until(lambda: running(hosts, name) == 2, WAIT, f"{name}'s 2 tasks running")


def test_docker_service_create_waits_until_the_service_converged(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    made = create(waited, "made", "--replicas", "3")
    converged(made, 3)
    with contextlib.closing(hosts.nodes[0].client()) as client:
        service_id = client.api.inspect_service("made")["ID"]
    assert made.stdout.splitlines()[0] == service_id
    assert running(hosts, "made") == 3


def test_docker_service_create_of_a_global_service_waits_for_a_task_on_each_node(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    made = create(waited, "everywhere", "--mode", "global")
    converged(made, 3)
    assert running(hosts, "everywhere") == 3


def test_docker_service_scale_waits_for_the_new_tasks(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    created(hosts, waited, "scaled")
    scaled = waited("service", "scale", "scaled=4")
    converged(scaled, 4)
    assert scaled.stdout.splitlines()[0] == "scaled scaled to 4"
    assert running(hosts, "scaled") == 4


def test_docker_service_update_waits_for_the_tasks_of_the_new_spec(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    created(hosts, waited, "updated")
    updated = waited("service", "update", "--no-resolve-image", "--image", "busybox:v2",
                     "updated")  # fmt: skip
    converged(updated, 2)
    assert running(hosts, "updated", "busybox:v2") == 2


def test_docker_service_rollback_waits_for_the_previous_spec(
    hosts: ClusterHosts, waited: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    created(hosts, waited, "rolled")
    updated = waited("service", "update", "-d", "--no-resolve-image", "--image", "busybox:v2",
                     "rolled")  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    until(lambda: running(hosts, "rolled", "busybox:v2") == 2, WAIT, "the update")
    rolled = waited("service", "rollback", "rolled")
    converged(rolled, 2, "rolling back update: ")
    assert rolled.stdout.splitlines()[:2] == ["rolled", "rollback: manually requested rollback"]
    assert running(hosts, "rolled") == 2
