"""The routing mesh's connection counters across a firewall swap, with real nftables in a
network namespace the test makes: porterd re-applies its whole table whenever a rule changes
(a container publishing a port, a network made), and the mesh's counts carry over."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.cluster.routing import MeshPort, render
from porterd.network import firewall

from ...network_support import entered, make_netns, remove_netns, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))
PORT = MeshPort("tcp", 8089, "s1", ())  # no backend: its connections are counted, then refused


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[Path]:
    path = make_netns(tmp_path / f"mesh-counters-{secrets.token_hex(4)}.ns")
    try:
        yield path
    finally:
        remove_netns(path)


def connect(times: int) -> None:
    for _ in range(times):
        with socket.socket() as attempt:
            attempt.settimeout(3)
            assert attempt.connect_ex(("127.0.0.1", PORT.published)) != 0


def test_a_firewall_swap_keeps_what_the_mesh_counters_counted(netns: Path) -> None:
    with entered(netns):
        firewall.apply(firewall.render([], [], render([PORT])))
        connect(3)
        assert firewall.counters()[PORT.counter][0] == 3
        # Another rule changes (a container publishes a port): the table is swapped whole.
        published = firewall.PortRule("tcp", "", 8090, "172.17.0.2", 80)
        firewall.apply(firewall.render([], [published], render([PORT])))
        assert firewall.counters()[PORT.counter][0] == 3
        connect(1)
        assert firewall.counters()[PORT.counter][0] == 4
