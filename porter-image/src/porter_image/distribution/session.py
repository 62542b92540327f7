"""HTTP/1.1 for the registry client, on the standard library's http.client.

What a registry client needs and no more: kept-alive connections pooled per host (shared by
the threads that move layers), TLS with a CA bundle and a client certificate, the proxy
variables of the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY; HTTPS through a
CONNECT tunnel), redirects (the Authorization header dropped when one leads to another host,
as requests does), one timeout for connecting and for each read, and bodies streamed both
ways: a response body is read in chunks, and one that ends before its Content-Length is an
error (`IncompleteBodyError`), never a short blob.

It replaces requests on this path because a copy is a short-lived command: requests and
urllib3 cost tens of milliseconds to import, more than the whole transfer of a small image.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import select
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlencode, urljoin, urlsplit

if TYPE_CHECKING:
    import ssl

REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
# A redirect's or a discarded answer's body is read (to keep its connection) up to this size.
DISCARD_LIMIT = 65536

Params = Mapping[str, str] | list[tuple[str, str]] | None
# bytes, or a callable that opens the body anew for each send (a redirect may need it twice)
RequestBody = bytes | Callable[[], BinaryIO] | None


class TooManyRedirectsError(Exception):
    """More redirects than the session follows."""


class IncompleteBodyError(ConnectionError):
    """A response body that ended before its Content-Length (or a broken chunked body)."""


class UnsupportedProxyError(ConnectionError):
    """A proxy this client cannot use (only http:// proxies are)."""


# What a request can fail with, short of an HTTP status: connection, TLS and timeout errors
# are OSError (ssl.SSLError included), a malformed answer is an HTTPException.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, TooManyRedirectsError)


def parse_links(header: str) -> dict[str, dict[str, str]]:
    """A `Link` header's entries by their `rel` (as requests' `Response.links`)."""
    links: dict[str, dict[str, str]] = {}
    for part in re.split(r",\s*(?=<)", header.strip()):
        target, _, rest = part.partition(";")
        if not target.strip():
            continue
        link = {"url": target.strip(" <>'\"")}
        for param in rest.split(";"):
            key, _, value = param.partition("=")
            if key.strip():
                link[key.strip().lower()] = value.strip(" '\"")
        links[link.get("rel") or link["url"]] = link
    return links


class Response:
    """One answer: status, headers, and a body read once, in chunks or whole."""

    def __init__(
        self, raw: http.client.HTTPResponse, url: str, release: Callable[[bool], None]
    ) -> None:
        self.raw = raw
        self.url = url
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.msg
        self._release: Callable[[bool], None] | None = release
        self._content: bytes | None = None

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of the body (all of it when n < 0); b"" at its end.

        IncompleteBodyError when the body ends short of its Content-Length."""
        if self._release is None:
            return b""
        remaining = self.raw.length
        try:
            data = self.raw.read() if n < 0 else self.raw.read(n)
        except http.client.IncompleteRead as exc:
            self.close()
            raise IncompleteBodyError(f"body cut short ({len(exc.partial)} bytes)") from exc
        except (http.client.HTTPException, ValueError) as exc:
            self.close()
            raise IncompleteBodyError(f"body unreadable ({type(exc).__name__})") from exc
        except OSError:
            self.close()
            raise
        if not data and n != 0 and remaining:
            self.close()
            raise IncompleteBodyError(f"body cut short ({remaining} bytes missing)")
        if self.raw.isclosed():
            self._finish(reuse=True)
        return data

    @property
    def content(self) -> bytes:
        """The whole body (read once, kept)."""
        if self._content is None:
            self._content = self.read()
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def links(self) -> dict[str, dict[str, str]]:
        return parse_links(self.headers.get("Link", ""))

    def body_prefix(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body for an error message; b"" when it cannot be read."""
        if self._content is not None:
            return self._content[:limit]
        try:
            return self.read(limit)
        except TRANSPORT_ERRORS:
            return b""

    def discard(self) -> None:
        """Read a small rest of the body, so that the connection serves the next request."""
        try:
            if self.raw.length is None or self.raw.length <= DISCARD_LIMIT:
                self.read(DISCARD_LIMIT)
        except TRANSPORT_ERRORS:
            pass
        self.close()

    def close(self) -> None:
        """Give the connection back when the body was read to its end, else close it."""
        self._finish(reuse=self.raw.isclosed())

    def _finish(self, reuse: bool) -> None:
        release, self._release = self._release, None
        if release is not None:
            reuse = reuse and not self.raw.will_close
            if not reuse:
                self.raw.close()
            release(reuse)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Route:
    """Where a URL's connection goes: straight to the host, or through a proxy."""

    def __init__(self, scheme: str, host: str, port: int, proxy: str | None) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.proxy_host: str | None = None
        self.proxy_port: int | None = None
        self.proxy_headers: dict[str, str] = {}
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if parts.scheme != "http":
                raise UnsupportedProxyError(f"{parts.scheme}:// proxy {parts.hostname}")
            self.proxy_host, self.proxy_port = parts.hostname, parts.port or 80
            if parts.username is not None:
                login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                self.proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(
                    login.encode()
                ).decode("ascii")
        self.key = (scheme, host, port, self.proxy_host, self.proxy_port)

    @property
    def forwarding(self) -> bool:
        """Plain HTTP through a proxy: the request names the whole URL to the proxy."""
        return self.proxy_host is not None and self.scheme == "http"


class HttpSession:
    """Requests to any host, over pooled connections; see the module docstring.

    `verify` is True (the system's CAs), False, or the path of a CA bundle; `cert` a client
    certificate and its key. Up to `pool_size` idle connections are kept per host.
    """

    def __init__(
        self,
        verify: bool | str = True,
        cert: tuple[str, str] | None = None,
        pool_size: int = 8,
        max_redirects: int = 10,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.verify = verify
        self.cert = cert
        self.pool_size = pool_size
        self.max_redirects = max_redirects
        self.headers = dict(headers or {})
        self._context: ssl.SSLContext | None = None
        self._idle: dict[tuple[Any, ...], list[http.client.HTTPConnection]] = {}
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    # -- settings --------------------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The one context of every HTTPS connection, made at first use: the system's CAs
        are loaded (tens of ms) only when certificates are checked."""
        with self._lock:
            if self._context is None:
                self._context = _ssl_context(self.verify, self.cert)
            return self._context

    def environment_proxies(self, url: str) -> dict[str, str]:
        """The proxies the environment gives for `url`'s host, read once per scheme and host."""
        scheme, netloc = urlsplit(url)[:2]
        with self._lock:
            found = self._proxies.get((scheme, netloc))
        if found is None:
            found = environment_proxies(scheme, netloc)
            with self._lock:
                self._proxies[(scheme, netloc)] = found
        return dict(found)

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Params = None,
        body: RequestBody = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> Response:
        """Send a request, following redirects; a body not streamed is read before return."""
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        all_headers = {**self.headers, **(headers or {})}
        for _ in range(self.max_redirects + 1):
            response = self._send(method, url, all_headers, body, timeout)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECTS or not location:
                if not stream:
                    response.content  # noqa: B018 - read now, the connection goes back
                return response
            response.discard()
            target = urljoin(url, location)
            method, body = _redirected_method(response.status_code, method, body, all_headers)
            if _strips_auth(url, target):
                all_headers.pop("Authorization", None)
            url = target
        raise TooManyRedirectsError(f"more than {self.max_redirects} redirects")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: RequestBody,
        timeout: float | None,
    ) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise http.client.InvalidURL(f"not an http(s) URL: {url}")
        host = parts.hostname or ""
        proxies = self.environment_proxies(url)
        proxy = proxies.get(scheme) or proxies.get("all")
        route = _Route(scheme, host, parts.port or DEFAULT_PORTS[scheme], proxy)
        target = url.split("#")[0] if route.forwarding else _path_of(parts)
        wanted = dict(headers)
        if route.forwarding:
            wanted.update(route.proxy_headers)
        connection, reused = self._connection(route, timeout)
        try:
            response = self._exchange(connection, method, target, wanted, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            if not reused or callable(body):
                raise  # a stream may have been half sent: the caller knows how to go on
            # a kept-alive connection the server closed meanwhile: once more, on a new one
            connection = self._connect(route, timeout)
            try:
                response = self._exchange(connection, method, target, wanted, body)
            except BaseException:
                connection.close()
                raise
        except BaseException:
            connection.close()
            raise
        return Response(response, url, lambda reuse: self._release(route, connection, reuse))

    @staticmethod
    def _exchange(
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: RequestBody,
    ) -> http.client.HTTPResponse:
        data = body() if callable(body) else body
        try:
            connection.request(method, target, body=data, headers=headers)
        finally:
            if hasattr(data, "close"):
                data.close()
        return connection.getresponse()

    # -- connections -----------------------------------------------------------------------

    def _connection(
        self, route: _Route, timeout: float | None
    ) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection of the route still open, else a new one; and whether reused."""
        while True:
            with self._lock:
                idle = self._idle.get(route.key)
                connection = idle.pop() if idle else None
            if connection is None:
                return self._connect(route, timeout), False
            if connection.sock is not None and not _dropped(connection.sock):
                connection.sock.settimeout(timeout)
                connection.timeout = timeout
                return connection, True
            connection.close()

    def _connect(self, route: _Route, timeout: float | None) -> http.client.HTTPConnection:
        host, port = route.host, route.port
        if route.proxy_host is not None:
            host, port = route.proxy_host, route.proxy_port or 80
        connection: http.client.HTTPConnection
        if route.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=self.ssl_context
            )
            if route.proxy_host is not None:
                connection.set_tunnel(route.host, route.port, route.proxy_headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.connect()
        return connection

    def _release(self, route: _Route, connection: http.client.HTTPConnection, reuse: bool) -> None:
        if reuse and connection.sock is not None:
            with self._lock:
                idle = self._idle.setdefault(route.key, [])
                if len(idle) < self.pool_size:
                    idle.append(connection)
                    return
        connection.close()


def _path_of(parts: Any) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _dropped(sock: Any) -> bool:
    """Whether an idle connection was closed by the server (readable means EOF, or bytes no
    request asked for: either way it cannot carry the next request)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _redirected_method(
    status: int, method: str, body: RequestBody, headers: dict[str, str]
) -> tuple[str, RequestBody]:
    """The method and body of the request a redirect asks for, as browsers and requests do:
    303 (and 302, and 301 after a POST) becomes a GET without a body; 307 and 308 keep both."""
    if status in (307, 308):
        return method, body
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
        headers.pop(name, None)
    return method, None


def _strips_auth(old_url: str, new_url: str) -> bool:
    """Whether a redirect from `old_url` to `new_url` must drop the Authorization header:
    another host, port or scheme (an http -> https upgrade on the default ports excepted)."""
    old, new = urlsplit(old_url), urlsplit(new_url)
    if old.hostname != new.hostname:
        return True
    if (
        old.scheme == "http"
        and old.port in (80, None)
        and new.scheme == "https"
        and new.port in (443, None)
    ):
        return False
    if old.scheme != new.scheme:
        return True
    default = (DEFAULT_PORTS.get(old.scheme), None)
    if old.port in default and new.port in default:
        return False
    return old.port != new.port


def _ssl_context(verify: bool | str, cert: tuple[str, str] | None) -> ssl.SSLContext:
    import ssl

    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def environment_proxies(scheme: str, netloc: str) -> dict[str, str]:
    """The proxy variables' answer for a host, as requests reads them: {} when NO_PROXY
    names the host (a domain suffix, `host:port`, `*`, or a network holding its address)."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return {}  # the common case, without importing urllib.request
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    no_proxy = proxies.pop("no", "")
    host = urlsplit(f"{scheme}://{netloc}/").hostname or ""
    if no_proxy and (_in_networks(host, no_proxy) or _bypassed(netloc, no_proxy)):
        return {}
    return proxies


def _bypassed(netloc: str, no_proxy: str) -> bool:
    import urllib.request

    return bool(urllib.request.proxy_bypass_environment(netloc, {"no": no_proxy}))


def _in_networks(host: str, no_proxy: str) -> bool:
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in no_proxy.replace(" ", "").split(","):
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
