"""Small answers leave in one send: the response head and a small body together."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from porter_registry.server import OneSendTask
from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser

REQUEST = b"GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n"


class Server:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.adj = Adjustments()
        self.application = app
        self.effective_port = 5000
        self.server_name = "registry"


class Channel:
    """Records what a task hands waitress to send, one entry per `write_soon`."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.server = Server(app)
        self.addr = ("127.0.0.1", 40000)
        self.sent: list[bytes] = []

    def check_client_disconnected(self) -> bool:
        return False

    def write_soon(self, data: bytes) -> int:
        self.sent.append(bytes(data))
        return len(data)


def _answering(body: bytes) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app


def _serve(body: bytes) -> list[bytes]:
    parser = HTTPRequestParser(Adjustments())
    parser.received(REQUEST)
    channel = Channel(_answering(body))
    OneSendTask(channel, parser).service()  # type: ignore[arg-type]
    return channel.sent


def test_a_small_answer_is_one_send_of_head_and_body() -> None:
    sent = _serve(b'{"small": true}')
    assert len(sent) == 1
    assert sent[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert sent[0].endswith(b'\r\n\r\n{"small": true}')


def test_a_large_body_is_sent_after_the_head() -> None:
    body = b"x" * (1 << 20)
    sent = _serve(body)
    assert sent[0].startswith(b"HTTP/1.1 200 OK\r\n") and sent[0].endswith(b"\r\n\r\n")
    assert b"".join(sent[1:]) == body
