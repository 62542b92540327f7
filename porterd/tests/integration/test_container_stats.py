"""`docker stats` figures of a real porterd's containers, driven by docker-py: the network
counters of the container's own interfaces and dockerd's block I/O keys."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, missing_host_feature

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(missing_host_feature() is not None, reason=str(missing_host_feature())),
]
# A veth pair of the container's own (busybox names the peer), up, and one ARP request out.
VETH = (
    "ip link add v0 type veth peer name v1 && for link in $(ls /sys/class/net); do"
    " ip link set $link up; done && ip addr add 10.99.0.1/24 dev v0 &&"
    " ping -c 1 -W 1 10.99.0.2; sleep 60"
)


@pytest.fixture
def container(module_client: docker.DockerClient) -> Iterator[Container]:
    created = module_client.containers.run(
        IMAGE, ["sh", "-c", VETH], detach=True, network_mode="none", cap_add=["NET_ADMIN"]
    )
    yield created
    created.remove(force=True)


def sample_when(container: Container, ready: Any, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = container.stats(stream=False)
        if ready(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.2)


def test_network_counters_are_the_container_interfaces_without_loopback(
    container: Container,
) -> None:
    stats = sample_when(container, lambda s: s["networks"].get("v0", {}).get("tx_packets"))
    assert "lo" not in stats["networks"]
    assert stats["networks"]["v0"]["tx_packets"] >= 1 and stats["networks"]["v0"]["tx_bytes"] > 0
    assert set(stats["networks"]["v0"]) == {
        f"{way}_{what}"
        for way in ("rx", "tx")
        for what in ("bytes", "packets", "errors", "dropped")
    }


def temp_on_a_block_device() -> bool:
    """Whether the data roots of the tests (in the temp folder) are on a block device, whose
    I/O the kernel accounts to cgroups (a tmpfs has none)."""
    return os.major(os.stat(tempfile.gettempdir()).st_dev) != 0


@pytest.mark.skipif(not temp_on_a_block_device(), reason="the temp folder is on no block device")
def test_a_container_s_disk_writes_show_in_its_block_io(module_client: docker.DockerClient) -> None:
    script = "dd if=/dev/zero of=/tmp/written bs=4096 count=64 conv=fsync; sleep 60"
    writer = module_client.containers.run(
        IMAGE, ["sh", "-c", script], detach=True, network_mode="none"
    )
    try:
        stats = sample_when(writer, lambda s: written(s["blkio_stats"]) > 0)
    finally:
        writer.remove(force=True)
    assert written(stats["blkio_stats"]) > 0
    for entry in stats["blkio_stats"]["io_serviced_recursive"]:
        assert set(entry) == {"major", "minor", "op", "value"}


def written(blkio: dict[str, Any]) -> int:
    entries = blkio["io_service_bytes_recursive"]
    return sum(entry["value"] for entry in entries if entry["op"].lower() == "write")


def test_a_stopped_container_reports_no_networks(container: Container) -> None:
    container.stop(timeout=0)
    assert container.stats(stream=False)["networks"] == {}
