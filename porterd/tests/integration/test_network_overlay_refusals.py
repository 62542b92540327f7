"""The overlay driver on a porterd outside any cluster: refused in one line, nothing made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from falcon import testing
from porterd.api import app as app_module
from porterd.api import networks as networks_api

from porterd.tests.network_support import Host, network_host, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        yield made


@pytest.fixture
def client(host: Host) -> testing.TestClient:
    app = app_module.create_app(None, routers=[])
    networks_api.add_routes(app, host.service)
    return testing.TestClient(app)


def test_an_overlay_network_outside_a_cluster_is_a_400_naming_the_missing_flag(
    client: testing.TestClient,
) -> None:
    result = client.simulate_post("/networks/create", json={"Name": "ov", "Driver": "overlay"})
    assert result.status_code == 400
    assert result.json["message"] == (
        "overlay networks need a cluster: this porterd was started without --cluster-store"
    )
    assert "ov" not in [n["Name"] for n in client.simulate_get("/networks").json]


def test_a_container_cannot_join_an_overlay_outside_a_cluster(host: Host) -> None:
    with pytest.raises(Exception, match="network ov not found"):
        host.start("c1", "ov")
