"""porterd's nftables rules: one `inet porter` table (and one `bridge porter` table for
`icc=false`), rendered whole from the networks and published ports and swapped in one
atomic `nft -f` transaction. porterd never touches another table, so the host's own rules and
anyone else's (docker's, podman's) stay as they are.

What the rules do, as dockerd's iptables rules do:
- outbound NAT: a network's subnets are masqueraded when they leave by another interface
  (not for `--internal` networks, which may not leave their bridge at all);
- isolation: with icc=false the ports of a bridge do not reach each other; a bridge
  forwards to no other of porterd's bridges (except replies and
  published-port traffic, which the host has translated);
- published ports: DNAT of traffic to the host's addresses (from outside, from containers:
  hairpin, and from the host itself), with the source masqueraded where the reply would
  otherwise bypass the translation; not of traffic to 127.0.0.0/8, which the userland proxy
  serves, as docker-proxy does;
- the services' routing mesh (porterd.cluster.mesh renders its chains): checked before the
  published ports, its connections marked MESH_MARK and masqueraded when they leave by an
  interface that is not one of porterd's bridges (to another node), so replies come back.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from porterd.errors import DaemonError

TABLE = "porter"
MESH_MARK = 0x504D  # ct mark of the routing mesh's connections


class FirewallError(DaemonError):
    """nft refused porterd's ruleset."""


@dataclass(frozen=True)
class BridgeRules:
    bridge: str
    subnets: tuple[str, ...]
    internal: bool = False
    icc: bool = True
    veths: tuple[str, ...] = ()  # the host ends plugged into it (for icc=false)


@dataclass(frozen=True)
class PortRule:
    protocol: str  # tcp | udp
    host_ip: str  # "" for every address of the host
    host_port: int
    container_ip: str
    container_port: int


def _quote(name: str) -> str:
    return f'"{name}"'


def _family(address: str) -> str:
    return "ip6" if ":" in address else "ip"


def render(bridges: Sequence[BridgeRules], ports: Sequence[PortRule], mesh: str = "") -> str:
    """The nft script that replaces porterd's tables with these rules; `mesh`, the routing
    mesh's chains (a `chain mesh` among them), is jumped to first."""
    names = ", ".join(_quote(b.bridge) for b in bridges)
    lines = [
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        f"table bridge {TABLE}",
        f"delete table bridge {TABLE}",
        f"table inet {TABLE} {{",
    ]
    if bridges:
        lines.append(f"  set bridges {{ type ifname; elements = {{ {names} }} }}")
    else:
        lines.append("  set bridges { type ifname; }")
    to_mesh = ["    fib daddr type local jump mesh"] if mesh else []
    if mesh:
        lines.append(mesh.rstrip("\n"))
    lines += [
        "  chain published {",
        # loopback is the userland proxy's (porterd.network.proxy)
        "    ip daddr 127.0.0.0/8 return",
        "    ip6 daddr ::1 return",
        *(f"    {_dnat(port)}" for port in ports),
        "  }",
        "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;",
        *to_mesh,
        "    fib daddr type local jump published",
        "  }",
        "  chain output { type nat hook output priority -100; policy accept;",
        *to_mesh,
        "    fib daddr type local jump published",
        "  }",
        "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;",
        "    ip saddr 127.0.0.0/8 oifname @bridges masquerade",
        "    ct status dnat iifname @bridges oifname @bridges masquerade",
        f"    ct mark {MESH_MARK:#x} oifname != @bridges masquerade",
    ]
    for bridge in bridges:
        if not bridge.internal:
            for subnet in bridge.subnets:
                lines.append(
                    f"    {_family(subnet)} saddr {subnet} oifname != {_quote(bridge.bridge)}"
                    " masquerade"
                )
    lines += [
        "  }",
        "  chain forward { type filter hook forward priority filter; policy accept;",
        "    ct state established,related accept",
        "    ct status dnat accept",
    ]
    for bridge in bridges:
        name = _quote(bridge.bridge)
        if bridge.internal:
            lines.append(f"    iifname {name} oifname != {name} drop")
            lines.append(f"    oifname {name} iifname != {name} drop")
        else:
            lines.append(f"    iifname {name} oifname != {name} oifname @bridges drop")
    lines += ["  }", "}"]
    closed = [b for b in bridges if not b.icc]
    lines.append(f"table bridge {TABLE} {{")
    lines.append("  chain forward { type filter hook forward priority filter; policy accept;")
    lines += [
        f"    iifname {{ {', '.join(_quote(v) for v in b.veths)} }} drop" for b in closed if b.veths
    ]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _dnat(port: PortRule) -> str:
    family = _family(port.container_ip)
    match = f"meta nfproto ipv{6 if family == 'ip6' else 4}"
    if port.host_ip and not ipaddress.ip_address(port.host_ip).is_unspecified:
        match = f"{_family(port.host_ip)} daddr {port.host_ip}"
    target = (
        f"[{port.container_ip}]:{port.container_port}"
        if family == "ip6"
        else f"{port.container_ip}:{port.container_port}"
    )
    return f"{match} {port.protocol} dport {port.host_port} dnat {family} to {target}"


def apply(script: str) -> None:
    """Swap porterd's tables for `script`'s in one transaction. The named counters it declares
    empty (the routing mesh's counts of connections) go on from what they had counted, read
    just before the swap, instead of starting again from zero."""
    if _EMPTY_COUNTER.search(script):
        script = carry_counters(script, counters())
    result = subprocess.run(
        ["nft", "-f", "-"], input=script, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise FirewallError(f"nft: {result.stderr.strip() or 'failed'}")


_EMPTY_COUNTER = re.compile(r"^(\s*counter )(\S+) \{ \}$", re.MULTILINE)


def carry_counters(script: str, readings: dict[str, tuple[int, int]]) -> str:
    """`script` with each named counter it declares empty starting at its (packets, bytes)
    reading instead of zero (a counter not read starts at zero)."""

    def carried(match: re.Match[str]) -> str:
        if match[2] not in readings:
            return match[0]
        packets, byte_count = readings[match[2]]
        return f"{match[1]}{match[2]} {{ packets {packets} bytes {byte_count} }}"

    return _EMPTY_COUNTER.sub(carried, script)


def counters() -> dict[str, tuple[int, int]]:
    """(packets, bytes) of each named counter of porterd's inet table ({} without the table)."""
    result = subprocess.run(
        ["nft", "-j", "list", "counters", "table", "inet", TABLE],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return counters_of(json.loads(result.stdout)) if result.returncode == 0 else {}


def counters_of(listing: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(packets, bytes) per counter name in `nft -j list counters` output."""
    return {
        item["counter"]["name"]: (int(item["counter"]["packets"]), int(item["counter"]["bytes"]))
        for item in listing.get("nftables", [])
        if "counter" in item
    }


def remove() -> None:
    """Drop porterd's tables (nothing else)."""
    apply(
        f"table inet {TABLE}\ndelete table inet {TABLE}\n"
        f"table bridge {TABLE}\ndelete table bridge {TABLE}\n"
    )
