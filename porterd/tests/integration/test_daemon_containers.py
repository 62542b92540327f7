"""The Daemon with containers: a clean stop (SIGTERM, SIGINT) leaves them running under conmon
for the next porterd, volumes in use by a container cannot be removed, and /info and
/system/df count them."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import (
    IMAGE,
    client_for,
    missing_host_feature,
    porterd_with_busybox,
)
from porterd_process import PorterdProcess, running_porterd

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(missing_host_feature() is not None, reason=str(missing_host_feature())),
]
NONE = {"network_mode": "none"}


@pytest.fixture(scope="module")
def porterd(
    tmp_path_factory: pytest.TempPathFactory, busybox_rootfs: Path
) -> Iterator[PorterdProcess]:
    with porterd_with_busybox(tmp_path_factory.mktemp("daemon"), busybox_rootfs) as process:
        yield process


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_clean_stop_leaves_containers_running_for_the_next_porterd(
    tmp_path: Path, busybox_rootfs: Path, signal_name: str
) -> None:
    workdir = tmp_path / "d"
    with porterd_with_busybox(workdir, busybox_rootfs) as first:
        client = client_for(first)
        container = client.containers.run(IMAGE, ["sleep", "300"], detach=True, **NONE)
        container.reload()
        pid = container.attrs["State"]["Pid"]
        first.process.send_signal(getattr(signal, signal_name))
        assert first.process.wait(60) == 0
        assert os.path.exists(f"/proc/{pid}"), "the container died with porterd"
        with running_porterd(workdir) as second:
            again = client_for(second).containers.get(container.id)
            assert again.status == "running"
            assert again.attrs["State"]["Pid"] == pid
            again.remove(force=True)


def test_a_volume_used_by_a_container_cannot_be_removed(porterd: PorterdProcess) -> None:
    client = client_for(porterd)
    volume = _name("used")
    container = client.containers.create(IMAGE, ["true"], volumes={volume: {"bind": "/data"}})
    try:
        with pytest.raises(docker.errors.APIError) as refused:
            client.volumes.get(volume).remove(force=True)
        assert refused.value.status_code == 409
        assert container.id in str(refused.value.explanation)
        pruned = client.volumes.prune(filters={"all": "true"})
        assert volume not in pruned["VolumesDeleted"]
    finally:
        container.remove()
    client.volumes.get(volume).remove()  # no user left


def test_a_volume_with_driver_options_is_mounted_when_a_container_uses_it(
    porterd: PorterdProcess,
) -> None:
    client = client_for(porterd)
    name = _name("tmpfs")
    options = {"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}
    client.volumes.create(name, driver_opts=options)
    try:
        output = client.containers.run(
            IMAGE, ["grep", " /data ", "/proc/mounts"], volumes={name: {"bind": "/data"}},
            remove=True, **NONE,
        )  # fmt: skip
        assert output.decode().split()[2] == "tmpfs"
    finally:
        client.volumes.get(name).remove()
    mountpoint = porterd.workdir / "data" / "volumes" / name / "_data"
    assert str(mountpoint) not in Path("/proc/self/mountinfo").read_text()


def test_info_and_df_count_containers(porterd: PorterdProcess) -> None:
    client = client_for(porterd)
    running = client.containers.run(IMAGE, ["sleep", "300"], detach=True, **NONE)
    stopped = client.containers.create(IMAGE, ["true"], **NONE)
    try:
        info = client.info()
        assert info["ContainersRunning"] >= 1 and info["ContainersStopped"] >= 1
        assert info["Containers"] == len(client.containers.list(all=True))
        assert info["Images"] >= 1
        usage = client.df()
        assert {running.id, stopped.id} <= {c["Id"] for c in usage["Containers"]}
        assert any("busybox:latest" in (image["RepoTags"] or []) for image in usage["Images"])
    finally:
        running.remove(force=True)
        stopped.remove()
