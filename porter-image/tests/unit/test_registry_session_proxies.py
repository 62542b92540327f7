"""The proxy variables as docker (Go) and requests users have them set: loopback is never
proxied, NO_PROXY entries by suffix, leading dot, port, network, `*`, in either case."""

from __future__ import annotations

import socket

import pytest
from http_test_server import reply, serving
from porter_image.distribution.proxies import environment_proxies
from porter_image.distribution.session import HttpSession

PROXY = "http://proxy.example:3128"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own proxy variables only, not the machine's."""
    for name in [n for n in __import__("os").environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_loopback_registry_is_reached_directly_whatever_the_proxy_variables(
    monkeypatch: pytest.MonkeyPatch, session: HttpSession
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port()}")
    with serving(lambda h: reply(h, 200, b"direct")) as (url, seen):
        assert session.request("GET", f"{url}/v2/", timeout=5).content == b"direct"
    assert seen.seen[0][1] == "/v2/"


@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.2", "[::1]:5000"])
def test_loopback_hosts_have_no_proxy(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    assert environment_proxies("https", host) == {}


@pytest.mark.parametrize(
    ("no_proxy", "netloc", "bypassed"),
    [
        ("registry.example:443", "registry.example", True),
        ("registry.example:5000", "registry.example", False),
        ("registry.example:5000", "registry.example:5000", True),
        (".example", "registry.example", True),
        ("EXAMPLE", "Registry.Example", True),
        ("*", "anything.example", True),
        ("other.example, fd00::/8", "[fd00::5]:5000", True),
        ("example", "notexample", False),
    ],
)
def test_no_proxy_entries_are_read_as_go_and_requests_read_them(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, netloc: str, bypassed: bool
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert (environment_proxies("https", netloc) == {}) is bypassed


def test_lower_case_proxy_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", PROXY)
    monkeypatch.setenv("no_proxy", "direct.example")
    assert environment_proxies("https", "registry.example")["https"] == PROXY
    assert environment_proxies("https", "direct.example") == {}
