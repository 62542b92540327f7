"""The minimal HTTP/1.1 connection of porter's client: requests as servers expect them and
the three ways a response body ends."""

from __future__ import annotations

import socket
import threading

import pytest
from porter_cli.client.http11 import Connection, ProtocolError


def exchange(answer: bytes, body: object = None, method: str = "GET"):  # type: ignore[no-untyped-def]
    """Send one request over a socket pair whose far end answers `answer` and then closes;
    -> (the request bytes received, the response)."""
    near, far = socket.socketpair()
    received = bytearray()

    def serve() -> None:
        far.settimeout(5)
        while b"\r\n0\r\n\r\n" not in received and not _complete(bytes(received)):
            chunk = far.recv(65536)
            if not chunk:
                break
            received.extend(chunk)
        far.sendall(answer)
        far.close()

    server = threading.Thread(target=serve)
    server.start()
    conn = Connection(lambda: near, "localhost")
    conn.request(method, "/v1.43/x", body=body, headers={"User-Agent": "t"})  # type: ignore[arg-type]
    response = conn.getresponse()
    server.join(5)
    return bytes(received), response


def _complete(data: bytes) -> bool:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or b"Transfer-Encoding: chunked" in head:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":")[1])
    return True


def test_a_body_of_known_length_is_read_to_its_length() -> None:
    _, response = exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")
    assert (response.status, response.read(), response.read()) == (200, b"hello", b"")


def test_a_chunked_body_is_read_chunk_by_chunk_to_its_last_chunk() -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n"
    )
    _, response = exchange(answer)
    assert [response.read1(), response.read1(), response.read1()] == [b"abc", b"de", b""]


def test_a_body_without_length_ends_with_the_connection() -> None:
    _, response = exchange(b"HTTP/1.0 200 OK\r\nX-Thing: 1\r\n\r\nall of it")
    assert (response.read(), response.headers.get("x-thing")) == (b"all of it", "1")


def test_a_no_content_answer_has_no_body() -> None:
    _, response = exchange(b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n")
    assert response.read() == b""


def test_a_bytes_body_is_sent_with_its_length() -> None:
    request, _ = exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b'{"a":1}', "POST")
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1.43/x HTTP/1.1\r\nHost: localhost\r\n")
    assert (b"Content-Length: 7" in head, body) == (True, b'{"a":1}')


def test_an_iterable_body_is_sent_chunked() -> None:
    request, _ = exchange(b"HTTP/1.1 200 OK\r\n\r\n", iter([b"ab", b"", b"cde"]), "POST")
    head, _, body = request.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"


def test_a_post_without_body_says_its_length_is_zero() -> None:
    request, _ = exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", None, "POST")
    assert b"Content-Length: 0\r\n" in request


@pytest.mark.parametrize(
    "answer",
    [b"SSH-2.0-OpenSSH\r\n\r\n", b"", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"],
    ids=["not http", "closed at once", "bad header"],
)
def test_an_answer_that_is_not_http_is_a_protocol_error(answer: bytes) -> None:
    with pytest.raises(ProtocolError):
        exchange(answer)


def test_a_body_cut_short_is_a_protocol_error() -> None:
    _, response = exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    with pytest.raises(ProtocolError):
        response.read()
