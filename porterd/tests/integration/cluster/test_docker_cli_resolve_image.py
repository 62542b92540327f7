"""The docker CLI's `docker service create` without --no-resolve-image over real porterd:
the CLI asks the node for the image's digest (GET /distribution/{name}/json), prints no
warning, and the service's image is pinned `name:tag@sha256:...`; its task runs from it.

The registry runs on the loopback of node0's network namespace and the service is held to
node0, the one node that reaches it."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from network_support import entered

from .cluster_cli import DOCKER, attempt, docker, until
from .cluster_nodes import ClusterHosts, real_cluster_marks

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "porter-image" / "tests"))
from registry_support import host_of, running_registry

pytestmark = [
    *real_cluster_marks(),
    pytest.mark.skipif(
        shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
    ),
]
WAIT = 90


@pytest.fixture
def pushed(hosts: ClusterHosts, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """busybox pushed by node0 to a registry on node0's loopback: (its tagged name, digest)."""
    node = hosts.nodes[0]
    with entered(node.netns), running_registry(tmp_path / "registry") as registry:
        name = f"{host_of(registry.url)}/pinned/busybox:latest"
        with contextlib.closing(node.client()) as client:
            client.images.get("busybox:latest").tag(name)
            progress = list(client.api.push(name, stream=True, decode=True))
        digests = [line["aux"]["Digest"] for line in progress if "aux" in line]
        assert len(digests) == 1, progress
        digest = digests[0]
        yield name, digest
        attempt(node, "service", "rm", "pinned")


def task_states(hosts: ClusterHosts, name: str) -> list[str]:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        tasks = client.api.tasks(filters={"service": name, "desired-state": "running"})
    return [task["Status"]["State"] for task in tasks]


def test_service_create_pins_the_image_digest_without_a_warning_and_the_task_runs(
    hosts: ClusterHosts, pushed: tuple[str, str]
) -> None:
    name, digest = pushed
    node = hosts.nodes[0]
    created = docker(node, "service", "create", "-d", "--name", "pinned",
                     "--constraint", "node.hostname==node0", name, "sleep", "3600")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""
    image = docker(node, "service", "inspect", "pinned", "--format",
                   "{{.Spec.TaskTemplate.ContainerSpec.Image}}")  # fmt: skip
    assert image.stdout.strip() == f"{name}@{digest}", image.stderr
    until(lambda: task_states(hosts, "pinned") == ["running"], WAIT, "the pinned task running")
