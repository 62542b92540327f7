"""porter's Engine API client against the fake engine: version negotiation, errors, streams,
the hijacked connection."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from porter_cli.client.api import Client, encode_params
from porter_cli.client.endpoint import Endpoint, parse_host
from porter_cli.client.errors import APIError, DaemonUnreachable, EndpointError, StreamError
from porter_cli.client.stream import STDERR, STDOUT, demux, frame, json_messages, raise_for_error
from porter_fake_engine import FakeEngine, Reply


def client_for(engine: FakeEngine) -> Client:
    return Client(Endpoint(engine.host))  # type: ignore[attr-defined]


def test_a_first_get_refused_as_too_new_is_sent_again_at_the_daemons_version(
    engine: FakeEngine,
) -> None:
    engine.api_version = "1.41"
    engine.json("GET", "/containers/json", [])
    assert client_for(engine).get_json("/containers/json") == []
    versions = [r.version for r in engine.seen("GET", "/containers/json")]
    assert versions == ["1.43", "1.41"]


def test_a_first_request_with_a_body_negotiates_before_it_is_sent(engine: FakeEngine) -> None:
    engine.api_version = "1.41"
    engine.json("POST", "/containers/create", {"Id": "abc"})
    client_for(engine).post_json("/containers/create", body={"Image": "busybox"})
    assert [r.version for r in engine.seen("POST", "/containers/create")] == ["1.41"]


def test_requests_use_the_clients_version_when_the_daemon_is_newer(engine: FakeEngine) -> None:
    engine.api_version = "1.45"
    engine.json("GET", "/containers/json", [])
    client_for(engine).get_json("/containers/json")
    assert engine.seen("GET", "/containers/json")[0].version == "1.43"


def test_a_listing_from_a_daemon_of_the_clients_version_is_one_request(
    engine: FakeEngine,
) -> None:
    engine.json("GET", "/containers/json", [])
    client_for(engine).get_json("/containers/json")
    assert [(r.method, r.path, r.version) for r in engine.requests] == [
        ("GET", "/containers/json", "1.43")
    ]


def test_version_comes_from_slash_version_when_the_ping_has_no_header(engine: FakeEngine) -> None:
    engine.api_version = None
    engine.json("GET", "/version", {"ApiVersion": "1.40"})
    assert client_for(engine).version == "1.40"


def test_negotiation_happens_once_per_client(engine: FakeEngine) -> None:
    engine.api_version = "1.41"
    engine.json("GET", "/info", {})
    client = client_for(engine)
    client.get_json("/info")
    client.get_json("/info")
    assert len(engine.seen("GET", "/_ping")) == 1
    assert [r.version for r in engine.seen("GET", "/info")] == ["1.43", "1.41", "1.41"]


def test_an_error_status_raises_the_daemons_message(engine: FakeEngine) -> None:
    engine.json("DELETE", "/containers/web", {"message": "No such container: web"}, status=404)
    with pytest.raises(APIError) as caught:
        client_for(engine).delete("/containers/web")
    assert caught.value.status == 404
    assert str(caught.value) == "Error response from daemon: No such container: web"


def test_an_error_body_that_is_not_json_gives_its_first_line(engine: FakeEngine) -> None:
    engine.route("GET", "/info", lambda r: Reply(500, b"boom\ntraceback"))
    with pytest.raises(APIError, match=r"daemon: boom$"):
        client_for(engine).get_json("/info")


def test_a_missing_socket_is_reported_as_unreachable(tmp_path: Path) -> None:
    client = Client(Endpoint(f"unix://{tmp_path}/none.sock"))
    with pytest.raises(DaemonUnreachable, match="no such socket"):
        client.get_json("/info")


def test_a_refused_connection_is_reported_as_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the file stays, nobody listens
    with pytest.raises(DaemonUnreachable, match="connection refused"):
        Client(Endpoint(f"unix://{path}")).get_json("/info")


def test_query_parameters_encode_booleans_filters_and_repeated_names() -> None:
    query = encode_params(
        {
            "all": True,
            "size": False,
            "gone": None,
            "filters": {"name": ["web"]},
            "names": ["a", "b"],
        }
    )
    assert query == "?all=1&size=0&filters=%7B%22name%22%3A%5B%22web%22%5D%7D&names=a&names=b"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("unix:///run/porter/porter.sock", ("unix", "/run/porter/porter.sock")),
        ("/tmp/d.sock", ("unix", "/tmp/d.sock")),
        ("tcp://10.0.0.1:2376", ("tcp", ("10.0.0.1", 2376))),
        ("tcp://daemon", ("tcp", ("daemon", 2376))),
        ("tcp://[::1]:2375", ("tcp", ("::1", 2375))),
    ],
)
def test_host_addresses_parse_as_docker_spells_them(host: str, expected: tuple) -> None:
    assert parse_host(host) == expected


@pytest.mark.parametrize("host", ["ssh://me@host", "tcp://host:port", "unix://", "localhost:2375"])
def test_unusable_host_addresses_are_refused(host: str) -> None:
    with pytest.raises(EndpointError):
        parse_host(host)


def test_a_chunked_upload_reaches_the_daemon_whole(engine: FakeEngine) -> None:
    engine.json("POST", "/images/load", {})
    client_for(engine).request("POST", "/images/load", data=iter([b"ab", b"cd", b"e"])).close()
    request = engine.seen("POST", "/images/load")[0]
    assert request.body == b"abcde"
    assert request.headers["transfer-encoding"] == "chunked"


def test_hijack_keeps_the_stream_bytes_sent_with_the_answer(engine: FakeEngine) -> None:
    def attach(sock: socket.socket, _request: object) -> None:
        sock.sendall(frame(STDOUT, b"out\n") + frame(STDERR, b"err\n"))
        sock.close()

    engine.route("POST", "/containers/c1/attach", lambda r: Reply(hijack=attach))
    stream = client_for(engine).hijack("/containers/c1/attach", {"stream": True})
    assert list(demux(stream.read)) == [(STDOUT, b"out\n"), (STDERR, b"err\n")]
    request = engine.seen("POST", "/containers/c1/attach")[0]
    assert (request.headers["upgrade"], request.headers["connection"]) == ("tcp", "Upgrade")


def test_hijack_sends_stdin_and_half_closes_at_its_end(engine: FakeEngine) -> None:
    def echo(sock: socket.socket, _request: object) -> None:
        received = b""
        while chunk := sock.recv(100):
            received += chunk
        sock.sendall(received.upper())
        sock.close()

    engine.route("POST", "/exec/e1/start", lambda r: Reply(hijack=echo))
    stream = client_for(engine).hijack("/exec/e1/start", body={"Tty": True})
    stream.send(b"hello")
    stream.close_write()
    assert stream.read(5) == b"HELLO"
    assert engine.seen("POST", "/exec/e1/start")[0].json() == {"Tty": True}


def test_hijack_refused_with_an_error_status_raises_the_message(engine: FakeEngine) -> None:
    engine.json("POST", "/containers/c1/attach", {"message": "container c1 is not running"}, 409)
    with pytest.raises(APIError, match="is not running"):
        client_for(engine).hijack("/containers/c1/attach")


def test_demux_stops_at_a_truncated_frame() -> None:
    data = frame(STDOUT, b"whole") + frame(STDERR, b"cut short")[:10]
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        chunk = data[position : position + size]
        position += len(chunk)
        return chunk

    assert list(demux(read)) == [(STDOUT, b"whole"), (STDERR, b"cu")]


def test_json_messages_split_across_chunks_and_back_to_back() -> None:
    chunks = [b'{"status":"a"}{"sta', b'tus":"b"}\n{"status":', b'"\xc3', b'\xa9"}\n']
    assert [m["status"] for m in json_messages(iter(chunks))] == ["a", "b", "é"]


def test_a_progress_message_with_an_error_raises_it() -> None:
    with pytest.raises(StreamError, match="manifest unknown"):
        raise_for_error(
            {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}
        )


def test_a_streamed_body_is_read_as_it_arrives(engine: FakeEngine) -> None:
    engine.route(
        "GET", "/events", lambda r: Reply(chunks=[b'{"Action":"start"}\n', b'{"Action":"die"}\n'])
    )
    response = client_for(engine).request("GET", "/events")
    assert [m["Action"] for m in json_messages(response.iter_chunks())] == ["start", "die"]
