"""Exec sessions the runtime refuses, through the API as docker-py drives it: the exit code
is docker's (127 for a command not found, 126 for one that cannot be run) and stays there to
be inspected after the session ended, as long as any other ended session's does."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, needs_containers

pytestmark = [pytest.mark.integration, needs_containers]

MONITOR_TICKS = 1.0  # a few looks of porterd's monitor, which forgets sessions ended long ago


@pytest.fixture(scope="module")
def sleeper(module_client: docker.DockerClient) -> Iterator[Container]:
    container = module_client.containers.run(
        IMAGE, ["sleep", "600"], detach=True, network_mode="none",
        name=f"exec-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    try:
        yield container
    finally:
        container.remove(force=True)


@pytest.mark.parametrize(
    ("command", "code"),
    [("no-such-command", 127), ("/no/such/file", 127), ("/etc/passwd", 126), ("/etc", 126)],
)
@pytest.mark.parametrize("tty", [False, True], ids=["plain", "tty"])
def test_a_refused_exec_keeps_dockers_exit_code_for_inspect(
    module_client: docker.DockerClient, sleeper: Container, command: str, code: int, tty: bool
) -> None:
    exec_id = module_client.api.exec_create(sleeper.id, [command], tty=tty)["Id"]
    output = module_client.api.exec_start(exec_id, tty=tty)
    assert command.encode() in output
    time.sleep(MONITOR_TICKS)
    inspected = module_client.api.exec_inspect(exec_id)
    assert (inspected["Running"], inspected["ExitCode"]) == (False, code)


def test_a_refused_detached_exec_is_a_bad_request_with_the_code_kept(
    module_client: docker.DockerClient, sleeper: Container
) -> None:
    exec_id = module_client.api.exec_create(sleeper.id, ["no-such-command"])["Id"]
    with pytest.raises(docker.errors.APIError) as refused:
        module_client.api.exec_start(exec_id, detach=True)
    assert refused.value.status_code == 400
    time.sleep(MONITOR_TICKS)
    assert module_client.api.exec_inspect(exec_id)["ExitCode"] == 127
