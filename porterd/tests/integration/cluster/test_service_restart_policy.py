"""A service's restart policy on three real porterd: a task that keeps failing is restarted
as many times as --restart-max-attempts allows and then left, and docker's CLI sets the
policy through the Engine API as porter's does."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from typing import Any

import pytest

from .cluster_cli import DOCKER, attempt, docker, porter, until
from .cluster_nodes import ClusterHosts, real_cluster_marks

pytestmark = real_cluster_marks()
WAIT = 120


def tasks(hosts: ClusterHosts, name: str) -> list[dict[str, Any]]:
    with contextlib.closing(hosts.nodes[0].client()) as client:
        return client.api.tasks(filters={"service": name})


def test_a_failing_task_is_started_once_and_restarted_max_attempts_times_then_left(
    hosts: ClusterHosts,
) -> None:
    porter(hosts.nodes[0], "service", "create", "--name", "failing",
           "--restart-condition", "on-failure", "--restart-max-attempts", "2",
           "--restart-delay", "1s", "busybox", "sh", "-c", "exit 1")  # fmt: skip
    try:

        def all_failed() -> bool:
            found = tasks(hosts, "failing")
            return len(found) == 3 and all(
                (t["DesiredState"], t["Status"]["State"]) == ("shutdown", "failed") for t in found
            )

        until(all_failed, WAIT, "three failed tasks")
        time.sleep(3)  # three times the restart delay: no fourth task comes
        found = tasks(hosts, "failing")
        assert len(found) == 3, [t["Status"] for t in found]
        assert {t["Slot"] for t in found} == {1}
        (inspected,) = json.loads(porter(hosts.nodes[0], "service", "inspect", "failing"))
        assert inspected["Spec"]["TaskTemplate"]["RestartPolicy"] == {
            "Condition": "on-failure",
            "Delay": 1_000_000_000,
            "MaxAttempts": 2,
        }
    finally:
        attempt(hosts.nodes[0], "service", "rm", "failing")


@pytest.mark.skipif(
    shutil.which(DOCKER) is None, reason="the docker CLI (docker.io) is not installed"
)
def test_the_docker_cli_sets_and_updates_the_restart_policy(hosts: ClusterHosts) -> None:
    node = hosts.nodes[0]
    created = docker(node, "service", "create", "-d", "--no-resolve-image", "--name", "policed",
                     "--restart-condition", "none", "--restart-delay", "2s",
                     "--restart-max-attempts", "3", "--restart-window", "1m",
                     "busybox", "sleep", "1000")  # fmt: skip
    try:
        assert created.returncode == 0, created.stderr

        def policy() -> dict[str, Any]:
            shown = docker(node, "service", "inspect", "policed",
                           "--format", "{{json .Spec.TaskTemplate.RestartPolicy}}")  # fmt: skip
            assert shown.returncode == 0, shown.stderr
            return json.loads(shown.stdout)

        assert policy() == {
            "Condition": "none",
            "Delay": 2_000_000_000,
            "MaxAttempts": 3,
            "Window": 60_000_000_000,
        }
        updated = docker(node, "service", "update", "-d", "--restart-condition", "any", "policed")
        assert updated.returncode == 0, updated.stderr
        assert policy()["Condition"] == "any" and policy()["MaxAttempts"] == 3
    finally:
        docker(node, "service", "rm", "policed")
