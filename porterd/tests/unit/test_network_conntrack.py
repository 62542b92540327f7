"""Reading ctnetlink's conntrack entries: a flow's protocol and original destination port,
and the attributes that name it in a delete."""

from __future__ import annotations

import socket
import struct

from porterd.network.conntrack import CTA_TUPLE_ORIG, CTA_ZONE, UDP, attributes, flow_of
from porterd.network.rtnetlink import NLA_F_NESTED, attribute, nested


def tuple_orig(protocol: int, destination_port: int) -> bytes:
    addresses = nested(NLA_F_NESTED | 1, [attribute(1, socket.inet_aton("127.0.0.1"))] * 2)
    ports = nested(
        NLA_F_NESTED | 2,
        [
            attribute(1, bytes([protocol])),
            attribute(2, struct.pack("!H", 40000)),
            attribute(3, struct.pack("!H", destination_port)),
        ],
    )
    return nested(NLA_F_NESTED | CTA_TUPLE_ORIG, [addresses, ports])


def test_a_flow_has_its_protocol_and_original_destination_port() -> None:
    flow = flow_of(socket.AF_INET, tuple_orig(UDP, 5353) + attribute(3, b"\0\0\0\1"))
    assert flow is not None
    assert (flow.family, flow.protocol, flow.destination_port) == (socket.AF_INET, UDP, 5353)


def test_a_flow_is_named_by_its_original_tuple_and_zone_only() -> None:
    orig, zone = tuple_orig(UDP, 53), attribute(CTA_ZONE, struct.pack("!H", 7))
    reply = nested(NLA_F_NESTED | 2, [attribute(1, b"x")])  # CTA_TUPLE_REPLY
    flow = flow_of(socket.AF_INET, orig + reply + zone)
    assert flow is not None and flow.key == orig + zone


def test_a_message_without_an_original_tuple_is_no_flow() -> None:
    assert flow_of(socket.AF_INET, attribute(3, b"\0\0\0\1")) is None


def test_attributes_stop_at_a_malformed_length() -> None:
    data = attribute(1, b"ab") + struct.pack("=HH", 2, 9)
    assert [kind for kind, _, _ in attributes(data)] == [1]
