"""The app's version prefix, negotiation and error handling, and the system routes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import falcon
import pytest
from falcon import testing
from porterd.api import app as app_module
from porterd.api import system as system_api
from porterd.events import EventBus
from porterd.system_info import version_document

from porterd import errors


class Backend:
    """The system backend the routes need, with fixed answers."""

    def __init__(self) -> None:
        self.events = EventBus()
        self.kinds: set[str] = set()

    def version(self) -> dict[str, Any]:
        return version_document()

    def info(self) -> dict[str, Any]:
        return {"Name": "test-host", "Containers": 0}

    def disk_usage(self, kinds: set[str]) -> dict[str, Any]:
        self.kinds = kinds
        return {"LayersSize": 0, "Volumes": []}


class Failing:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise RuntimeError("secret internal detail")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise errors.Conflict("container name /web is already in use")

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise errors.NotModified("already started")


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def client(backend: Backend) -> testing.TestClient:
    app = app_module.create_app(backend, routers=["system"])
    app.add_route("/failing", Failing())
    return testing.TestClient(app)


def test_ping_answers_ok_with_the_api_version_header(client: testing.TestClient) -> None:
    response = client.simulate_get("/_ping")
    assert response.status_code == 200 and response.text == "OK"
    assert response.headers["Api-Version"] == "1.43"
    assert response.headers["Ostype"] == "linux"


def test_head_ping_has_the_headers_and_no_body(client: testing.TestClient) -> None:
    response = client.simulate_head("/_ping")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Api-Version"] == "1.43"
    assert response.headers["Content-Length"] == "0"


def test_a_version_prefix_is_stripped_before_routing(client: testing.TestClient) -> None:
    assert client.simulate_get("/v1.43/_ping").text == "OK"
    assert client.simulate_get("/v1.24/version").status_code == 200


def test_a_version_below_the_minimum_is_refused(client: testing.TestClient) -> None:
    response = client.simulate_get("/v1.23/_ping")
    assert response.status_code == 400
    assert response.json["message"].startswith("client version 1.23 is too old")


def test_a_version_above_the_maximum_is_refused(client: testing.TestClient) -> None:
    response = client.simulate_get("/v1.44/version")
    assert response.status_code == 400
    assert "Maximum supported API version is 1.43" in response.json["message"]


def test_version_reports_the_api_range(client: testing.TestClient) -> None:
    document = client.simulate_get("/version").json
    assert document["ApiVersion"] == "1.43" and document["MinAPIVersion"] == "1.24"
    assert document["Os"] == "linux"
    assert document["Components"][0]["Name"] == "Engine"


def test_info_is_the_backends_document(client: testing.TestClient) -> None:
    assert client.simulate_get("/info").json == {"Name": "test-host", "Containers": 0}


def test_an_unknown_route_is_a_404_message(client: testing.TestClient) -> None:
    response = client.simulate_get("/v1.43/nothing/here")
    assert response.status_code == 404
    assert response.json == {"message": "page not found"}


def test_a_porterd_error_renders_as_its_status_and_message(client: testing.TestClient) -> None:
    response = client.simulate_post("/failing")
    assert response.status_code == 409
    assert response.json == {"message": "container name /web is already in use"}


def test_not_modified_has_no_body(client: testing.TestClient) -> None:
    response = client.simulate_put("/failing")
    assert response.status_code == 304 and response.content == b""


def test_an_unexpected_exception_is_a_500_without_its_details(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.simulate_get("/failing")
    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert "secret internal detail" in caplog.text  # the log has it


def test_df_passes_the_requested_types(client: testing.TestClient, backend: Backend) -> None:
    assert client.simulate_get("/system/df", params={"type": "volume"}).status_code == 200
    assert backend.kinds == {"volume"}


def test_df_refuses_an_unknown_type(client: testing.TestClient) -> None:
    response = client.simulate_get("/system/df", params={"type": "spaceship"})
    assert response.status_code == 400


def _stamp(nanoseconds: int) -> str:
    """A timestamp as the docker CLI sends it: seconds and nanoseconds."""
    return f"{nanoseconds // 1_000_000_000}.{nanoseconds % 1_000_000_000:09d}"


def _events(client: testing.TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.simulate_get("/events", params=params)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_events_since_and_until_replay_the_kept_events(
    client: testing.TestClient, backend: Backend
) -> None:
    first = backend.events.publish("container", "create", "c1")
    backend.events.publish("volume", "create", "v1")
    messages = _events(client, since=_stamp(first.time_nano), until=_stamp(time.time_ns()))
    assert [message["Actor"]["ID"] for message in messages] == ["c1", "v1"]


def test_events_without_since_send_no_past_events(
    client: testing.TestClient, backend: Backend
) -> None:
    backend.events.publish("container", "create", "old")
    assert _events(client, until=_stamp(time.time_ns() + 200_000_000)) == []


def test_events_stream_live_events_until_until(
    client: testing.TestClient, backend: Backend
) -> None:
    threading.Timer(0.1, backend.events.publish, ("container", "start", "live")).start()
    messages = _events(client, until=_stamp(time.time_ns() + 1_000_000_000))
    assert [message["Action"] for message in messages] == ["start"]


def test_events_filters_keep_only_matching_events(
    client: testing.TestClient, backend: Backend
) -> None:
    start = time.time_ns()
    backend.events.publish("container", "start", "c1")
    backend.events.publish("volume", "create", "v1")
    messages = _events(
        client,
        since=str(start // 1_000_000_000),
        until=_stamp(time.time_ns()),
        filters=json.dumps({"type": {"volume": True}}),
    )
    assert [message["Type"] for message in messages] == ["volume"]


def test_events_refuse_an_unknown_filter(client: testing.TestClient) -> None:
    response = client.simulate_get("/events", params={"filters": '{"colour": ["red"]}'})
    assert response.status_code == 400
    assert response.json == {"message": "invalid filter 'colour'"}


def test_events_refuse_since_after_until(client: testing.TestClient) -> None:
    assert client.simulate_get("/events", params={"since": "20", "until": "10"}).status_code == 400


def test_events_refuse_a_malformed_timestamp(client: testing.TestClient) -> None:
    assert client.simulate_get("/events", params={"since": "yesterday"}).status_code == 400


def test_an_events_stream_that_falls_behind_ends_with_the_reason() -> None:
    bus = EventBus(queue=2)
    stream = system_api._stream(bus, None, None, lambda event: True, lambda: False)
    threading.Timer(0.05, bus.publish, ("volume", "create", "first")).start()
    assert json.loads(next(stream))["Actor"]["ID"] == "first"
    for name in ("queued-1", "queued-2", "overflow"):  # the stream's reader does not read
        bus.publish("volume", "create", name)
    rest = [json.loads(line) for line in stream]
    assert [m["Actor"]["ID"] for m in rest[:2]] == ["queued-1", "queued-2"]
    assert rest[2:] == [{"message": rest[2]["message"]}] and "fell 2" in rest[2]["message"]
