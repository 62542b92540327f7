"""`rm -f`'s SIGKILL sent straight to a container's first process, only when that is safe."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from porterd.containers.conmon import pid_alive
from porterd.containers.record import Container, State
from porterd.containers.status import Status
from porterd.containers.stopping import kill_init


def container(pid: int, conmon_pid: int) -> Container:
    return Container(
        id="c" * 64, name="/c", created="2026-01-01T00:00:00Z", image="busybox",
        image_id="sha256:" + "0" * 64, image_config={}, lowerdirs=(), config={},
        host_config={}, runtime="porter-runtime",
        state=State(status=Status.RUNNING, pid=pid, conmon_pid=conmon_pid),
    )  # fmt: skip


def child_of(parent: int) -> int:
    """The pid of `parent`'s one child, once it has one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for task in os.listdir(f"/proc/{parent}/task"):
            children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.01)
    raise AssertionError(f"{parent} started no child")


@contextmanager
def running(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(argv)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_process_in_porterd_s_own_pid_namespace_is_left_to_the_runtime() -> None:
    with running(["sleep", "60"]) as sleeper:
        assert not kill_init(container(sleeper.pid, conmon_pid=os.getpid()))
        assert pid_alive(sleeper.pid)


def test_a_pid_that_is_not_conmon_s_child_is_left_to_the_runtime() -> None:
    with running(["sleep", "60"]) as sleeper:
        assert not kill_init(container(sleeper.pid, conmon_pid=1))  # reused by another process
        assert pid_alive(sleeper.pid)


def test_a_container_without_a_process_is_left_to_the_runtime() -> None:
    assert not kill_init(container(0, 0))


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="a PID namespace of its own needs root and unshare",
)
def test_the_first_process_of_a_pid_namespace_of_its_own_is_killed() -> None:
    with running(["unshare", "--pid", "--fork", "sleep", "60"]) as monitor:  # conmon's place
        init = child_of(monitor.pid)
        assert kill_init(container(init, conmon_pid=monitor.pid))
        monitor.wait(timeout=10)  # unshare ends once its child does: sleep 60 was killed
        assert not os.path.exists(f"/proc/{init}")
