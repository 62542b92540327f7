"""porterd.cluster.overlay_store against a real etcd: overlay networks and their address
leases, each decided in one transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from porterd.cluster.etcd import EtcdClient, KeyValue
from porterd.cluster.overlay_store import OverlayStore
from porterd.cluster.store import ClusterStore
from porterd.errors import Conflict, Forbidden, NotFound
from porterd.network.records import NetworkRecord

pytestmark = pytest.mark.integration
VXLAN = "com.docker.network.driver.overlay.vxlanid_list"


@pytest.fixture
def overlays(etcd: EtcdClient, space: str) -> OverlayStore:
    return OverlayStore(etcd, space)


def create(overlays: OverlayStore, name: str, subnet: str = "") -> NetworkRecord:
    return overlays.create(
        name,
        attachable=False,
        internal=False,
        ipam=[{"Subnet": subnet}] if subnet else [],
        labels={},
        options={},
    )


def holder(container: str) -> dict[str, object]:
    return {"Node": "n1", "Container": container, "Name": container, "Aliases": []}


def test_networks_get_distinct_vxlan_ids_and_subnets(overlays: OverlayStore) -> None:
    first, second = create(overlays, "a"), create(overlays, "b")
    assert (first.options[VXLAN], first.ipv4["Subnet"]) == ("4097", "10.0.0.0/24")
    assert (second.options[VXLAN], second.ipv4["Subnet"]) == ("4098", "10.0.1.0/24")
    assert {n.name for n in overlays.networks()} == {"a", "b"}


def test_creates_at_once_never_share_a_subnet_or_vxlan_id(overlays: OverlayStore) -> None:
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda i: create(overlays, f"n{i}"), range(4)))
    assert len({n.ipv4["Subnet"] for n in made}) == len({n.options[VXLAN] for n in made}) == 4


def test_a_name_taken_is_refused(overlays: OverlayStore) -> None:
    create(overlays, "a")
    with pytest.raises(Conflict, match="already exists"):
        create(overlays, "a")


def test_an_overlapping_subnet_is_refused_and_nothing_is_stored(overlays: OverlayStore) -> None:
    create(overlays, "a", "10.20.0.0/16")
    with pytest.raises(Conflict, match="overlaps"):
        create(overlays, "b", "10.20.5.0/24")
    assert [n.name for n in overlays.networks()] == ["a"]


def test_each_lease_gets_an_address_no_other_holds(overlays: OverlayStore) -> None:
    network = create(overlays, "a", "10.30.0.0/24")
    with ThreadPoolExecutor(4) as pool:
        addresses = list(pool.map(lambda i: overlays.lease(network, holder(f"c{i}")), range(6)))
    assert sorted(str(a) for a in addresses) == [f"10.30.0.{n}" for n in range(2, 8)]


def test_a_released_address_is_handed_out_again(overlays: OverlayStore) -> None:
    network = create(overlays, "a", "10.30.0.0/24")
    address = overlays.lease(network, holder("c1"))
    assert overlays.release(network.id, str(address), "c1")
    assert overlays.lease(network, holder("c2")) == address


def test_a_release_by_a_container_that_no_longer_holds_the_address_leaves_the_lease(
    overlays: OverlayStore,
) -> None:
    network = create(overlays, "a", "10.30.0.0/24")
    address = str(overlays.lease(network, holder("c1")))
    overlays.release(network.id, address, "c1")
    overlays.lease(network, holder("c2"), address)
    assert not overlays.release(network.id, address, "c1")  # c1's lease, read stale
    assert overlays.leases(network.id) == {(network.id, address): holder("c2")}


def test_an_address_leased_again_between_a_release_s_read_and_its_delete_stays_leased(
    etcd: EtcdClient, space: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release reads c1's lease; before it deletes, c1's address is released by another
    round and leased to c2 on another node: the delete must not take c2's lease."""
    overlays = OverlayStore(etcd, space)
    network = create(overlays, "a", "10.30.0.0/24")
    address = str(overlays.lease(network, holder("c1")))
    other = OverlayStore(EtcdClient(etcd.endpoints, timeout=3), space)
    read = etcd.get

    def read_then_lease_again(key: str, **options: bool) -> KeyValue | None:
        kv = read(key, **options)
        monkeypatch.setattr(etcd, "get", read)
        assert other.release(network.id, address, "c1")
        other.lease(network, {**holder("c2"), "Node": "n2"}, address)
        return kv

    monkeypatch.setattr(etcd, "get", read_then_lease_again)
    assert not overlays.release(network.id, address, "c1")
    assert overlays.leases(network.id) == {(network.id, address): {**holder("c2"), "Node": "n2"}}


def test_a_lease_on_a_removed_network_is_refused(overlays: OverlayStore) -> None:
    network = create(overlays, "a")
    overlays.remove(network, [])
    with pytest.raises(Conflict, match="was removed"):
        overlays.lease(network, holder("c1"))


def test_removal_is_refused_while_a_service_uses_the_network(overlays: OverlayStore) -> None:
    network = create(overlays, "a")
    service = {"Spec": {"Name": "web", "TaskTemplate": {"Networks": [{"Target": "a"}]}}}
    with pytest.raises(Forbidden, match="in use by service web"):
        overlays.remove(network, [service])


def test_removal_is_refused_while_an_endpoint_holds_an_address(overlays: OverlayStore) -> None:
    network = create(overlays, "a")
    overlays.lease(network, holder("c1"))
    with pytest.raises(Forbidden, match="active endpoints"):
        overlays.remove(network, [])


def test_a_removed_network_frees_its_name_and_vxlan_id(overlays: OverlayStore) -> None:
    network = create(overlays, "a")
    overlays.remove(network, [])
    again = create(overlays, "a")
    assert again.options[VXLAN] == network.options[VXLAN]
    assert overlays.find("a") == again


def test_a_lease_records_its_holder(overlays: OverlayStore) -> None:
    network = create(overlays, "a")
    address = overlays.lease(network, {"Node": "n1", "Aliases": ["web"]})
    assert overlays.leases(network.id) == {
        (network.id, str(address)): {"Node": "n1", "Aliases": ["web"]}
    }


def service_spec(network: str) -> dict[str, object]:
    return {
        "Name": "web",
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}, "Networks": [{"Target": network}]},
    }


def test_a_service_on_a_network_the_cluster_lacks_is_refused(store: ClusterStore) -> None:
    with pytest.raises(NotFound, match="network nowhere not found"):
        store.create_service(service_spec("nowhere"))
    assert store.services() == []


def test_a_service_joins_an_overlay_by_name(store: ClusterStore, overlays: OverlayStore) -> None:
    create(overlays, "front")
    created = store.create_service(service_spec("front"))
    assert created["Spec"]["TaskTemplate"]["Networks"] == [{"Target": "front"}]
