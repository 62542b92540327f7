"""An overlay network's devices on one node: a bridge its containers' veths plug into, and a
VXLAN device on that bridge that carries their frames to the other nodes.

    ov-<id12>   the bridge (no address: the overlay is one layer-2 segment across nodes)
    vx-<id12>   vxlan id VNI, local ADVERTISE_ADDR, dstport 4789, learning; its forwarding
                table holds one all-zeros entry per other node, so broadcasts (ARP) reach
                every node, and unicast frames go to the node their source was learnt from

The peers' entries are rendered from the cluster's nodes and applied as a difference (`bridge
-batch`), so a node that joins or leaves changes only its own entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from porterd.network import links

VXLAN_PORT = 4789
BRIDGE_PREFIX, VXLAN_PREFIX = "ov-", "vx-"
FLOOD_MAC = "00:00:00:00:00:00"


def vxlan_name(bridge: str) -> str:
    """The VXLAN device on an overlay's bridge `ov-X`: `vx-X`."""
    return VXLAN_PREFIX + bridge.removeprefix(BRIDGE_PREFIX)


def fdb_script(device: str, present: Iterable[str], peers: Iterable[str]) -> str:
    """`bridge -batch` lines that make the flood entries of `device` exactly `peers`."""
    have, want = set(present), set(peers)
    lines = [f"fdb append {FLOOD_MAC} dev {device} dst {peer}" for peer in sorted(want - have)]
    lines += [f"fdb del {FLOOD_MAC} dev {device} dst {peer}" for peer in sorted(have - want)]
    return "".join(line + "\n" for line in lines)


def flood_peers(fdb: list[dict[str, object]]) -> set[str]:
    """The destinations of the all-zeros entries in `bridge -j fdb show` output."""
    return {
        str(entry["dst"]) for entry in fdb if entry.get("mac") == FLOOD_MAC and entry.get("dst")
    }


def ensure_devices(bridge: str, vni: int, local: str, mtu: int) -> None:
    """The bridge and its VXLAN device, up; made if missing."""
    links.ensure_bridge(bridge, [], mtu)
    device = vxlan_name(bridge)
    if not links.link_exists(device):
        vxlan = ["type", "vxlan", "id", str(vni), "local", local, "dstport", str(VXLAN_PORT)]
        links.run(["ip", "link", "add", device, "mtu", str(mtu), *vxlan])
    links.run(["ip", "link", "set", device, "master", bridge, "up"])


def sync_peers(bridge: str, peers: Iterable[str]) -> None:
    """The VXLAN device's flood entries become `peers` (the other nodes' addresses)."""
    device = vxlan_name(bridge)
    shown = links.run(["bridge", "-j", "fdb", "show", "dev", device])
    script = fdb_script(device, flood_peers(json.loads(shown or "[]")), peers)
    if script:
        links.run(["bridge", "-batch", "-"], stdin=script)


def remove_devices(bridge: str) -> None:
    links.delete_link(vxlan_name(bridge))
    links.delete_link(bridge)


def leftover_bridges(known: Iterable[str]) -> list[str]:
    """Overlay bridges (or VXLAN devices left alone) of this namespace not in `known`."""
    keep = set(known)
    names = links.link_names()
    bridges = {n for n in names if n.startswith(BRIDGE_PREFIX)}
    bridges |= {
        BRIDGE_PREFIX + n.removeprefix(VXLAN_PREFIX) for n in names if n.startswith(VXLAN_PREFIX)
    }
    return sorted(bridges - keep)
