"""porterd.cluster.agent's pure parts: a task's container body and the status it reports."""

from __future__ import annotations

from typing import Any

from porterd.cluster.agent import Observed, container_body, container_name, observed_status


def task(**status: Any) -> dict[str, Any]:
    return {
        "ID": "t1",
        "ServiceID": "s1",
        "ServiceName": "web",
        "Slot": 2,
        "NodeID": "n1",
        "DesiredState": "running",
        "Spec": {
            "ContainerSpec": {
                "Image": "busybox",
                "Command": ["httpd"],
                "Args": ["-f"],
                "Env": ["A=1"],
                "Labels": {"mine": "yes"},
            },
            "Resources": {"Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 1 << 26}},
        },
        "Status": {"State": "assigned", **status},
    }


def test_a_container_is_named_service_slot_task() -> None:
    assert container_name(task()) == "web.2.t1"


def test_the_container_body_maps_the_container_spec_as_swarm_does() -> None:
    body = container_body(task())
    assert (body["Image"], body["Entrypoint"], body["Cmd"], body["Env"]) == (
        "busybox",
        ["httpd"],
        ["-f"],
        ["A=1"],
    )
    assert body["HostConfig"]["NanoCpus"] == 500_000_000
    assert body["HostConfig"]["Memory"] == 1 << 26
    assert body["HostConfig"]["RestartPolicy"] == {"Name": "no"}


def test_the_container_carries_swarm_s_labels_beside_its_own() -> None:
    labels = container_body(task())["Labels"]
    assert labels["mine"] == "yes"
    assert labels["com.docker.swarm.task.id"] == "t1"
    assert labels["com.docker.swarm.service.name"] == "web"
    assert labels["com.docker.swarm.node.id"] == "n1"


def test_a_running_container_makes_the_task_running() -> None:
    status = observed_status(task(), Observed("c1", running=True))
    assert status is not None
    assert (status["State"], status["ContainerStatus"]["ContainerID"]) == ("running", "c1")


def test_an_exit_with_a_code_makes_the_task_failed_with_the_code() -> None:
    status = observed_status(task(State="running"), Observed("c1", running=False, exit_code=3))
    assert status is not None
    assert (status["State"], status["Err"]) == ("failed", "task exited with code 3")


def test_an_exit_with_zero_completes_the_task() -> None:
    status = observed_status(task(State="running"), Observed("c1", running=False))
    assert status is not None and status["State"] == "complete"


def test_a_running_task_whose_container_vanished_fails() -> None:
    status = observed_status(task(State="running"), None)
    assert status is not None and status["Err"] == "container vanished"


def test_an_unchanged_container_reports_nothing() -> None:
    seen = Observed("c1", running=True, cpu_percent=40.0)
    first = observed_status(task(), seen)
    assert first is not None
    assert observed_status(task(**first), Observed("c1", running=True, cpu_percent=42.0)) is None


def test_a_cpu_change_beyond_the_step_is_reported() -> None:
    first = observed_status(task(), Observed("c1", running=True, cpu_percent=40.0))
    assert first is not None
    again = observed_status(task(**first), Observed("c1", running=True, cpu_percent=80.0))
    assert again is not None and again["Usage"]["CPUPercent"] == 80.0
