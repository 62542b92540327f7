"""An overlay round's leftover sweep, against the real kernel in a namespace the test makes:
it removes overlay devices that no network owns, and never a user bridge whose chosen name
happens to start with the overlay prefix."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from porterd.errors import Unavailable
from porterd.network import links

from porterd.tests.network_support import Host, links_in, network_host, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        yield made


def test_a_user_bridge_named_like_an_overlay_survives_the_round(host: Host) -> None:
    host.service.create("mine", options={"com.docker.network.bridge.name": "ov-mine"})
    host.service.sync_overlays({}, {})
    assert "ov-mine" in links_in(host.netns)


def test_an_overlay_bridge_no_network_owns_is_removed_by_the_round(host: Host) -> None:
    links.ensure_bridge("ov-0123456789ab", [])
    host.service.sync_overlays({}, {})
    assert "ov-0123456789ab" not in links_in(host.netns)


class StoreWithoutQuorum:
    """A cluster backend whose releases fail, each recorded with whether the node's network
    changes could go on meanwhile (the service's lock free to take from another thread)."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.released: list[tuple[str, bool]] = []

    def release(self, network_id: str, address: str, container_id: str) -> None:
        taken: list[bool] = []
        other = threading.Thread(target=self._take, args=(taken,))
        other.start()
        other.join()
        self.released.append((address, taken[0]))
        raise Unavailable("the cluster store has no quorum")

    def _take(self, taken: list[bool]) -> None:
        taken.append(self.lock.acquire(timeout=5))
        if taken[-1]:
            self.lock.release()


def test_leases_whose_release_fails_neither_fail_the_round_nor_hold_up_the_node(
    host: Host,
) -> None:
    backend = StoreWithoutQuorum(host.service._lock)
    host.service.overlay = backend  # type: ignore[assignment]
    held = {("n1", "10.0.9.2"): "gone1", ("n1", "10.0.9.3"): "gone2"}
    host.service.sync_overlays({}, held)
    assert backend.released == [("10.0.9.2", True), ("10.0.9.3", True)]
