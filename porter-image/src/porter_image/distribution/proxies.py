"""The proxy variables of the environment, and where a URL's connection goes through them.

HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are read as requests reads them (either
case, the lower-case one first), with what Go's net/http adds and docker users rely on:
loopback hosts are never proxied, a NO_PROXY entry may be a network (`10.0.0.0/8`), and
`host:port` entries match a URL without a port on its scheme's default port.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsupportedProxyError(ConnectionError):
    """A proxy this client cannot use (only http:// and https:// proxies are)."""


class ProxyTunnelError(ConnectionError):
    """A proxy that answered CONNECT with something else than 200."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Route:
    """Where a URL's connection goes: straight to the host, or through a proxy (reached over
    plain HTTP, or over TLS when the proxy's URL is https://)."""

    def __init__(self, scheme: str, host: str, port: int, proxy: str | None) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.proxy_scheme: str | None = None
        self.proxy_host: str | None = None
        self.proxy_port: int | None = None
        self.proxy_headers: dict[str, str] = {}
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            self.proxy_scheme = parts.scheme.lower()
            if self.proxy_scheme not in DEFAULT_PORTS or not parts.hostname:
                raise UnsupportedProxyError(
                    f"proxy {_without_password(proxy)} for {host}: only http:// and https://"
                    " proxies are supported"
                )
            try:
                port = parts.port
            except ValueError:
                raise UnsupportedProxyError(
                    f"proxy {_without_password(proxy)} for {host}: not a port number"
                ) from None
            self.proxy_host = parts.hostname
            self.proxy_port = port or DEFAULT_PORTS[self.proxy_scheme]
            if parts.username is not None:
                login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                self.proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(
                    login.encode()
                ).decode("ascii")
        self.key = (scheme, host, port, self.proxy_scheme, self.proxy_host, self.proxy_port)

    @property
    def forwarding(self) -> bool:
        """Plain HTTP through a proxy: the request names the whole URL to the proxy."""
        return self.proxy_host is not None and self.scheme == "http"

    @property
    def tunnelling(self) -> bool:
        """HTTPS through a proxy: a CONNECT tunnel to the host, TLS to the host inside it."""
        return self.proxy_host is not None and self.scheme == "https"


def _without_password(proxy: str) -> str:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.password is None:
        return proxy
    return proxy.replace(f":{parts.password}@", ":***@", 1)


def environment_proxies(scheme: str, netloc: str) -> dict[str, str]:
    """The proxy variables' answer for a host: {} when the host is loopback or NO_PROXY names
    it (a domain suffix, `.suffix`, `host:port`, `*`, or a network holding its address)."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return {}  # the common case, without importing urllib.request
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    no_proxy = proxies.pop("no", "")
    parts = urlsplit(f"{scheme}://{netloc}/")
    host = parts.hostname or ""
    if _is_loopback(host):
        return {}
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    if no_proxy and (_in_networks(host, no_proxy) or _bypassed(host, port, no_proxy)):
        return {}
    return proxies


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    import urllib.request

    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return bool(urllib.request.proxy_bypass_environment(netloc, {"no": no_proxy}))


def _in_networks(host: str, no_proxy: str) -> bool:
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in no_proxy.replace(" ", "").split(","):
        try:
            if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                return True
        except ValueError:
            continue
    return False
