"""Bridges, veth pairs and network namespaces.

A container's start and stop go through rtnetlink from the daemon itself (`rtnetlink`), with
no process spawned; a bridge, made once per network, is made with iproute2. A container's
network namespace is bind-mounted on a file under `EXEC_ROOT/netns/`, so it
exists before the container does and the runtime joins it by path (`linux.namespaces`).
Every operation is idempotent where it can be (a link already there, a link already gone),
so that recovery after a crash can replay or undo any of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from porterd.errors import DaemonError
from porterd.network import rtnetlink
from porterd.network.rtnetlink import Netlink, NetlinkError


class LinkError(DaemonError):
    """An `ip` command or a netlink request failed."""


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    try:
        yield
    except NetlinkError as error:
        raise LinkError(error.strerror) from error


def run(argv: list[str], *, check: bool = True, stdin: str | None = None) -> str:
    result = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    if check and result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise LinkError(f"{' '.join(argv[:6])}: {detail}")
    return result.stdout


def link_names() -> set[str]:
    """The interfaces of the calling thread's namespace (/sys shows its mounter's)."""
    lines = Path("/proc/thread-self/net/dev").read_text().splitlines()[2:]
    return {line.split(":", 1)[0].strip() for line in lines}


def link_exists(name: str) -> bool:
    return name in link_names()


def ensure_bridge(
    name: str, addresses: list[str], mtu: int = 1500, *, exclusive: bool = False
) -> None:
    """The bridge `name` up with the gateway `addresses` (CIDR); made if missing. With
    `exclusive`, its other global addresses are removed (the bridge was re-addressed)."""
    if not link_exists(name):
        run(["ip", "link", "add", name, "mtu", str(mtu), "type", "bridge"])
    entries = [
        entry
        for link in json.loads(run(["ip", "-j", "addr", "show", "dev", name]) or "[]")
        for entry in link.get("addr_info", [])
    ]
    present = {f"{e['local']}/{e['prefixlen']}" for e in entries}
    stale = {f"{e['local']}/{e['prefixlen']}" for e in entries if e.get("scope") == "global"}
    commands = [f"addr del {a} dev {name}" for a in sorted(stale - set(addresses)) if exclusive]
    commands += [f"addr add {a} dev {name}" for a in addresses if a not in present]
    commands.append(f"link set {name} up")
    run(["ip", "-batch", "-"], stdin="\n".join(commands) + "\n")
    if any(":" in a for a in addresses):
        set_sysctl(f"net/ipv6/conf/{name}/disable_ipv6", "0")
    set_sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")


def delete_link(name: str) -> None:
    with _refused(), Netlink() as netlink:
        netlink.delete_link(name)


def set_sysctl(key: str, value: str) -> None:
    path = Path("/proc/sys", key)
    if path.read_text().strip() != value:
        path.write_text(value)


def create_netns(path: Path) -> None:
    """A new network namespace bound on `path`, its loopback up."""
    if path.exists() and os.path.ismount(path):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    with _refused():
        rtnetlink.bind_new_netns(path)


def remove_netns(path: Path) -> None:
    if os.path.ismount(path):
        rtnetlink.unmount(path)
    path.unlink(missing_ok=True)


def plug_veth(
    netns: Path,
    bridge: str,
    host_name: str,
    interface: str,
    mac: str,
    addresses: list[str],
    gateways: list[str],
    mtu: int = 1500,
) -> None:
    """A veth pair: `host_name` on the bridge, `interface` in the namespace with addresses.

    The first interface of a container carries its default routes (as with dockerd).
    """
    delete_link(host_name)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    def inside() -> None:
        if any(":" in a for a in addresses):
            set_sysctl("net/ipv6/conf/all/disable_ipv6", "0")
        with Netlink() as netlink:
            netlink.add_veth(interface, mac, mtu, host_name, home)
            for address in addresses:
                netlink.add_address(interface, address)
            netlink.set_up(interface)
            for gateway in gateways:
                netlink.replace_default_route(interface, gateway)

    try:
        with _refused():
            rtnetlink.in_netns(netns, inside)
    finally:
        os.close(home)
    enslave(host_name, bridge)


def set_default_routes(netns: Path, interface: str, gateways: list[str]) -> None:
    """The namespace's default routes go through `interface` to `gateways`."""

    def inside() -> None:
        with Netlink() as netlink:
            for gateway in gateways:
                netlink.replace_default_route(interface, gateway)

    with _refused():
        rtnetlink.in_netns(netns, inside)


def enslave(host_name: str, bridge: str) -> None:
    """The host end of a veth on the bridge, up, in hairpin mode (a container may reach itself
    through a published port)."""
    with _refused(), Netlink() as netlink:
        netlink.set_up(host_name, master=socket.if_nametoindex(bridge))
        netlink.set_hairpin(socket.if_nametoindex(host_name))


def unplug_veth(netns: Path, interface: str, host_name: str) -> None:
    delete_link(host_name)
    if os.path.ismount(netns):

        def inside() -> None:
            with Netlink() as netlink:
                netlink.delete_link(interface)

        with _refused():
            rtnetlink.in_netns(netns, inside)


def is_netns(path: Path) -> bool:
    return os.path.ismount(path)
