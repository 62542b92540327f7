"""Answers as a hostile registry or a broken network gives them: endless lines, too many
headers, bodies too long, too short or broken, a HEAD with a body, a stalled answer; none
exhausts memory, hangs, or poisons the next request on a kept-alive connection."""

from __future__ import annotations

import contextlib
import http.client
import time
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.response import IncompleteBodyError, ResponseTooLargeError
from porter_image.distribution.session import (
    HttpSession,
)


def endless(handler: BaseHTTPRequestHandler, head: bytes, unit: bytes) -> None:
    """Send `head`, then `unit` over and over until the client hangs up."""
    with contextlib.suppress(OSError):
        handler.wfile.write(head)
        for _ in range(100000):
            handler.wfile.write(unit)
    handler.close_connection = True


def test_an_endless_header_line_is_an_error(session: HttpSession) -> None:
    answer = lambda h: endless(h, b"HTTP/1.1 200 OK\r\nX-Endless: ", b"a" * 65536)  # noqa: E731
    with serving(answer) as (url, _), pytest.raises(http.client.LineTooLong):
        session.request("GET", f"{url}/v2/", timeout=10)


def test_an_endless_status_line_is_an_error(session: HttpSession) -> None:
    answer = lambda h: endless(h, b"HTTP/1.1 200 ", b"O" * 65536)  # noqa: E731
    with serving(answer) as (url, _), pytest.raises(http.client.LineTooLong):
        session.request("GET", f"{url}/v2/", timeout=10)


def test_a_million_headers_are_an_error(session: HttpSession) -> None:
    answer = lambda h: endless(h, b"HTTP/1.1 200 OK\r\n", b"X-Many: 1\r\n" * 1000)  # noqa: E731
    with serving(answer) as (url, _), pytest.raises(http.client.HTTPException, match="headers"):
        session.request("GET", f"{url}/v2/", timeout=10)


def test_an_endless_chunked_body_read_whole_is_refused_past_the_limit() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = lambda h: endless(h, head, b"10000\r\n" + b"x" * 65536 + b"\r\n")  # noqa: E731
    too_large = pytest.raises(ResponseTooLargeError, match="larger than 1048576")
    with serving(answer) as (url, _), HttpSession(max_content=1 << 20) as session, too_large:
        session.request("GET", f"{url}/v2/_catalog", timeout=10)


def test_a_content_length_past_the_limit_is_refused_before_reading(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"x", Content_Length=str(1 << 40))
        handler.close_connection = True

    with serving(answer) as (url, _), pytest.raises(ResponseTooLargeError):
        session.request("GET", f"{url}/token", timeout=10)


def test_a_streamed_body_is_not_bounded_by_the_whole_body_limit() -> None:
    answer = serving(lambda h: reply(h, 200, b"x" * 4096))
    with answer as (url, _), HttpSession(max_content=1024) as session:
        response = session.request("GET", f"{url}/blob", stream=True)
        assert len(response.read(4096)) == 4096


@pytest.mark.parametrize(
    "chunks",
    [b"5\r\nabcde\r\nzz-not-hex\r\n", b"5\r\nabcde\r\n"],
    ids=["a chunk size that is not hex", "cut before its last chunk"],
)
def test_a_broken_chunked_body_is_an_error(session: HttpSession, chunks: bytes) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
        handler.close_connection = True

    with serving(answer) as (url, _), pytest.raises(IncompleteBodyError):
        session.request("GET", f"{url}/blob", timeout=10)


def late_bytes(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    """Bytes sent on a kept-alive connection after its answer, once the client has sent its
    next request (as a server does that sends a HEAD's body, or more than it said)."""
    time.sleep(0.2)
    handler.wfile.write(data)


def test_a_body_longer_than_its_content_length_does_not_answer_the_next_request(
    session: HttpSession,
) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/first":
            reply(handler, 200, b"right", Content_Length="5")
            late_bytes(handler, b"and more than it said")
        else:
            reply(handler, 200, b"fresh")

    with serving(answer) as (url, _):
        assert session.request("GET", f"{url}/first").content == b"right"
        assert session.request("GET", f"{url}/second").content == b"fresh"


def test_a_head_answered_with_a_body_does_not_answer_the_next_request(
    session: HttpSession,
) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "HEAD":
            body = b'{"errors": [{"code": "BLOB_UNKNOWN"}]}'
            reply(handler, 404, Content_Length=str(len(body)))
            late_bytes(handler, body)
        else:
            reply(handler, 200, b"fresh")

    with serving(answer) as (url, _):
        assert session.request("HEAD", f"{url}/blob").status_code == 404
        assert session.request("GET", f"{url}/blob").content == b"fresh"


def test_an_answer_that_stalls_times_out(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        reply(handler, 200)

    with serving(answer) as (url, _), pytest.raises(TimeoutError):
        session.request("GET", f"{url}/v2/", timeout=0.2)


def test_a_body_that_stalls_times_out(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, b"part", Content_Length="100")
        time.sleep(3)

    with serving(answer) as (url, _):
        response = session.request("GET", f"{url}/blob", stream=True, timeout=0.2)
        assert response.read(4) == b"part"
        with pytest.raises(TimeoutError):
            response.read(96)


def test_an_informational_answer_is_skipped_for_the_answer_that_follows(
    session: HttpSession,
) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/manifest":
            hints = b"HTTP/1.1 103 Early Hints\r\nLink: </blob>\r\n\r\n"
            handler.wfile.write(hints + b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nmanifest")
        else:
            reply(handler, 200, b"blob")

    with serving(answer) as (url, _):
        response = session.request("GET", f"{url}/manifest")
        assert (response.status_code, response.content) == (200, b"manifest")
        assert session.request("GET", f"{url}/blob").content == b"blob"


def test_a_session_without_a_timeout_given_has_one(session: HttpSession) -> None:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        reply(handler, 200)

    session.timeout = 0.2
    with serving(answer) as (url, _), pytest.raises(TimeoutError):
        session.request("GET", f"{url}/v2/")
