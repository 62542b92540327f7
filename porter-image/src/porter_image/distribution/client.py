"""One registry host's HTTP API: scheme, TLS, auth, retries and error mapping in one place.

Every request goes through `RegistryClient.request`, which
- finds the scheme once (`/v2/` over HTTPS; plain HTTP only for loopback hosts, hosts given
  as insecure, or with TLS verification off, as docker and skopeo allow),
- sends the Authorization header the `Authenticator` holds for the request's scopes, and on a
  401 learns the challenge and tries once more (a second 401 is "unauthorized", no retry storm),
- retries connection errors and 5xx with exponential backoff, and 429 after its Retry-After.
"""

from __future__ import annotations

import http.client
import re
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

from porter_image.distribution.auth import Authenticator, Credentials
from porter_image.distribution.errors import (
    RegistryError,
    RegistryNotFoundError,
    RegistryUnauthorizedError,
    RegistryUnavailableError,
    error_detail,
)
from porter_image.distribution.response import Response, count_of
from porter_image.distribution.session import (
    HostNotFoundError,
    HttpSession,
    Params,
    RequestBody,
    TooManyRedirectsError,
    origin,
    worth_retrying,
)
from porter_image.distribution.tls import DOCKER_CERTS_D, is_loopback, tls_settings

USER_AGENT = "porter-image"
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
MAX_REDIRECTS = 10
MAX_RETRY_AFTER = 60.0
# How long an HTTPS probe may wait for a TLS answer before plain HTTP is tried instead (a
# plain HTTP server may sit silent on a TLS hello rather than hang up); loopback answers fast.
TLS_PROBE_TIMEOUT = 5.0
LOOPBACK_TLS_PROBE_TIMEOUT = 1.0
# OpenSSL's reason inside the message of an SSLError: "[SSL: CODE] reason (_ssl.c:992)"
_SSL_REASON = re.compile(r"\[SSL(?:: [A-Z0-9_]+)?\] ([^(]+)")
# host -> base URL found by a probe, shared by the clients of this process
_SCHEMES: dict[str, str] = {}


@dataclass(frozen=True)
class RegistryOptions:
    """How to reach registries: credentials, TLS, which hosts may use plain HTTP, retries."""

    credentials: Credentials | None = None
    # without `credentials`, look in docker's and podman's files (porter_image.credentials)
    stored_credentials: bool = True
    tls_verify: bool = True
    insecure_registries: tuple[str, ...] = ()
    certs_dir: Path = DOCKER_CERTS_D
    retries: int = 3
    retry_delay: float = 1.0
    timeout: float = 60.0
    # threads that may use one client at once (layers move in parallel)
    connections: int = 8
    extra_headers: dict[str, str] = field(default_factory=dict)

    def allows_plain_http(self, host: str) -> bool:
        return not self.tls_verify or host in self.insecure_registries or is_loopback(host)


class RegistryClient:
    """Requests to one registry host (`HOST[:PORT]`)."""

    def __init__(self, host: str, options: RegistryOptions | None = None) -> None:
        self.host = host
        self.options = options or RegistryOptions()
        tls = self._tls_for(host)
        self.session = HttpSession(
            *tls,
            pool_size=self.options.connections,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": USER_AGENT, **self.options.extra_headers},
            tls_for=self._tls_for,
        )
        self.auth = Authenticator(
            self.session, host, self.options.credentials, self.options.timeout
        )
        self._base: str | None = None

    def _tls_for(self, host: str) -> tuple[bool | str, tuple[str, str] | None]:
        """A host's TLS settings (this registry's, or a host it redirects to): verified
        unless it is one that may use plain HTTP, with its own certs.d folder."""
        if origin(f"https://{host}") == origin(f"https://{self.host}"):
            host = self.host  # as the user spelt it, as certs.d and the options name it
        secure = not self.options.allows_plain_http(host)
        tls = tls_settings(host, secure, self.options.certs_dir)
        return tls.verify, tls.cert

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the base URL ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base is None:
            self._base = self._find_scheme()
        return self._base

    def _find_scheme(self) -> str:
        """Ping `/v2/` over HTTPS, then (where allowed) plain HTTP; learn any challenge.

        A scheme found before in this process is tried first (and alone, when it answers).
        """
        schemes = ["https", "http"] if self.options.allows_plain_http(self.host) else ["https"]
        known = _SCHEMES.get(self.host, "").partition("://")[0]
        if known in schemes:
            schemes.remove(known)
            schemes.insert(0, known)
        failure: Exception | None = None
        for scheme in schemes:
            base = f"{scheme}://{self.host}"
            probing = scheme != schemes[-1]
            try:
                response = self._send_with_retries(
                    "GET",
                    f"{base}/v2/",
                    {},
                    None,
                    {},
                    False,
                    0 if probing else None,
                    self._probe_timeout() if probing else None,
                )
            except RegistryUnavailableError as exc:
                if isinstance(exc.__cause__, HostNotFoundError):
                    raise  # no scheme reaches a name that does not resolve
                failure = exc
                continue
            if response.status_code == 401:
                self.auth.learn(response)
            elif response.status_code != 200 and response.status_code != 404:
                raise self.error(response, f"registry {self.host}")
            _SCHEMES[self.host] = base
            return base
        assert failure is not None
        raise failure

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        scopes: tuple[str, ...],
        *,
        headers: dict[str, str] | None = None,
        params: Params = None,
        body: RequestBody = None,
        stream: bool = False,
        retries: int | None = None,
    ) -> Response:
        """Send a request (path relative to the host, or an absolute URL the registry gave).

        A `body` that is a callable is called for each attempt (a stream to send again).
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        # the registry's credentials go to the registry only: not to a URL it names elsewhere
        # (an upload's Location, a Link to the next page), nor learnt from another host's 401
        own = self._is_own(url)
        for attempt in range(2):
            all_headers = dict(headers or {})
            authorization = self.auth.header(scopes) if own else None
            if authorization:
                all_headers["Authorization"] = authorization
            response = self._send_with_retries(
                method, url, all_headers, body, params, stream, retries
            )
            if response.status_code != 401 or attempt == 1 or not self._is_own(response.url):
                return response
            response.close()
            self.auth.forget(scopes)
            if not self.auth.learn(response):
                return response
        raise AssertionError("unreachable")

    def _is_own(self, url: str) -> bool:
        """Whether `url` is on the registry's own scheme, host and port."""
        return origin(url) == origin(self.base_url)

    def _tls_failure(self, exc: Exception) -> str:
        """Why the handshake failed, and where docker's certs.d would mend it."""
        reason = _ssl_reason(exc)
        folder = self.options.certs_dir / self.host
        if "certificate verify failed" in reason:
            return f"TLS failed: {reason} (is the registry's CA in {folder / 'ca.crt'}?)"
        if "bad certificate" in reason or "certificate required" in reason:
            return (
                f"TLS failed: {reason} (does the registry want a client certificate, "
                f"{folder / 'client.cert'} with {folder / 'client.key'}?)"
            )
        return f"TLS failed: {reason}"

    def _send_with_retries(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: RequestBody,
        params: Params,
        stream: bool,
        retries: int | None = None,
        read_timeout: float | None = None,  # a probe's, instead of options.timeout
    ) -> Response:
        where = f"{method} {url}"
        # a probe bounds connecting (the TLS handshake included) and reading alike
        timeout = read_timeout or self.options.timeout
        retries = self.options.retries if retries is None else retries
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    body=body,
                    params=params,
                    stream=stream,
                    timeout=timeout,
                )
            except TooManyRedirectsError as exc:
                raise RegistryError(where, f"redirect loop (more than {MAX_REDIRECTS})") from exc
            except ssl.SSLError as exc:
                raise RegistryUnavailableError(where, self._tls_failure(exc)) from exc
            except (OSError, http.client.HTTPException) as exc:
                if last or not worth_retrying(exc):
                    raise RegistryUnavailableError(where, _reason(exc)) from exc
                self._sleep(attempt, None)
                continue
            if last or not _retriable(response):
                return response
            response.close()
            self._sleep(attempt, response)
        raise AssertionError("unreachable")

    def _probe_timeout(self) -> float:
        return LOOPBACK_TLS_PROBE_TIMEOUT if is_loopback(self.host) else TLS_PROBE_TIMEOUT

    def _sleep(self, attempt: int, response: Response | None) -> None:
        delay = self.options.retry_delay * (2**attempt)
        if response is not None and response.status_code == 429:
            retry_after = count_of(response.headers.get("Retry-After"))
            if retry_after is not None:
                delay = min(float(retry_after), MAX_RETRY_AFTER)
        time.sleep(delay)

    @staticmethod
    def error(response: Response, where: str) -> RegistryError:
        """The error for a response that is not what the caller expected."""
        status = response.status_code
        body = response.body_prefix(65536)
        code, message = error_detail(body)
        detail = f"{code}: {message}" if code else f"HTTP {status}"
        if status in (401, 403):
            reason = "unauthorized" if status == 401 else "denied"
            return RegistryUnauthorizedError(where, f"{reason} ({detail})", status, code)
        if status == 404:
            return RegistryNotFoundError(where, f"not found ({detail})", status, code)
        if status == 429 or status >= 500:
            return RegistryUnavailableError(where, f"still failing ({detail})", status, code)
        return RegistryError(where, detail, status, code)


def _retriable(response: Response) -> bool:
    return response.status_code == 429 or response.status_code in RETRIED_STATUSES


def _ssl_reason(exc: Exception) -> str:
    """OpenSSL's words from under requests' and urllib3's wrappers."""
    found = _SSL_REASON.search(str(exc))
    return found.group(1).strip() if found else str(exc)


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if not worth_retrying(exc) or isinstance(exc, HostNotFoundError):
        return text  # the session's own one line: which host, proxy or URL, and why
    if isinstance(exc, http.client.HTTPException):
        return f"malformed answer ({type(exc).__name__}: {text[:200]})"
    return f"connection failed ({type(exc).__name__})"
