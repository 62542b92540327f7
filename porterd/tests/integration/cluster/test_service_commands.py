"""`porter service|node ...` and the docker CLI's `docker service|node ...` against porterd's
swarm routes, served over a unix socket by porterd's own server for a cluster node on a real
etcd (no containers: the agents are not part of this test)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from porterd.api.app import create_app
from porterd.cluster.node import ClusterNode
from porterd.events import EventBus
from porterd.server import listen
from porterd.system_info import version_document

from .cluster_cli import DOCKER, attempt, docker, porter

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def host(node: ClusterNode, tmp_path: Path) -> Iterator[str]:
    daemon = SimpleNamespace(
        cluster=node,
        events=EventBus(),
        version=version_document,
        info=lambda: {"ID": "test", "Swarm": node.swarm_info()},
        disk_usage=lambda kinds: {},
    )
    address = f"unix://{tmp_path}/porterd.sock"
    listener = listen(address, create_app(daemon, routers=["system", "swarm"]))
    listener.start()
    yield address
    listener.stop()


def test_porter_service_create_then_ls_shows_it(host: str) -> None:
    porter(
        host,
        "service",
        "create",
        "--name",
        "web",
        "--replicas",
        "3",
        "-p",
        "8080:80",
        "busybox",
        "httpd",
        "-f",
    )
    listed = porter(host, "service", "ls", "--format", "{{.Name}} {{.Replicas}} {{.Ports}}")
    assert listed.strip() == "web 0/3 *:8080->80/tcp"


def test_porter_service_create_keeps_the_command_after_the_image(host: str) -> None:
    porter(host, "service", "create", "--name", "web", "busybox", "sh", "-c", "sleep 1")
    spec = json.loads(porter(host, "service", "inspect", "web"))[0]["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Args"] == ["sh", "-c", "sleep 1"]


def test_porter_service_create_with_a_negative_replica_count_is_one_line_and_125(
    host: str,
) -> None:
    result = attempt(host, "service", "create", "--replicas", "-2", "busybox")
    assert result.returncode == 125
    assert result.stderr.strip().endswith("invalid replica count -2: it cannot be negative")


def test_porter_service_create_with_a_taken_port_names_the_service(host: str) -> None:
    porter(host, "service", "create", "--name", "a", "-p", "9000:80", "busybox")
    result = attempt(host, "service", "create", "--name", "b", "-p", "9000:80", "busybox")
    assert result.returncode != 0
    assert "port 9000/tcp is already published by service 'a'" in result.stderr
    assert porter(host, "service", "ls", "-q").count("\n") == 1


def test_porter_service_scale_update_and_rollback(host: str) -> None:
    porter(host, "service", "create", "--name", "web", "busybox:1")
    porter(host, "service", "scale", "web=4")
    porter(
        host, "service", "update", "--image", "busybox:2", "--update-order", "start-first", "web"
    )
    spec = json.loads(porter(host, "service", "inspect", "web"))[0]["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 4
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:2"
    assert spec["UpdateConfig"]["Order"] == "start-first"
    porter(host, "service", "rollback", "web")
    image = porter(
        host, "service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", "web"
    )
    assert image.strip() == "busybox:1"


def test_porter_service_ps_lists_the_scheduled_tasks(host: str, node: ClusterNode) -> None:
    porter(host, "service", "create", "--name", "web", "--replicas", "2", "busybox")
    node.reconciler.reconcile_once()
    rows = porter(host, "service", "ps", "web", "--format", "{{.Name}} {{.Node}} {{.DesiredState}}")
    assert rows.split("\n")[:2] == ["web.1 alpha Running", "web.2 alpha Running"]


def test_porter_service_rm_removes_it(host: str) -> None:
    porter(host, "service", "create", "--name", "web", "busybox")
    assert porter(host, "service", "rm", "web").strip() == "web"
    assert porter(host, "service", "ls", "-q") == ""


def test_porter_node_ls_marks_this_node_as_leader(host: str, node: ClusterNode) -> None:
    rows = porter(
        host, "node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}"
    )
    assert rows.strip() == f"{node.node_id} * alpha Ready Leader"


def test_porter_node_update_drains_and_labels(host: str) -> None:
    porter(host, "node", "update", "--availability", "drain", "--label-add", "zone=a", "alpha")
    spec = json.loads(porter(host, "node", "inspect", "alpha"))[0]["Spec"]
    assert (spec["Availability"], spec["Labels"]) == ("drain", {"zone": "a"})


def hostnames(host: str) -> list[str]:
    return porter(host, "node", "ls", "--format", "{{.Hostname}}").split()


def test_porter_node_rm_removes_a_down_node(host: str, other_node: Callable[..., str]) -> None:
    other_node("beta", ready=False)
    assert porter(host, "node", "rm", "beta").strip() == "beta"
    assert hostnames(host) == ["alpha"]


def test_porter_node_rm_refuses_a_ready_node_in_one_line(
    host: str, other_node: Callable[..., str]
) -> None:
    other_node("beta", ready=True)
    result = attempt(host, "node", "rm", "beta")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "porter: Error response from daemon: node beta is ready: stop its porterd first, "
        "or remove it with --force"
    ]
    assert sorted(hostnames(host)) == ["alpha", "beta"]


def test_porter_node_rm_force_removes_a_ready_node(
    host: str, other_node: Callable[..., str]
) -> None:
    other_node("beta", ready=True)
    assert porter(host, "node", "rm", "--force", "beta").strip() == "beta"
    assert hostnames(host) == ["alpha"]


def test_porter_node_rm_of_an_unknown_node_fails_naming_it(host: str) -> None:
    result = attempt(host, "node", "rm", "nosuchnode")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("node nosuchnode not found")


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_creates_lists_scales_updates_and_removes_a_service(host: str) -> None:
    created = docker(
        host,
        "service",
        "create",
        "-d",
        "--no-resolve-image",
        "--name",
        "web",
        "--replicas",
        "2",
        "busybox",
        "sleep",
        "1000",
    )
    assert created.returncode == 0, created.stderr
    scaled = docker(host, "service", "scale", "-d", "web=3")
    assert scaled.returncode == 0, scaled.stderr
    listed = docker(host, "service", "ls", "--format", "{{.Name}} {{.Replicas}}")
    assert (listed.returncode, listed.stdout.strip()) == (0, "web 0/3"), listed.stderr
    ps = docker(host, "service", "ps", "web", "--format", "{{.Name}}")
    assert ps.returncode == 0, ps.stderr
    updated = docker(host, "service", "update", "-d", "--env-add", "COLOUR=blue", "web")
    assert updated.returncode == 0, updated.stderr
    env = docker(host, "service", "inspect", "web", "--format",
                 "{{json .Spec.TaskTemplate.ContainerSpec.Env}}")  # fmt: skip
    assert (env.returncode, env.stdout.strip()) == (0, '["COLOUR=blue"]'), env.stderr
    removed = docker(host, "service", "rm", "web")
    assert (removed.returncode, removed.stdout.strip()) == (0, "web"), removed.stderr


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_lists_the_nodes(host: str) -> None:
    listed = docker(host, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Self}}")
    assert (listed.returncode, listed.stdout.strip()) == (0, "alpha Ready true"), listed.stderr


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_removes_a_down_node_and_a_ready_one_only_with_force(
    host: str, other_node: Callable[..., str]
) -> None:
    other_node("beta", ready=False)
    other_node("gamma", ready=True)
    refused = docker(host, "node", "rm", "gamma")
    assert refused.returncode == 1
    assert "is ready: stop its porterd first, or remove it with --force" in refused.stderr
    removed = docker(host, "node", "rm", "beta")
    assert (removed.returncode, removed.stdout.strip()) == (0, "beta"), removed.stderr
    forced = docker(host, "node", "rm", "--force", "gamma")
    assert (forced.returncode, forced.stdout.strip()) == (0, "gamma"), forced.stderr
    assert hostnames(host) == ["alpha"]


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_lists_a_task_no_node_can_take_as_pending_with_the_reason(
    host: str, node: ClusterNode
) -> None:
    # through the store: the API refuses a constraint no node meets at create
    node.store.create_service(
        {
            "Name": "waiting",
            "TaskTemplate": {
                "ContainerSpec": {"Image": "busybox"},
                "Placement": {"Constraints": ["node.labels.zone==nowhere"]},
            },
            "Mode": {"Replicated": {"Replicas": 1}},
        }
    )
    node.reconciler.reconcile_once()
    ps = docker(host, "service", "ps", "waiting", "--no-trunc", "--format",
                "{{.Name}}|{{.Node}}|{{.CurrentState}}|{{.Error}}")  # fmt: skip
    assert ps.returncode == 0, ps.stderr
    name, on_node, state, error = ps.stdout.strip().split("|")
    assert (name, on_node, error) == ("waiting.1", "", '"no node satisfies the constraints"')
    assert state.startswith("Pending")


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_lists_a_nodes_tasks_filtered_by_desired_state(
    host: str, node: ClusterNode
) -> None:
    porter(host, "service", "create", "--name", "web", "--replicas", "2", "busybox")
    node.reconciler.reconcile_once()
    listed = docker(host, "node", "ps", "alpha", "-f", "desired-state=running",
                    "--format", "{{.Name}} {{.Node}}")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.splitlines()) == ["web.1 alpha", "web.2 alpha"]
    shut = docker(host, "service", "ps", "web", "-f", "desired-state=shutdown", "-q")
    assert (shut.returncode, shut.stdout) == (0, ""), shut.stderr
