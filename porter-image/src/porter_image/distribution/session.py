"""HTTP/1.1 for the registry client, on the standard library's http.client.

What a registry client needs and no more: kept-alive connections pooled per host (shared by
the threads that move layers), TLS with a CA bundle and a client certificate, the proxy
variables of the environment (see `porter_image.distribution.proxies`; HTTPS through a
CONNECT tunnel, see `porter_image.distribution.tunnel`; http:// and https:// proxies),
redirects, one timeout for connecting and for each read, and bodies streamed
both ways: a response body is read in chunks, and one that ends before its Content-Length is
an error (`IncompleteBodyError`), never a short blob.

What a hostile registry or network meets:
- a redirect is followed at most `max_redirects` times, only to http(s) URLs; credentials
  (Authorization, Cookie, Proxy-Authorization) never go to another host, port or scheme; 307
  and 308 keep the method and body, 301, 302 and 303 turn anything but GET and HEAD to a GET
  without a body (as Go's net/http, which docker and skopeo run on); a URL it names is
  requoted (spaces, non-ASCII) rather than crash http.client;
- TLS settings are per host (`tls_for`): an unverified connection or a client certificate
  given for the registry does not follow a redirect to another host;
- status and header lines are bounded by http.client (64 KiB a line, 100 headers); a body
  read whole (not streamed) is bounded by `max_content` (`ResponseTooLargeError`);
  informational answers (1xx) are skipped, never taken for the answer;
- a connection goes back to the pool only when its answer was read to its end, and an idle
  one is dropped when anything (EOF, bytes no request asked for) arrived on it meanwhile; a
  reused one that answers garbage or hangs up is replaced once (a stream body excepted);
- a host name that does not resolve is `HostNotFoundError`, one line naming the host;
  `worth_retrying` tells the errors that sending again cannot mend.

It replaces requests on this path because a copy is a short-lived command: requests and
urllib3 cost tens of milliseconds to import, more than the whole transfer of a small image.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, urlencode, urljoin, urlsplit

from porter_image.distribution.proxies import (
    DEFAULT_PORTS,
    ProxyTunnelError,
    Route,
    UnsupportedProxyError,
    environment_proxies,
)
from porter_image.distribution.response import (
    MAX_CONTENT,
    Response,
    ResponseTooLargeError,
)

if TYPE_CHECKING:
    import ssl

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Connecting and each read give up after this long, unless a request says otherwise.
DEFAULT_TIMEOUT = 60.0
# Informational answers (103 Early Hints, ...) skipped before the answer to a request.
MAX_INFORMATIONAL = 5
# What a URL keeps as it is when requoted (requests' requote_uri keeps the same).
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
# Headers that carry credentials: never sent on to another host, port or scheme.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

Params = Mapping[str, str] | list[tuple[str, str]] | None
# `verify` and `cert` for a host (`HOST` on port 443, else `HOST:PORT`), as certs.d names it
TlsChoice = Callable[[str], tuple[bool | str, tuple[str, str] | None]]
# bytes, or a callable that opens the body anew for each send (a redirect may need it twice)
RequestBody = bytes | Callable[[], BinaryIO] | None


class TooManyRedirectsError(Exception):
    """More redirects than the session follows."""


class HostNotFoundError(ConnectionError):
    """A host name that does not resolve; `temporary` when the resolver may answer later."""

    def __init__(self, host: str, cause: socket.gaierror) -> None:
        self.host = host
        self.temporary = cause.errno == socket.EAI_AGAIN
        reason = "temporary failure in name resolution" if self.temporary else "no such host"
        super().__init__(f"lookup {host}: {reason}")


class UnsupportedRedirectError(http.client.HTTPException):
    """A redirect to something other than an http(s) URL."""


# What a request can fail with, short of an HTTP status: connection, TLS and timeout errors
# are OSError (ssl.SSLError included), a malformed answer is an HTTPException.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, TooManyRedirectsError)


def worth_retrying(exc: BaseException) -> bool:
    """Whether sending a request again may mend `exc` (a transport error): not a name that
    does not resolve, an unusable proxy, a redirect nowhere, an answer too large."""
    if isinstance(exc, HostNotFoundError):
        return exc.temporary
    if isinstance(exc, ProxyTunnelError):
        return exc.status >= 500
    final = (UnsupportedProxyError, ResponseTooLargeError, UnsupportedRedirectError)
    return not isinstance(exc, (*final, http.client.InvalidURL))


class HttpSession:
    """Requests to any host, over pooled connections; see the module docstring.

    `verify` is True (the system's CAs), False, or the path of a CA bundle; `cert` a client
    certificate and its key. With `tls_for`, they are a host's own: a redirect to another
    host (or an https:// proxy) gets what `tls_for` says for that host, so that neither an
    unverified connection nor a client certificate reaches a host they were not given for.
    Up to `pool_size` idle connections are kept per host. A session is closed (its idle
    connections with it) by `close()` or by leaving a `with`.
    """

    def __init__(
        self,
        verify: bool | str = True,
        cert: tuple[str, str] | None = None,
        pool_size: int = 8,
        max_redirects: int = 10,
        headers: Mapping[str, str] | None = None,
        max_content: int = MAX_CONTENT,
        timeout: float = DEFAULT_TIMEOUT,
        tls_for: TlsChoice | None = None,
    ) -> None:
        self.verify = verify
        self.timeout = timeout
        self.tls_for = tls_for
        self.cert = cert
        self.pool_size = pool_size
        self.max_redirects = max_redirects
        self.max_content = max_content
        self.headers = dict(headers or {})
        self._contexts: dict[tuple[bool | str, tuple[str, str] | None], ssl.SSLContext] = {}
        self._idle: dict[tuple[Any, ...], list[http.client.HTTPConnection]] = {}
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- settings --------------------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The context of HTTPS connections made with `verify` and `cert`."""
        return self._context_of(self.verify, self.cert)

    def context_for(self, host: str, port: int) -> ssl.SSLContext:
        """The context of HTTPS connections to `host`, made at first use (one per kind):
        the system's CAs are loaded (tens of ms) only when certificates are checked."""
        if self.tls_for is None:
            return self.ssl_context
        name = f"[{host}]" if ":" in host else host
        return self._context_of(*self.tls_for(name if port == 443 else f"{name}:{port}"))

    def _context_of(self, verify: bool | str, cert: tuple[str, str] | None) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get((verify, cert))
            if context is None:
                context = self._contexts[(verify, cert)] = _ssl_context(verify, cert)
            return context

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
        """Send a request, following redirects; a body not streamed is read before return.

        `timeout` bounds connecting and each read (the session's when None)."""
        if timeout is None:
            timeout = self.timeout
        url = requote(url)
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
            target = _redirect_target(url, location)
            method, body = _redirected_method(response.status_code, method, body, all_headers)
            if _strips_auth(url, target):
                for name in [n for n in all_headers if n.lower() in CREDENTIAL_HEADERS]:
                    del all_headers[name]
            url = target
        raise TooManyRedirectsError(f"more than {self.max_redirects} redirects")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            self._closed = True
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: RequestBody,
        timeout: float,
    ) -> Response:
        parts = urlsplit(url)
        scheme, host, port = origin(url)
        if scheme not in DEFAULT_PORTS:
            raise http.client.InvalidURL(f"not an http(s) URL: {url}")
        if port is None:
            raise http.client.InvalidURL(f"not a port number in URL: {url[:200]}")
        proxies = self.environment_proxies(url)
        proxy = proxies.get(scheme) or proxies.get("all")
        route = Route(scheme, host, port, proxy)
        target = url.split("#")[0] if route.forwarding else _path_of(parts)
        wanted = dict(headers)
        if route.forwarding:
            wanted.update(route.proxy_headers)
        connection, reused = self._connection(route, timeout)
        while True:
            try:
                response = self._exchange(connection, method, target, wanted, body)
                break
            except (http.client.BadStatusLine, ConnectionResetError, BrokenPipeError):
                connection.close()
                if not reused or callable(body):
                    raise  # a stream may have been half sent: the caller knows how to go on
            except BaseException:
                connection.close()
                raise
            # a kept-alive connection the server closed meanwhile, or one that answered with
            # bytes sent late after its last answer (a HEAD's body): once more, on a new one
            connection, reused = self._connect(route, timeout), False
        answer = Response(response, url, lambda reuse: self._release(route, connection, reuse))
        answer.max_content = self.max_content
        return answer

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
        response = connection.getresponse()
        # http.client skips a 100 Continue only: any other 1xx would be taken for the answer,
        # and the answer left on the connection for the next request to read
        for _ in range(MAX_INFORMATIONAL):
            if not 100 <= response.status < 200:
                return response
            if response.status == 101 or connection.sock is None:
                raise http.client.HTTPException(f"unexpected answer {response.status}")
            following = http.client.HTTPResponse(connection.sock, method=method)
            following.fp.close()  # read on with the reader that may hold its first bytes
            following.fp, response.fp = response.fp, None
            response.close()
            response = following
            response.begin()
        raise http.client.HTTPException(f"more than {MAX_INFORMATIONAL} informational answers")

    # -- connections -----------------------------------------------------------------------

    def _connection(self, route: Route, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
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

    def _connect(self, route: Route, timeout: float) -> http.client.HTTPConnection:
        host, port = route.host, route.port
        if route.proxy_host is not None:
            host, port = route.proxy_host, route.proxy_port or 80
        connection: http.client.HTTPConnection
        if route.tunnelling:
            from porter_image.distribution.tunnel import TunnelConnection

            proxy = self.context_for(host, port) if route.proxy_scheme == "https" else None
            context = self.context_for(route.host, route.port)
            connection = TunnelConnection(route, timeout, context, proxy)
        elif route.scheme == "https" or route.proxy_scheme == "https":
            # TLS to the registry, or to the https:// proxy that forwards plain HTTP
            connection = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=self.context_for(host, port)
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.connect()
        except socket.gaierror as exc:
            connection.close()
            raise HostNotFoundError(host, exc) from exc
        except BaseException:
            connection.close()
            raise
        return connection

    def _release(self, route: Route, connection: http.client.HTTPConnection, reuse: bool) -> None:
        if reuse and connection.sock is not None:
            with self._lock:
                idle = self._idle.setdefault(route.key, []) if not self._closed else None
                if idle is not None and len(idle) < self.pool_size:
                    idle.append(connection)
                    return
        connection.close()


def _path_of(parts: Any) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _dropped(sock: Any) -> bool:
    """Whether an idle connection was closed by the server (readable means EOF, or bytes no
    request asked for: either way it cannot carry the next request). poll, not select,
    which cannot watch a descriptor past 1023 (a daemon holding many files has those)."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():
        return True  # TLS bytes already taken off the socket
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def requote(url: str) -> str:
    """`url` with what may not stand in a request line (spaces, control and non-ASCII
    characters) percent-encoded, and what is encoded already left as it is (as requests
    does): a registry's Location or Link is sent as it meant it, never as a crash."""
    return quote(url, safe=URL_SAFE)


def _redirect_target(url: str, location: str) -> str:
    """The absolute URL a redirect's Location names (it may be relative to `url`)."""
    target = requote(urljoin(url, location.strip()))
    scheme, host, _ = origin(target)
    if scheme not in DEFAULT_PORTS or not host:
        raise UnsupportedRedirectError(f"redirect to a URL that is not http(s): {target[:200]}")
    return target


def _redirected_method(
    status: int, method: str, body: RequestBody, headers: dict[str, str]
) -> tuple[str, RequestBody]:
    """The method and body of the request a redirect asks for, as Go's net/http (docker's,
    skopeo's) has them: 307 and 308 keep both; 301, 302 and 303 turn anything but GET and
    HEAD to a GET, and drop the body (never a PUT or POST sent again without its body)."""
    if status in (307, 308):
        return method, body
    if method not in ("GET", "HEAD"):
        method = "GET"
    for name in [n for n in headers if n.lower() in _BODY_HEADERS]:
        del headers[name]
    return method, None


_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})


def origin(url: str) -> tuple[str, str, int | None]:
    """`url`'s scheme, host and port (the scheme's default port when it names none)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: the origin of no server (`_send` refuses the URL)
        return scheme, parts.hostname or "", None
    return scheme, parts.hostname or "", port or DEFAULT_PORTS.get(scheme)


def _strips_auth(old_url: str, new_url: str) -> bool:
    """Whether a redirect from `old_url` to `new_url` must drop the credentials: another
    host, port or scheme (an http -> https upgrade on the default ports excepted)."""
    old, new = origin(old_url), origin(new_url)
    upgrade = (("http", old[1], 80), ("https", old[1], 443))
    return old != new and (old, new) != upgrade


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
