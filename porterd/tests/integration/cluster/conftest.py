"""One 3-member etcd for the cluster tests of a session (each test under a key prefix of its
own), started on loopback addresses 127.0.0.11-13 and stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from porterd.cluster.etcd import EtcdClient
from porterd.cluster.node import ClusterNode
from porterd.cluster.store import ClusterStore

from ...etcd_support import EtcdCluster, etcd_cluster, unavailable
from .cluster_nodes import ClusterHosts, module_cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    if unavailable() is not None:
        pytest.skip(str(unavailable()))
    with etcd_cluster(tmp_path_factory.mktemp("etcd"), first_address=11) as cluster:
        yield cluster


@pytest.fixture
def etcd(cluster: EtcdCluster) -> EtcdClient:
    return EtcdClient(cluster.endpoints, timeout=3)


@pytest.fixture
def space(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test uses."""
    return f"/t/{request.node.name}/"


@pytest.fixture
def store(etcd: EtcdClient, space: str) -> ClusterStore:
    return ClusterStore(etcd, prefix=space)


@pytest.fixture
def node(cluster: EtcdCluster, space: str, tmp_path: Path) -> Iterator[ClusterNode]:
    """This test's porterd as a cluster node named alpha, without an agent."""
    node = ClusterNode(
        endpoints=cluster.endpoints,
        advertise_addr="127.0.0.1",
        data_root=tmp_path,
        hostname="alpha",
        prefix=space,
    )
    node.start()
    yield node
    node.stop()


@pytest.fixture
def other_node(node: ClusterNode) -> Iterator[Callable[..., str]]:
    """Record another node (no porterd behind it) in the test's cluster: ready while a lease of
    its own lives, or down; its id. Its lease is revoked afterwards."""
    etcd, leases = node.store.etcd, []

    def make(hostname: str, ready: bool) -> str:
        lease = etcd.grant(60)
        leases.append(lease)
        node_id = f"{hostname}-{lease:x}"
        node.store.register_node(
            node_id, hostname=hostname, addr="127.0.0.2", resources={}, lease=lease
        )
        if not ready:
            etcd.revoke(lease)
        return node_id

    yield make
    for lease in leases:
        etcd.revoke(lease)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    """Three real porterd nodes with the busybox image, shared by a module's tests (a module
    that needs more defines its own)."""
    with module_cluster(tmp_path_factory) as hosts:
        yield hosts
