"""Networks and endpoints as porterd keeps them in its sqlite database.

A network row holds its settings as JSON; an endpoint row is one container's place on one
network (its interface, addresses, aliases, published ports). Leases are a table of their own
with a primary key on (network, address): the database itself refuses to hand one out twice.
Each is written in the transaction that decides it, before any link or rule is made.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from porterd.errors import InvalidParameter
from porterd.network.ipam import Range, parse_address, parse_subnet
from porterd.network.ports import PortBinding
from porterd.state import Database

MIGRATIONS = [
    "CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, document TEXT)",
    "CREATE TABLE endpoints (container_id TEXT NOT NULL, network_id TEXT NOT NULL,"
    " document TEXT, PRIMARY KEY (container_id, network_id))",
    "CREATE TABLE leases (network_id TEXT NOT NULL, address TEXT NOT NULL,"
    " container_id TEXT NOT NULL, PRIMARY KEY (network_id, address))",
    "CREATE TABLE ports (container_id TEXT PRIMARY KEY, document TEXT)",
]


@dataclass
class NetworkRecord:
    id: str
    name: str
    bridge: str
    created: str
    ipv4: dict[str, str]  # Range.to_json()
    ipv6: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    attachable: bool = False
    icc: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    default: bool = False  # the `bridge` network: no DNS by name, as dockerd's
    driver: str = "bridge"  # or "overlay": a network of the cluster (porterd.cluster.overlay)

    @property
    def ranges(self) -> list[Range]:
        return [
            Range.build(parse_subnet(r["Subnet"]), r["Gateway"], r.get("IPRange", ""))
            for r in (self.ipv4, self.ipv6)
            if r
        ]

    @property
    def enable_ipv6(self) -> bool:
        return bool(self.ipv6)

    @property
    def mtu(self) -> int:
        """The MTU of its bridge and veths (an overlay's is lowered for the VXLAN header)."""
        mtu = self.options.get("com.docker.network.driver.mtu", "")
        return int(mtu) if mtu.isdigit() else 1500


def find_network(networks: list[NetworkRecord], ref: str) -> NetworkRecord | None:
    """The network of `networks` with id, name or unambiguous id prefix `ref`."""
    for network in networks:
        if ref in (network.id, network.name):
            return network
    matches = [n for n in networks if ref and n.id.startswith(ref)]
    if len(matches) > 1:
        raise InvalidParameter(f"network {ref} is ambiguous ({len(matches)} matches found)")
    return matches[0] if matches else None


@dataclass
class Endpoint:
    container_id: str
    network_id: str
    id: str
    interface: str  # inside the container: eth0, eth1, ...
    host_veth: str
    mac: str
    ipv4: str
    ipv6: str = ""
    aliases: list[str] = field(default_factory=list)
    static: dict[str, str] = field(default_factory=dict)  # IPAMConfig asked for
    name: str = ""  # the container's name, for DNS

    def addresses(self) -> list[str]:
        return [a for a in (self.ipv4, self.ipv6) if a]


class NetworkStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        database.migrate("network", MIGRATIONS)

    # networks
    def networks(self) -> list[NetworkRecord]:
        rows = self.database.query("SELECT document FROM networks ORDER BY name")
        return [NetworkRecord(**json.loads(row["document"])) for row in rows]

    def add_network(self, connection: sqlite3.Connection, network: NetworkRecord) -> None:
        connection.execute(
            "INSERT INTO networks (id, name, document) VALUES (?, ?, ?)",
            (network.id, network.name, json.dumps(asdict(network))),
        )

    def delete_network(self, connection: sqlite3.Connection, network_id: str) -> None:
        connection.execute("DELETE FROM networks WHERE id = ?", (network_id,))

    # endpoints
    def endpoints(self, *, container_id: str = "", network_id: str = "") -> list[Endpoint]:
        where, args = [], []
        for column, value in (("container_id", container_id), ("network_id", network_id)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT document FROM endpoints"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.database.query(sql + " ORDER BY rowid", args)
        return [Endpoint(**json.loads(row["document"])) for row in rows]

    def put_endpoint(self, connection: sqlite3.Connection, endpoint: Endpoint) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO endpoints (container_id, network_id, document)"
            " VALUES (?, ?, ?)",
            (endpoint.container_id, endpoint.network_id, json.dumps(asdict(endpoint))),
        )

    def update_endpoint(self, connection: sqlite3.Connection, endpoint: Endpoint) -> None:
        """The endpoint's document rewritten in place (its order among the container's kept)."""
        connection.execute(
            "UPDATE endpoints SET document = ? WHERE container_id = ? AND network_id = ?",
            (json.dumps(asdict(endpoint)), endpoint.container_id, endpoint.network_id),
        )

    def delete_endpoint(self, connection: sqlite3.Connection, endpoint: Endpoint) -> None:
        connection.execute(
            "DELETE FROM endpoints WHERE container_id = ? AND network_id = ?",
            (endpoint.container_id, endpoint.network_id),
        )
        connection.execute(
            "DELETE FROM leases WHERE network_id = ? AND container_id = ?",
            (endpoint.network_id, endpoint.container_id),
        )

    # leases
    def leased(self, connection: sqlite3.Connection, network_id: str) -> set[str]:
        rows = connection.execute(
            "SELECT address FROM leases WHERE network_id = ?", (network_id,)
        ).fetchall()
        return {row["address"] for row in rows}

    def forget_leases(self, connection: sqlite3.Connection, network_id: str) -> None:
        connection.execute("DELETE FROM leases WHERE network_id = ?", (network_id,))

    def lease(
        self, connection: sqlite3.Connection, network_id: str, address: str, container_id: str
    ) -> None:
        connection.execute(
            "INSERT INTO leases (network_id, address, container_id) VALUES (?, ?, ?)",
            (network_id, str(parse_address(address)), container_id),
        )

    def leases(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.database.query("SELECT * FROM leases")]

    # published ports (the host ports chosen, kept while the container exists)
    def ports(self, container_id: str) -> list[PortBinding]:
        rows = self.database.query(
            "SELECT document FROM ports WHERE container_id = ?", (container_id,)
        )
        return [PortBinding(**item) for row in rows for item in json.loads(row["document"])]

    def put_ports(
        self, connection: sqlite3.Connection, container_id: str, bindings: list[PortBinding]
    ) -> None:
        connection.execute("DELETE FROM ports WHERE container_id = ?", (container_id,))
        if bindings:
            connection.execute(
                "INSERT INTO ports (container_id, document) VALUES (?, ?)",
                (container_id, json.dumps([b.to_json() for b in bindings])),
            )
