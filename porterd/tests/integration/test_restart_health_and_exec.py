"""What a running container's health checks and exec sessions become when porterd is killed
(kill -9) and started again: the health status, streak and results are kept and the probes go
on; an exec from before the restart is not found any more, as dockerd's, and one still
running is named in porterd's log, not lost silently."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, client_for, needs_containers, porterd_with_busybox, until
from porterd_process import PorterdProcess, running_porterd

pytestmark = [pytest.mark.integration, needs_containers]
PROBE_INTERVAL_NS = 2_000_000_000


@contextlib.contextmanager
def killed_and_started_again(porterd: PorterdProcess) -> Iterator[docker.DockerClient]:
    """porterd killed with SIGKILL, then a new one on the same roots; docker-py on it."""
    porterd.process.kill()
    porterd.process.wait()
    with running_porterd(porterd.workdir) as again:
        client = client_for(again)
        try:
            yield client
        finally:
            for container in client.containers.list(all=True):
                container.remove(force=True)
            client.close()


def health(client: docker.DockerClient, container_id: str) -> dict:
    return client.api.inspect_container(container_id)["State"]["Health"]


def test_health_status_and_results_are_kept_and_probes_go_on(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    with porterd_with_busybox(tmp_path / "d", busybox_rootfs) as porterd:
        client = client_for(porterd)
        container = client.containers.run(
            IMAGE, ["sleep", "300"], detach=True, network_mode="none",
            healthcheck={"test": ["CMD", "true"], "interval": PROBE_INTERVAL_NS},
        )  # fmt: skip
        until(lambda: health(client, container.id)["Status"] == "healthy")
        before = health(client, container.id)["Log"]
        client.close()
        with killed_and_started_again(porterd) as client:
            kept = health(client, container.id)
            assert kept["Status"] == "healthy" and kept["Log"][: len(before)] == before
            until(lambda: len(health(client, container.id)["Log"]) > len(before))
            assert health(client, container.id)["Log"][-1]["ExitCode"] == 0


def test_an_exec_from_before_the_restart_is_not_found_and_logged(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    with porterd_with_busybox(tmp_path / "d", busybox_rootfs) as porterd:
        client = client_for(porterd)
        container = client.containers.run(IMAGE, ["sleep", "300"], detach=True, network_mode="none")
        running = client.api.exec_create(container.id, ["sleep", "300"])["Id"]
        client.api.exec_start(running, detach=True)
        ended = client.api.exec_create(container.id, ["true"])["Id"]
        client.api.exec_start(ended)
        client.close()
        with killed_and_started_again(porterd) as client:
            for exec_id in (running, ended):
                with pytest.raises(docker.errors.NotFound):
                    client.api.exec_inspect(exec_id)
            assert client.api.inspect_container(container.id)["ExecIDs"] is None
            log = (porterd.workdir / "porterd.log").read_text(errors="replace")
            assert f"exec {running} in container {container.id}" in log
            assert f"exec {ended}" not in log
            assert client.containers.get(container.id).exec_run(["echo", "again"]).output == (
                b"again\n"
            )
