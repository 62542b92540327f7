"""The cluster's overlay networks in etcd, and their address leases (cluster-wide IPAM).

    PREFIX/overlays/ID                 the network, as a NetworkRecord's fields (driver overlay)
    PREFIX/overlay-names/NAME          its id
    PREFIX/overlay-vnis/VNI            its id: no VXLAN id is handed out twice
    PREFIX/overlay-epoch               rewritten by every create and remove: a create compares
                                       it with the one it read, so two creates at once cannot
                                       take overlapping subnets
    PREFIX/overlay-leases/ID/ADDRESS   the endpoint holding the address: Node, Container,
                                       Name, Aliases (what the embedded DNS answers from)

Creating a network (name, VXLAN id, subnet) and removing it (with its leases) are each one
transaction; so is leasing an address, which succeeds only while no one holds it, and
releasing one, which succeeds only while the container releasing it still holds it.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from porterd.cluster.etcd import (
    Compare,
    Delete,
    EtcdClient,
    KeyValue,
    Put,
    key_at,
    key_missing,
)
from porterd.errors import Conflict, Forbidden, InvalidParameter, NotFound, Unavailable
from porterd.network.definitions import now
from porterd.network.ipam import Address, AddressPool, Network, Range, check_free, next_subnet
from porterd.network.records import NetworkRecord, find_network

VNI_FIRST, VNI_LAST = 4097, (1 << 24) - 1  # swarm's VXLAN ids start after 4096
# swarm's --default-addr-pool: 10.0.0.0/8 in /24s
DEFAULT_POOL = AddressPool(ipaddress.ip_network("10.0.0.0/8"), 24)
VXLAN_OPTION = "com.docker.network.driver.overlay.vxlanid_list"
MTU_OPTION = "com.docker.network.driver.mtu"
UNDERLAY_MTU = 1500
VXLAN_OVERHEAD = 50  # outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8
ATTEMPTS = 8  # transactions tried before a create or a lease gives up under contention


def next_vni(used: set[int]) -> int:
    """The lowest VXLAN id from VNI_FIRST that no network holds."""
    vni = VNI_FIRST
    while vni in used:
        vni += 1
    if vni > VNI_LAST:
        raise Unavailable("no VXLAN id is left for an overlay network")
    return vni


def overlay_range(
    ipam: Sequence[dict[str, str]], used: Sequence[Network], pool: AddressPool = DEFAULT_POOL
) -> Range:
    """The IPv4 range of a new overlay: the Subnet given (refused if it overlaps a network of
    the cluster) or the first free one of the pool."""
    if len(ipam) > 1:
        raise InvalidParameter("an overlay network takes one IPAM config")
    config = ipam[0] if ipam else {}
    if not config.get("Subnet"):
        if config:
            raise InvalidParameter("an IPAM config needs a Subnet")
        return Range.build(next_subnet([pool], used))
    subnet = ipaddress.ip_network(config["Subnet"], strict=False)
    if subnet.version != 4:
        raise InvalidParameter(f"overlay subnet {subnet}: only IPv4 is supported")
    check_free(subnet, used)
    return Range.build(subnet, config.get("Gateway", ""), config.get("IPRange", ""))


def lease_address(family: Range, taken: set[str], wanted: str = "") -> Address:
    """The address an endpoint gets: `wanted` if free, else the lowest free one."""
    if wanted:
        address = ipaddress.ip_address(wanted)
        family.check_static(address, taken)
        return address
    return family.pick(taken)


class OverlayStore:
    def __init__(self, etcd: EtcdClient, prefix: str) -> None:
        self.etcd = etcd
        self.prefix = prefix.rstrip("/") + "/"

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def networks(self) -> list[NetworkRecord]:
        return [_record(kv) for kv in self.etcd.prefix(self.key("overlays", ""))]

    def find(self, ref: str) -> NetworkRecord | None:
        return find_network(self.networks(), ref)

    def create(
        self,
        name: str,
        *,
        attachable: bool,
        internal: bool,
        ipam: Sequence[dict[str, str]],
        labels: dict[str, str],
        options: dict[str, str],
    ) -> NetworkRecord:
        """A new overlay network, or Conflict for a name taken or a subnet that overlaps."""
        epoch_key = self.key("overlay-epoch")
        for _ in range(ATTEMPTS):
            epoch = self.etcd.get(epoch_key)  # read first: a create after it changes it
            existing = self.networks()
            if any(n.name == name for n in existing):
                raise Conflict(f"network with name {name} already exists")
            used = [ipaddress.ip_network(n.ipv4["Subnet"]) for n in existing]
            record = _new_record(name, existing, overlay_range(ipam, used), options)
            record.attachable, record.internal, record.labels = attachable, internal, labels
            vni = record.options[VXLAN_OPTION]
            names = self.key("overlay-names", name)
            unchanged = key_at(epoch_key, epoch.mod_revision) if epoch else key_missing(epoch_key)
            result = self.etcd.txn(
                [key_missing(names), key_missing(self.key("overlay-vnis", vni)), unchanged],
                [
                    Put(self.key("overlays", record.id), json.dumps(asdict(record))),
                    Put(names, record.id),
                    Put(self.key("overlay-vnis", vni), record.id),
                    Put(epoch_key, record.id),
                ],
            )
            if result.succeeded:
                return record
        raise Conflict(f"network {name}: the cluster's networks kept changing; try again")

    def check_attachments(self, spec: dict[str, Any]) -> None:
        """Each network a service's tasks join exists (NotFound names one that does not)."""
        targets = [n["Target"] for n in spec.get("TaskTemplate", {}).get("Networks") or []]
        networks = self.networks() if targets else []
        for target in targets:
            if find_network(networks, target) is None:
                raise NotFound(f"network {target} not found")

    def users(self, network: NetworkRecord, services: list[dict[str, Any]]) -> list[str]:
        """Names of the services among `services` whose tasks join `network`."""
        return [
            service["Spec"]["Name"]
            for service in services
            if any(
                target.get("Target") in (network.id, network.name)
                for target in service["Spec"].get("TaskTemplate", {}).get("Networks") or []
            )
        ]

    def remove(self, network: NetworkRecord, services: list[dict[str, Any]]) -> None:
        """Remove the network with its leases; Forbidden while a service or endpoint uses it."""
        users = self.users(network, services)
        if users:
            raise Forbidden(
                f"network {network.name} is in use by service {', '.join(sorted(users))}"
            )
        if self.leases(network.id):
            raise Forbidden(
                f"error while removing network: network {network.name} id {network.id}"
                " has active endpoints"
            )
        self.etcd.txn(
            [],
            [
                Delete(self.key("overlays", network.id)),
                Delete(self.key("overlay-names", network.name)),
                Delete(self.key("overlay-vnis", network.options[VXLAN_OPTION])),
                Delete(self.key("overlay-leases", network.id, ""), prefix=True),
                Put(self.key("overlay-epoch"), network.id),
            ],
        )

    # -- leases ------------------------------------------------------------------------------

    def leases(self, network_id: str = "") -> dict[tuple[str, str], dict[str, Any]]:
        """(network id, address) -> holder, of one network or of every one."""
        prefix = (
            self.key("overlay-leases", network_id, "")
            if network_id
            else self.key("overlay-leases", "")
        )
        found = {}
        for kv in self.etcd.prefix(prefix):
            network, address = kv.key.rsplit("/", 2)[1:]
            found[(network, address)] = kv.json()
        return found

    def lease(self, network: NetworkRecord, holder: dict[str, Any], wanted: str = "") -> Address:
        """An address of `network` for `holder`, claimed in one transaction."""
        family = network.ranges[0]
        for _ in range(ATTEMPTS):
            taken = {address for _, address in self.leases(network.id)}
            address = lease_address(family, taken, wanted)
            key = self.key("overlay-leases", network.id, str(address))
            if self.etcd.txn(
                [key_missing(key), _present(self.key("overlays", network.id))],
                [Put(key, json.dumps(holder, sort_keys=True))],
            ).succeeded:
                return address
            if self.etcd.get(self.key("overlays", network.id)) is None:
                raise Conflict(f"network {network.name} was removed")
        raise Conflict(f"network {network.name}: no address could be leased; try again")

    def release(self, network_id: str, address: str, container_id: str) -> bool:
        """Give back the address `container_id` holds, and only while it holds it: a lease
        read stale (the address released meanwhile and leased again, on another node maybe)
        is the new holder's, so the delete compares the key's revision with the one read
        and leaves a lease written in between. Whether the lease was deleted."""
        key = self.key("overlay-leases", network_id, address)
        kv = self.etcd.get(key)
        if kv is None or kv.json().get("Container") != container_id:
            return False
        return self.etcd.txn([key_at(key, kv.mod_revision)], [Delete(key)]).succeeded


def _present(key: str) -> Compare:
    return Compare(key, "CREATE", "GREATER", 0)


def _record(kv: KeyValue) -> NetworkRecord:
    return NetworkRecord(**kv.json())


def _new_record(
    name: str, existing: list[NetworkRecord], family: Range, options: dict[str, str]
) -> NetworkRecord:
    network_id = secrets.token_hex(32)
    vni = next_vni({int(n.options[VXLAN_OPTION]) for n in existing})
    mtu = options.get(MTU_OPTION) or str(UNDERLAY_MTU - VXLAN_OVERHEAD)
    if not mtu.isdigit() or not 576 <= int(mtu) <= UNDERLAY_MTU - VXLAN_OVERHEAD:
        raise InvalidParameter(
            f"invalid {MTU_OPTION} {mtu!r}: 576 to {UNDERLAY_MTU - VXLAN_OVERHEAD}"
        )
    return NetworkRecord(
        id=network_id,
        name=name,
        bridge=f"ov-{network_id[:12]}",
        created=now(),
        ipv4=family.to_json(),
        options={**options, VXLAN_OPTION: str(vni), MTU_OPTION: mtu},
        driver="overlay",
    )
