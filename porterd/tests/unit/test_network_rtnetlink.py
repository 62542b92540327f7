"""The rtnetlink message encoding: attributes as the kernel reads them (length, type, payload
padded to four bytes)."""

from __future__ import annotations

import struct

from porterd.network import rtnetlink


def test_an_attribute_carries_its_unpadded_length_and_is_padded_to_four_bytes() -> None:
    encoded = rtnetlink.attribute(3, b"eth0\0")
    assert struct.unpack_from("=HH", encoded) == (9, 3)
    assert encoded[4:] == b"eth0\0\0\0\0"


def test_a_nested_attribute_holds_its_children_back_to_back() -> None:
    child = rtnetlink.attribute(1, b"veth")
    encoded = rtnetlink.nested(18, [child, child])
    assert struct.unpack_from("=HH", encoded) == (4 + 2 * len(child), 18)
    assert encoded[4:] == child + child


def test_an_interface_message_header_is_sixteen_bytes_with_the_index_and_flags() -> None:
    header = rtnetlink.ifinfo(index=7, flags=1, change=1, family=7)
    assert len(header) == 16
    assert struct.unpack("=BxHiII", header) == (7, 0, 7, 1, 1)
