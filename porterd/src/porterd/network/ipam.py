"""Address management: subnets for networks from the address pools, addresses for endpoints.

The pools are dockerd's `--default-address-pool base=...,size=...` (the default bridge may
instead be pinned with `--bip`). A subnet is handed to a network only when it overlaps no
other network's; an address only when no lease in the database holds it, so the same address
is never given twice, across restarts too (the leases live in the daemon's sqlite).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from porterd.errors import Conflict, InvalidParameter, Unavailable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AddressPool:
    """`base` cut into subnets of prefix length `size` (dockerd's default-address-pool)."""

    base: Network
    size: int

    @classmethod
    def parse(cls, text: str) -> AddressPool:
        """`base=172.18.0.0/16,size=24` as dockerd's flag spells it."""
        fields = dict(part.partition("=")[::2] for part in text.split(",") if part)
        try:
            base = ipaddress.ip_network(fields["base"], strict=False)
            size = int(fields["size"])
        except (KeyError, ValueError) as error:
            raise InvalidParameter(f"invalid default address pool {text!r}: {error}") from None
        if not base.prefixlen <= size <= base.max_prefixlen:
            raise InvalidParameter(f"invalid default address pool {text!r}: size {size}")
        return cls(base, size)

    def subnets(self) -> Iterable[Network]:
        return self.base.subnets(new_prefix=self.size)


# dockerd's defaults: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s
DEFAULT_POOLS = (
    AddressPool(ipaddress.ip_network("172.17.0.0/16"), 16),
    AddressPool(ipaddress.ip_network("172.18.0.0/15"), 16),
    AddressPool(ipaddress.ip_network("172.20.0.0/14"), 16),
    AddressPool(ipaddress.ip_network("172.24.0.0/14"), 16),
    AddressPool(ipaddress.ip_network("172.28.0.0/14"), 16),
    AddressPool(ipaddress.ip_network("192.168.0.0/16"), 20),
)


def parse_subnet(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidParameter(f"invalid subnet {text!r}") from None


def parse_address(text: str) -> Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise InvalidParameter(f"invalid address {text!r}") from None


def check_free(subnet: Network, used: Sequence[Network]) -> None:
    """Conflict (as dockerd's) when `subnet` overlaps a network's subnet already in use."""
    for other in used:
        if other.version == subnet.version and subnet.overlaps(other):
            raise Conflict(f"Pool overlaps with other one on this address space ({other})")


def next_subnet(pools: Sequence[AddressPool], used: Sequence[Network]) -> Network:
    """The first subnet of the pools that overlaps none of `used`."""
    for pool in pools:
        for subnet in pool.subnets():
            if not any(
                other.version == subnet.version and subnet.overlaps(other) for other in used
            ):
                return subnet
    raise Unavailable("could not find an available, non-overlapping IPv4 address pool")


@dataclass(frozen=True)
class Range:
    """A network's addresses for one family: subnet, gateway, and the range handed out."""

    subnet: Network
    gateway: Address
    ip_range: Network

    @classmethod
    def build(cls, subnet: Network, gateway: str = "", ip_range: str = "") -> Range:
        if subnet.num_addresses < 4:
            raise InvalidParameter(f"subnet {subnet} is too small for a network")
        gate = parse_address(gateway) if gateway else next(subnet.hosts())
        if gate not in subnet:
            raise InvalidParameter(f"no matching subnet for gateway {gateway}")
        pool = parse_subnet(ip_range) if ip_range else subnet
        if not pool.subnet_of(subnet):  # type: ignore[arg-type]
            raise InvalidParameter(f"no matching subnet for range {ip_range}")
        return cls(subnet, gate, pool)

    def reserved(self) -> set[Address]:
        return {self.subnet.network_address, self.subnet.broadcast_address, self.gateway}

    def pick(self, taken: set[str]) -> Address:
        """The lowest address of the range that is neither reserved nor in `taken`."""
        reserved = self.reserved()
        for offset in range(min(self.ip_range.num_addresses, 1 << 20)):
            address = self.ip_range.network_address + offset
            if address not in reserved and str(address) not in taken:
                return address
        raise Unavailable(f"no available IPv{self.subnet.version} addresses on {self.subnet}")

    def check_static(self, address: Address, taken: set[str]) -> None:
        if address not in self.subnet:
            raise InvalidParameter(f"no configured subnet contains IP address {address}")
        if address in self.reserved() or str(address) in taken:
            raise Conflict(f"Address already in use: {address}")

    def to_json(self) -> dict[str, str]:
        document = {"Subnet": str(self.subnet), "Gateway": str(self.gateway)}
        if self.ip_range != self.subnet:
            document["IPRange"] = str(self.ip_range)
        return document
