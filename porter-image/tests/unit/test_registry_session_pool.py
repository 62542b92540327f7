"""The session's pool of kept-alive connections: shared by the threads that move layers,
usable by a process holding many files, and closed with its session."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from http_test_server import reply, serving
from porter_image.distribution.session import HttpSession


def echo_path(handler: BaseHTTPRequestHandler) -> None:
    reply(handler, 200, handler.path.encode() * 100)


@pytest.fixture
def many_open_files() -> Iterator[None]:
    """Descriptors 0-1100 in use, so that the next socket's number is past select's 1023."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is too low to open 1200 files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    null = os.open(os.devnull, os.O_RDONLY)
    held = [os.dup(null) for _ in range(1100)]
    try:
        yield
    finally:
        for fd in [null, *held]:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("many_open_files")
def test_connections_past_descriptor_1023_are_kept_alive(session: HttpSession) -> None:
    with serving(echo_path) as (url, seen):
        for _ in range(3):
            session.request("GET", f"{url}/x")
    assert len({s[3] for s in seen.seen}) == 1


def test_threads_sharing_a_session_each_get_their_own_answers(session: HttpSession) -> None:
    wrong: list[str] = []

    def pull(name: str) -> None:
        for i in range(30):
            path = f"/{name}/{i}"
            if session.request("GET", f"{url}{path}").content != path.encode() * 100:
                wrong.append(path)

    with serving(echo_path) as (url, seen):
        threads = [threading.Thread(target=pull, args=(f"layer{n}",)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert wrong == []
    assert len(seen.seen) == 90
    assert len({s[3] for s in seen.seen}) <= 3


def test_a_connection_released_after_its_session_closed_is_not_kept() -> None:
    with serving(echo_path) as (url, seen), HttpSession() as session:
        response = session.request("GET", f"{url}/blob", stream=True)
        session.close()
        assert response.read(1000) == b"/blob" * 100
        assert response.read(1000) == b""
        session.request("GET", f"{url}/again")
    assert len({s[3] for s in seen.seen}) == 2
