"""Three porterd nodes of one cluster, each in a network namespace of its own, joined by a
bridge in a hub namespace the test makes, where a 3-member etcd runs; traffic stays there.

    hub netns:   br0 10.77.0.1/24 (+ .11 .12 .13 for the etcd members)
    node netns:  eth0 10.77.0.2N/24, a porterd --cluster-store ... --advertise-addr 10.77.0.2N

Everything is stopped and removed afterwards, even when the test fails: porterd (SIGKILL if
it does not stop), the containers and conmon it left, mounts, etcd, and the namespaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import docker

# Imported by name (as containers_support does), so that bench/cluster can use it too.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from containers_support import busybox_rootfs_tar, clean_up, client_for, import_image
from etcd_support import EtcdCluster, etcd_cluster
from network_support import entered, make_netns, remove_netns, run_in
from porterd_process import PorterdProcess, ping, porterd_argv

if TYPE_CHECKING:  # pytest only for the fixtures' helpers; bench/cluster runs without it
    import pytest

SUBNET = "10.77.0"
ETCD_ADDRESSES = [f"{SUBNET}.{11 + index}" for index in range(3)]


@dataclass
class Node:
    name: str
    workdir: Path
    netns: Path
    address: str
    porterd: PorterdProcess | None = None

    def client(self) -> docker.DockerClient:
        assert self.porterd is not None
        return client_for(self.porterd)

    def kill(self) -> None:
        """kill -9 of porterd: its containers go on under conmon."""
        if self.porterd is not None and self.porterd.process.poll() is None:
            self.porterd.process.send_signal(signal.SIGKILL)
            self.porterd.process.wait(timeout=10)


def _ip(netns: Path, *args: str) -> None:
    result = run_in(netns, "ip", *args)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


class ClusterHosts:
    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        self.hub = make_netns(root / "hub.netns")
        _ip(self.hub, "link", "add", "br0", "type", "bridge")
        _ip(self.hub, "link", "set", "br0", "up")
        for address in [f"{SUBNET}.1", *ETCD_ADDRESSES]:
            _ip(self.hub, "addr", "add", f"{address}/24", "dev", "br0")
        self.nodes: list[Node] = []
        for index in range(size):
            name = f"node{index}"
            netns = make_netns(root / f"{name}.netns")
            _ip(self.hub, "link", "add", f"h{name}", "type", "veth", "peer", "name", "eth0",
                "netns", str(netns))  # fmt: skip
            _ip(self.hub, "link", "set", f"h{name}", "master", "br0", "up")
            address = f"{SUBNET}.{20 + index}"
            _ip(netns, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip(netns, "link", "set", "eth0", "up")
            self.nodes.append(Node(name, root / name, netns, address))
        self.etcd: EtcdCluster | None = None

    def start(self, node: Node, store: str, timeout: float = 60) -> None:
        node.workdir.mkdir(parents=True, exist_ok=True)
        extra = ["--cluster-store", store, "--advertise-addr", node.address]
        # A UTS namespace of its own, so that each node has its own hostname.
        argv = [
            "nsenter", f"--net={node.netns}", "--", "unshare", "--uts", "sh", "-c",
            'hostname "$0" && exec "$@"', node.name, *porterd_argv(node.workdir, *extra),
        ]  # fmt: skip
        with open(node.workdir / "porterd.log", "ab") as log:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        node.porterd = PorterdProcess(node.workdir, process, extra)
        deadline = time.monotonic() + timeout
        while not ping(node.porterd.sock):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"porterd {node.name} did not start:\n{node.porterd.log_text()}")
            time.sleep(0.05)

    def stop(self, node: Node) -> None:
        if node.porterd is None:
            return
        if node.porterd.process.poll() is None:
            with contextlib.suppress(docker.errors.APIError, OSError):
                client = node.client()
                for container in client.containers.list(all=True):
                    with contextlib.suppress(docker.errors.APIError):
                        container.remove(force=True)
                client.close()
        node.porterd.stop(grace=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.porterd.process.pid, signal.SIGKILL)
        clean_up(node.workdir)

    def close(self) -> None:
        for node in self.nodes:
            self.stop(node)
            remove_netns(node.netns)
        remove_netns(self.hub)


def real_cluster_marks() -> list[object]:
    """The marks of a test module on real porterd nodes: integration, skipped (with the
    reason) on a host that lacks what they need."""
    import pytest
    from containers_support import missing_host_feature
    from porterd_process import unavailable

    why = unavailable() or missing_host_feature()
    return [
        pytest.mark.integration,
        pytest.mark.skipif(why is not None, reason=str(why)),
        pytest.mark.timeout(600),
    ]


@contextlib.contextmanager
def cluster_hosts(
    root: Path, rootfs_tar: Path, tags: tuple[str, ...] = ()
) -> Iterator[ClusterHosts]:
    """Three running porterd nodes with the busybox image, and the etcd they share."""
    root.mkdir(parents=True, exist_ok=True)
    hosts = ClusterHosts(root)
    try:
        (root / "etcd").mkdir()
        with entered(hosts.hub), etcd_cluster(root / "etcd", addresses=ETCD_ADDRESSES) as etcd:
            hosts.etcd = etcd
            store = ",".join(etcd.endpoints)
            for node in hosts.nodes:
                hosts.start(node, store)
                assert node.porterd is not None
                import_image(node.porterd, rootfs_tar)
                client = node.client()
                for tag in tags:  # the same image under other names, for updates
                    client.images.get("busybox:latest").tag("busybox", tag)
                client.close()
            yield hosts
    finally:
        hosts.close()


@contextlib.contextmanager
def module_cluster(
    factory: pytest.TempPathFactory, tags: tuple[str, ...] = ()
) -> Iterator[ClusterHosts]:
    """cluster_hosts in folders of pytest's `factory`, with the busybox image built there
    (under `tags` too): what a test module's cluster fixture yields."""
    rootfs = busybox_rootfs_tar(factory.mktemp("busybox"))
    with cluster_hosts(factory.mktemp("cluster"), rootfs, tags) as hosts:
        yield hosts
