"""Dropping the kernel's conntrack entries of UDP flows to a port that is published now, as
dockerd does when it maps a UDP port.

NAT is decided on a flow's first packet only. A client that sent to a host port before it was
published (or while its container was stopped) has a conntrack entry without translation,
and as long as it keeps sending within the UDP timeout every later datagram follows that
entry, past the new DNAT rule, to no one. Once the rules are in place, those entries are
deleted over ctnetlink (the same requests `conntrack -D -p udp --dport N` makes), so the
next datagram starts a flow that is translated.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from porterd.network.rtnetlink import NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, Netlink

log = logging.getLogger("porterd.network.conntrack")

NETLINK_NETFILTER = 12
NLMSG_DONE = 3
NLM_F_DUMP = 0x300
CT_GET, CT_DELETE = (1 << 8) | 1, (1 << 8) | 2  # NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_*
CTA_TUPLE_ORIG, CTA_ZONE = 1, 18
CTA_TUPLE_PROTO = 2
CTA_PROTO_NUM, CTA_PROTO_DST_PORT = 1, 3
ATTRIBUTE_TYPE = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
UDP = 17


@dataclass(frozen=True)
class Flow:
    """One conntrack entry: its family, protocol and original destination port, and the
    attributes that name it in a delete (its original tuple, and its zone if it has one)."""

    family: int
    protocol: int
    destination_port: int
    key: bytes


def attributes(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(type, payload, the whole attribute with its padding) of each netlink attribute in
    `data`."""
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            return
        end = offset + ((length + 3) & ~3)
        yield kind & ATTRIBUTE_TYPE, data[offset + 4 : offset + length], data[offset:end]
        offset = end


def flow_of(family: int, body: bytes) -> Flow | None:
    """The flow a conntrack message's attributes (after its nfgenmsg) describe."""
    key, protocol, port = b"", 0, 0
    for kind, payload, whole in attributes(body):
        if kind == CTA_TUPLE_ORIG:
            key += whole
            for inner, inner_payload, _ in attributes(payload):
                if inner != CTA_TUPLE_PROTO:
                    continue
                for field, value, _ in attributes(inner_payload):
                    if field == CTA_PROTO_NUM and value:
                        protocol = value[0]
                    elif field == CTA_PROTO_DST_PORT and len(value) >= 2:
                        port = struct.unpack_from("!H", value)[0]
        elif kind == CTA_ZONE:
            key += whole
    if not key:
        return None
    return Flow(family, protocol, port, key)


class Conntrack(Netlink):
    """A ctnetlink socket in the calling thread's network namespace."""

    def __init__(self) -> None:
        super().__init__(NETLINK_NETFILTER)

    def _send(self, kind: int, flags: int, family: int, body: bytes = b"") -> int:
        self.sequence += 1
        payload = struct.pack("=BBH", family, 0, 0) + body  # nfgenmsg, version 0
        header = struct.pack("=LHHLL", 16 + len(payload), kind, flags, self.sequence, 0)
        self.socket.send(header + payload)
        return self.sequence

    def _replies(self, sequence: int) -> Iterator[tuple[int, bytes]]:
        """(type, body) of each reply to request `sequence`, up to its end; a refusal is
        raised as OSError with the kernel's errno."""
        while True:
            data = self.socket.recv(1 << 20)
            offset = 0
            while offset + 16 <= len(data):
                length, kind, _, number, _ = struct.unpack_from("=LHHLL", data, offset)
                body = data[offset + 16 : offset + length]
                offset += (length + 3) & ~3
                if number != sequence:
                    continue
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0]
                    if code:
                        raise OSError(code, os.strerror(code))
                    return
                yield kind, body

    def flows(self) -> list[Flow]:
        sequence = self._send(CT_GET, NLM_F_REQUEST | NLM_F_DUMP, socket.AF_UNSPEC)
        found = []
        for _, body in self._replies(sequence):
            flow = flow_of(body[0], body[4:]) if len(body) >= 4 else None
            if flow is not None:
                found.append(flow)
        return found

    def delete(self, flow: Flow) -> None:
        sequence = self._send(CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, flow.family, flow.key)
        try:
            for _ in self._replies(sequence):
                pass
        except FileNotFoundError:
            pass  # it ended meanwhile


def forget_udp_flows(ports: Iterable[int]) -> int:
    """Delete the conntrack entries of UDP flows to any of `ports`; how many went. Where
    conntrack cannot be reached (no module, no privilege) nothing is done: a logged warning."""
    wanted = set(ports)
    if not wanted:
        return 0
    try:
        with Conntrack() as conntrack:
            stale = [
                flow
                for flow in conntrack.flows()
                if flow.protocol == UDP and flow.destination_port in wanted
            ]
            for flow in stale:
                conntrack.delete(flow)
    except OSError as error:
        log.warning("cannot drop the conntrack entries of UDP ports %s: %s", sorted(wanted), error)
        return 0
    return len(stale)
