"""POST /containers/{id}/wait with each condition, as dockerd answers it (moby's
`State.Wait`): `not-running` at once for a container whose process does not exist, at the
next exit otherwise; `next-exit` at the next exit whatever the state is; `removed` once the
container is gone. A wait is sent and its headers read (the daemon has taken it in) before
the container changes, so each test knows which exit the answer is about."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, needs_containers, until
from porterd_process import PorterdProcess

pytestmark = [pytest.mark.integration, needs_containers]

# exits 3 the first time it runs, 5 every time after (its read-write layer remembers)
SECOND_RUN_DIFFERS = "test -f /ran && exit 5; touch /ran; exit 3"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("porterd", timeout=60)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.socket_path))


class SentWait:
    """A wait request whose answer's headers have arrived: porterd holds the wait."""

    def __init__(
        self, porterd: PorterdProcess, container_id: str, condition: str, version: str = "1.43"
    ) -> None:
        self.connection = _UnixConnection(porterd.sock)
        path = f"/v{version}/containers/{container_id}/wait?condition={condition}"
        self.connection.request("POST", path)
        self.response = self.connection.getresponse()

    def answer(self) -> dict[str, Any]:
        try:
            return json.loads(self.response.read())
        finally:
            self.connection.close()


def run_first_time(porterd: PorterdProcess, container: Container) -> None:
    """Start the container and wait for its exit (3), the wait sent before the start: sent
    after it, a wait for the next exit may come when the exit is recorded already."""
    sent = SentWait(porterd, container.id, "next-exit")
    container.start()
    assert sent.answer()["StatusCode"] == 3


@pytest.fixture
def container(client: docker.DockerClient) -> Iterator[Container]:
    created = client.containers.create(
        IMAGE, ["sh", "-c", SECOND_RUN_DIFFERS], network_mode="none",
        name=f"wait-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    try:
        yield created
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            created.remove(force=True)


def test_not_running_answers_at_once_for_a_created_container(
    client: docker.DockerClient, container: Container
) -> None:
    assert client.api.wait(container.id, condition="not-running", timeout=30) == {
        "StatusCode": 0,
        "Error": None,
    }


def test_not_running_answers_at_once_for_an_exited_container_with_its_code(
    porterd: PorterdProcess, client: docker.DockerClient, container: Container
) -> None:
    run_first_time(porterd, container)
    assert client.api.wait(container.id, condition="not-running", timeout=30)["StatusCode"] == 3


def test_not_running_waits_for_the_exit_of_a_running_container(
    porterd: PorterdProcess, client: docker.DockerClient
) -> None:
    running = client.containers.run(IMAGE, ["sleep", "60"], detach=True, network_mode="none")
    try:
        sent = SentWait(porterd, running.id, "not-running")
        running.kill("SIGKILL")
        assert sent.answer()["StatusCode"] == 137
    finally:
        running.remove(force=True)


def test_next_exit_of_a_created_container_is_that_of_its_first_run(
    porterd: PorterdProcess, container: Container
) -> None:
    sent = SentWait(porterd, container.id, "next-exit")
    container.start()
    assert sent.answer() == {"StatusCode": 3, "Error": None}


def test_next_exit_of_an_exited_container_waits_for_its_next_run(
    porterd: PorterdProcess, container: Container
) -> None:
    run_first_time(porterd, container)
    sent = SentWait(porterd, container.id, "next-exit")
    container.start()
    assert sent.answer()["StatusCode"] == 5


def test_removed_waits_for_the_removal_of_an_exited_container(
    porterd: PorterdProcess, client: docker.DockerClient, container: Container
) -> None:
    run_first_time(porterd, container)
    sent = SentWait(porterd, container.id, "removed")
    container.remove()
    assert sent.answer()["StatusCode"] == 3
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(container.id)


def test_a_removal_ends_a_next_exit_wait_on_a_created_container(
    porterd: PorterdProcess, container: Container
) -> None:
    sent = SentWait(porterd, container.id, "next-exit")
    container.remove()
    assert sent.answer()["StatusCode"] == 0


def test_an_unknown_condition_is_refused_as_dockerd_words_it(
    client: docker.DockerClient, container: Container
) -> None:
    with pytest.raises(docker.errors.APIError) as refused:
        client.api.wait(container.id, condition="sometime", timeout=30)
    assert refused.value.status_code == 400
    assert refused.value.explanation == 'invalid condition: "sometime"'


def test_waiting_on_an_unknown_container_is_not_found(client: docker.DockerClient) -> None:
    with pytest.raises(docker.errors.NotFound):
        client.api.wait(f"nothing-{uuid.uuid4().hex[:8]}", condition="next-exit", timeout=30)


def test_not_running_answers_at_once_for_a_created_container_a_client_is_attached_to(
    client: docker.DockerClient, container: Container
) -> None:
    attached = client.api.attach_socket(container.id, params={"stdout": 1, "stream": 1})
    try:
        assert client.api.wait(container.id, condition="not-running", timeout=30) == {
            "StatusCode": 0,
            "Error": None,
        }
    finally:
        attached.close()


def test_before_api_1_30_the_condition_is_not_read(
    porterd: PorterdProcess, container: Container
) -> None:
    run_first_time(porterd, container)
    sent = SentWait(porterd, container.id, "next-exit", version="1.29")
    assert sent.answer()["StatusCode"] == 3  # not-running: at once, for the exited container


def porterd_threads(porterd: PorterdProcess) -> int:
    return len(os.listdir(f"/proc/{porterd.process.pid}/task"))


def settled_threads(porterd: PorterdProcess) -> int:
    """porterd's thread count once three looks 0.1 s apart agree (the thread of a request just
    answered may still be ending)."""
    seen = [porterd_threads(porterd)]
    until(lambda: seen.append(porterd_threads(porterd)) or seen[-3:] == [seen[-1]] * 3)
    return seen[-1]


def test_a_wait_whose_client_left_ends_with_it(
    porterd: PorterdProcess, client: docker.DockerClient
) -> None:
    running = client.containers.run(IMAGE, ["sleep", "300"], detach=True, network_mode="none")
    try:
        before = settled_threads(porterd)
        waits = [SentWait(porterd, running.id, "next-exit") for _ in range(4)]
        until(lambda: porterd_threads(porterd) >= before + 4)  # a thread holds each connection
        for sent in waits:
            sent.connection.close()
        until(lambda: porterd_threads(porterd) <= before)
    finally:
        running.remove(force=True)
