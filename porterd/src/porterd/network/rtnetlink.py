"""The few rtnetlink requests a container's start and stop make, over socket.AF_NETLINK.

Starting a container on a network used to spawn `unshare`, `nsenter` and `ip` five times; each
spawn costs more than the kernel work it asks for. Here the same requests are sent from the
daemon itself: a namespace is entered on a short-lived thread of its own (namespaces belong
to a thread, so the daemon's other threads never leave theirs), and the netlink socket is
opened on that thread, so it speaks to that namespace.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MNT_DETACH = 2

NLMSG_ERROR = 2
RTM_NEWLINK, RTM_DELLINK, RTM_SETLINK = 16, 17, 19
RTM_NEWADDR, RTM_NEWROUTE = 20, 24
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
NLA_F_NESTED = 0x8000

IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER = 1, 3, 4, 10
IFLA_PROTINFO, IFLA_LINKINFO, IFLA_NET_NS_FD = 12, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFLA_BRPORT_MODE = 4  # hairpin
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_OIF, RTA_GATEWAY = 4, 5
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1

T = TypeVar("T")


class NetlinkError(OSError):
    """The kernel refused a request; errno and the request's subject are kept."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise NetlinkError(code, f"{what}: {os.strerror(code)}")


def attribute(kind: int, payload: bytes) -> bytes:
    header = struct.pack("=HH", 4 + len(payload), kind)
    padding = b"\0" * (-len(payload) % 4)
    return header + payload + padding


def nested(kind: int, children: Iterable[bytes]) -> bytes:
    return attribute(kind, b"".join(children))


def name_attribute(name: str) -> bytes:
    return attribute(IFLA_IFNAME, name.encode() + b"\0")


def ifinfo(index: int = 0, flags: int = 0, change: int = 0, family: int = 0) -> bytes:
    return struct.pack("=BxHiII", family, 0, index, flags, change)


class Netlink:
    """An rtnetlink socket (or one of another netlink `protocol`) in the calling thread's
    network namespace."""

    def __init__(self, protocol: int = socket.NETLINK_ROUTE) -> None:
        self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
        self.socket.bind((0, 0))
        self.sequence = 0

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, kind: int, flags: int, body: bytes, what: str) -> None:
        """Send one request and wait for its acknowledgement."""
        self.sequence += 1
        flags |= NLM_F_REQUEST | NLM_F_ACK
        header = struct.pack("=LHHLL", 16 + len(body), kind, flags, self.sequence, 0)
        self.socket.send(header + body)
        while True:
            data = self.socket.recv(65536)
            offset = 0
            while offset + 16 <= len(data):
                length, reply, _, sequence, _ = struct.unpack_from("=LHHLL", data, offset)
                if reply == NLMSG_ERROR and sequence == self.sequence:
                    code = -struct.unpack_from("=i", data, offset + 16)[0]
                    if code:
                        raise NetlinkError(code, f"{what}: {os.strerror(code)}")
                    return
                offset += (length + 3) & ~3

    def set_up(self, name: str, master: int | None = None) -> None:
        attributes = [name_attribute(name)]
        if master is not None:
            attributes.append(attribute(IFLA_MASTER, struct.pack("=I", master)))
        body = ifinfo(flags=IFF_UP, change=IFF_UP) + b"".join(attributes)
        self.request(RTM_NEWLINK, 0, body, f"set {name} up")

    def delete_link(self, name: str) -> bool:
        """Deleted, or False when there was no such link."""
        try:
            self.request(RTM_DELLINK, 0, ifinfo() + name_attribute(name), f"delete {name}")
        except NetlinkError as error:
            if error.errno == errno.ENODEV:
                return False
            raise
        return True

    def add_veth(self, name: str, mac: str, mtu: int, peer: str, peer_netns_fd: int) -> None:
        """A veth pair: `name` here with `mac`, its peer `peer` in the namespace of the fd."""
        peer_info = (
            ifinfo()
            + name_attribute(peer)
            + attribute(IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd))
            + attribute(IFLA_MTU, struct.pack("=I", mtu))
        )
        info = nested(
            IFLA_LINKINFO,
            [
                attribute(IFLA_INFO_KIND, b"veth"),
                nested(IFLA_INFO_DATA, [attribute(VETH_INFO_PEER, peer_info)]),
            ],
        )
        body = (
            ifinfo()
            + name_attribute(name)
            + attribute(IFLA_MTU, struct.pack("=I", mtu))
            + attribute(IFLA_ADDRESS, bytes.fromhex(mac.replace(":", "")))
            + info
        )
        self.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, f"add veth {name}")

    def add_address(self, name: str, address: str) -> None:
        interface = ipaddress.ip_interface(address)
        family = socket.AF_INET if interface.version == 4 else socket.AF_INET6
        packed = interface.ip.packed
        body = struct.pack(
            "=BBBBI", family, interface.network.prefixlen, 0, 0, socket.if_nametoindex(name)
        )
        body += attribute(IFA_LOCAL, packed) + attribute(IFA_ADDRESS, packed)
        self.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, body, f"add {address} to {name}")

    def replace_default_route(self, name: str, gateway: str) -> None:
        via = ipaddress.ip_address(gateway)
        family = socket.AF_INET if via.version == 4 else socket.AF_INET6
        body = struct.pack(
            "=BBBBBBBBI",
            family,
            0,
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            RT_SCOPE_UNIVERSE,
            RTN_UNICAST,
            0,
        )
        body += attribute(RTA_GATEWAY, via.packed)
        body += attribute(RTA_OIF, struct.pack("=I", socket.if_nametoindex(name)))
        what = f"default route via {gateway} dev {name}"
        self.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, what)

    def set_hairpin(self, index: int) -> None:
        """A bridge port (by index) that sends a frame back out where it came in (`bridge
        link set hairpin on`)."""
        protinfo = attribute(IFLA_PROTINFO | NLA_F_NESTED, attribute(IFLA_BRPORT_MODE, b"\1"))
        body = ifinfo(index=index, family=socket.AF_BRIDGE) + protinfo
        self.request(RTM_SETLINK, 0, body, f"hairpin on link {index}")


def in_netns(path: Path | None, work: Callable[[], T]) -> T:
    """`work()` on a thread of its own in the namespace bound at `path` (None: a new one)."""
    outcome: dict[str, object] = {}

    def enter() -> None:
        try:
            libc = _libc()
            if path is None:
                _check(libc.unshare(CLONE_NEWNET), "unshare a network namespace")
            else:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    _check(libc.setns(fd, CLONE_NEWNET), f"enter {path}")
                finally:
                    os.close(fd)
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=enter, name="porterd-netns")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def bind_new_netns(path: Path) -> None:
    """A new network namespace, bound on the (existing) file `path`, its loopback up."""

    def make() -> None:
        own = "/proc/thread-self/ns/net"
        bound = _libc().mount(own.encode(), str(path).encode(), None, MS_BIND, None)
        _check(bound, f"bind the network namespace on {path}")
        with Netlink() as netlink:
            netlink.set_up("lo")

    in_netns(None, make)


def unmount(path: Path) -> None:
    """`umount -l path`; an error when it is not mounted is ignored."""
    _libc().umount2(str(path).encode(), MNT_DETACH)
