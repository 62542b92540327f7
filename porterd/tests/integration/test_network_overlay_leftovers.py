"""An overlay round's leftover sweep, against the real kernel in a namespace the test makes:
it removes overlay devices that no network owns, and never a user bridge whose chosen name
happens to start with the overlay prefix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
