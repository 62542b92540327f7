"""What the registry client makes of transport failures: one line naming what failed, and
no retries of what cannot succeed by being sent again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from http_test_server import reply, serving
from porter_image.distribution import client as client_module
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.errors import RegistryError, RegistryUnavailableError

pytestmark = pytest.mark.usefixtures("no_stored_credentials")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off sleeps of the client's retries (recorded, not slept)."""
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


def resolver_failing_with(monkeypatch: pytest.MonkeyPatch, errno: int) -> list[str]:
    """Name lookups fail with `errno` (as the system's resolver says it); the names asked."""
    asked: list[str] = []

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        raise socket.gaierror(errno, "from the test's resolver")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def registry_client() -> Iterator[RegistryClient]:
    with RegistryClient("registry.invalid") as client:
        yield client


def test_a_host_that_does_not_resolve_is_one_line_naming_it_without_retries(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], registry_client: RegistryClient
) -> None:
    asked = resolver_failing_with(monkeypatch, socket.EAI_NONAME)
    with pytest.raises(RegistryUnavailableError) as raised:
        registry_client.base_url  # noqa: B018
    assert str(raised.value) == (
        "GET https://registry.invalid/v2/: lookup registry.invalid: no such host"
    )
    assert (asked, sleeps) == (["registry.invalid"], [])


def test_an_insecure_host_that_does_not_resolve_is_not_tried_over_plain_http(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    asked = resolver_failing_with(monkeypatch, socket.EAI_NONAME)
    options = RegistryOptions(insecure_registries=("registry.invalid",))
    refused = pytest.raises(RegistryUnavailableError, match=r"https://.*no such host")
    with RegistryClient("registry.invalid", options) as client, refused:
        client.base_url  # noqa: B018
    assert asked == ["registry.invalid"]


def test_a_resolver_that_may_answer_later_is_asked_again(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], registry_client: RegistryClient
) -> None:
    asked = resolver_failing_with(monkeypatch, socket.EAI_AGAIN)
    with pytest.raises(RegistryUnavailableError, match="temporary failure in name resolution"):
        registry_client.base_url  # noqa: B018
    assert len(asked) == registry_client.options.retries + 1


@pytest.mark.parametrize(
    ("proxy", "reason"),
    [
        ("socks5://user:secret@proxy.invalid:1080", "only http:// and https:// proxies"),
        ("http://user:secret@proxy.invalid:31x8", "not a port number"),
    ],
)
def test_an_unusable_proxy_is_one_clear_error_without_retries(
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    registry_client: RegistryClient,
    proxy: str,
    reason: str,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(RegistryUnavailableError) as raised:
        registry_client.base_url  # noqa: B018
    message = str(raised.value)
    assert reason in message
    assert "secret" not in message
    assert sleeps == []


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("ftp://elsewhere.invalid/blob", "not http"),
        ("http://elsewhere.invalid:abc/blob", "not a port number"),
    ],
)
def test_a_redirect_to_a_url_that_cannot_be_sent_is_one_error_not_retried(
    sleeps: list[float], location: str, reason: str
) -> None:
    def answer(handler: Any) -> None:
        if handler.path == "/v2/":
            reply(handler, 200)
        else:
            reply(handler, 302, Location=location)

    refused = pytest.raises(RegistryError, match=reason)
    with serving(answer) as (url, seen), RegistryClient(url[7:]) as client, refused:
        client.request("GET", "/v2/a/blobs/sha256:00", ())
    assert [s[1] for s in seen.seen].count("/v2/a/blobs/sha256:00") == 1
    assert sleeps == []


def test_a_tls_failure_on_a_host_not_named_insecure_never_falls_back_to_plain_http(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    monkeypatch.setattr(client_module, "is_loopback", lambda host: False)
    with serving(lambda h: reply(h, 200)) as (url, seen):
        refused = pytest.raises(RegistryUnavailableError, match="TLS failed")
        with RegistryClient(url.removeprefix("http://")) as client, refused:
            client.base_url  # noqa: B018
    assert seen.seen == []


@pytest.mark.parametrize(
    ("retry_after", "slept"), [("2", 2.0), ("3600", 60.0), ("\u00b2", 0.5), ("9" * 5000, 0.5)]
)
def test_a_429_is_retried_after_its_retry_after_when_it_is_a_count(
    sleeps: list[float], retry_after: str, slept: float
) -> None:
    def answer(handler: Any) -> None:
        if handler.path == "/v2/":
            reply(handler, 200)
        else:
            reply(handler, 429, Retry_After=retry_after)

    options = RegistryOptions(retries=1, retry_delay=0.5)
    with serving(answer) as (url, _), RegistryClient(url[7:], options) as client:
        assert client.request("GET", "/v2/a/tags/list", ()).status_code == 429
    assert sleeps == [slept]
