"""A `ContentSource` over HTTP: the upstream registry of a pull-through cache.

The registry asks it on a local miss, and where a pulled tag points now (a HEAD; see
pull_through.py); what it returns is verified and stored like a push, so later pulls (even with
the upstream gone) are served from the cache. It logs in
to the upstream as clients do: on a 401 it reads the `WWW-Authenticate` challenge, and for
`Bearer` fetches a token from the realm for the request's scope (with the configured user and
password, or anonymously), caching it until shortly before it expires; for `Basic` it sends the
configured credentials. Blobs stream through in chunks and are checked against their digest as
they pass, so a bad upstream is caught even before the registry's own check.

An unreachable upstream, or one answering 404 or 5xx, is a miss (logged); an upstream refusing
the configured credentials is DENIED, naming the upstream, since no client retry can fix it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from porter_specs.digest import Digest, Digester, from_bytes, is_digest
from porter_specs.errors import DigestMismatchError

from porter_registry.config import ConfigError, ProxyConfig
from porter_registry.errors import RegistryError
from porter_registry.manifest_document import MANIFEST_TYPES, MAX_MANIFEST_BYTES
from porter_registry.upstream import FetchedManifest

log = logging.getLogger("porter_registry")

CHUNK = 1 << 20
TIMEOUT = (10.0, 300.0)  # connect, read
_TOKEN_MARGIN = 10.0
_ACCEPT = {"Accept": ", ".join(sorted(MANIFEST_TYPES))}
_PARAM = re.compile(r'\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("bearer", {"realm": ..., "service": ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
    return scheme.lower(), params


class UpstreamRegistry:
    """Fetches manifests and blobs from the registry at `url`."""

    def __init__(
        self, url: str, username: str = "", password: str = "", timeout: tuple = TIMEOUT
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"proxy.url {url!r}: expected http(s)://HOST[:PORT]")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.auth = (username, password) if username else None
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "porter-registry-proxy"
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- ContentSource -----------------------------------------------------------------------

    def fetch_manifest(self, name: str, reference: str) -> FetchedManifest | None:
        response = self._request("GET", name, f"/v2/{name}/manifests/{reference}", _ACCEPT)
        if response is None:
            return None
        with response:
            content = response.raw.read(MAX_MANIFEST_BYTES + 1, decode_content=True)
        if len(content) > MAX_MANIFEST_BYTES:
            raise RegistryError("MANIFEST_INVALID", f"upstream manifest {name}:{reference} too big")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return FetchedManifest(content, media_type)

    def fetch_blob(self, name: str, digest: Digest) -> Iterator[bytes] | None:
        response = self._request("GET", name, f"/v2/{name}/blobs/{digest}", {})
        if response is None:
            return None
        return self._verified_chunks(response, digest)

    def tag_digest(self, name: str, tag: str) -> Digest | None:
        """A HEAD of the manifest, as CNCF distribution's proxy does; a GET when the upstream's
        HEAD names no digest."""
        response = self._request("HEAD", name, f"/v2/{name}/manifests/{tag}", _ACCEPT)
        if response is None:
            return None
        response.close()
        header = response.headers.get("Docker-Content-Digest", "").strip()
        if is_digest(header):
            return Digest.parse(header)
        fetched = self.fetch_manifest(name, tag)
        return None if fetched is None else from_bytes(fetched.content)

    def blob_size(self, name: str, digest: Digest) -> int | None:
        response = self._request("HEAD", name, f"/v2/{name}/blobs/{digest}", {})
        if response is None:
            return None
        response.close()
        length = response.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else None

    # -- HTTP --------------------------------------------------------------------------------

    def _verified_chunks(self, response: requests.Response, digest: Digest) -> Iterator[bytes]:
        digester = Digester(digest.algorithm)
        try:
            for chunk in response.iter_content(CHUNK):
                digester.update(chunk)
                yield chunk
        except requests.RequestException as exc:
            raise RegistryError("BLOB_UNKNOWN", f"upstream stopped sending {digest}") from exc
        finally:
            response.close()
        actual = digester.digest()
        if actual != digest:
            raise DigestMismatchError(str(digest), str(actual), f"upstream blob {digest}")

    def _request(
        self, method: str, name: str, path: str, headers: dict[str, str]
    ) -> requests.Response | None:
        """The upstream's 200 response (streaming), or None for a miss."""
        scope = f"repository:{name}:pull"
        try:
            response = self._send(method, path, headers, scope)
            if response.status_code == 401:
                response.close()
                authorization = self._login(response, scope)
                response = self._send(method, path, headers, scope, authorization)
        except requests.RequestException as exc:
            log.warning("proxy: upstream %s unreachable for %s: %s", self.url, path, exc)
            return None
        if response.status_code == 200:
            return response
        response.close()
        if response.status_code in (401, 403):
            raise RegistryError("DENIED", f"upstream {self.url} refused the proxy's credentials")
        if response.status_code != 404:
            log.warning(
                "proxy: upstream %s answered %s for %s", self.url, response.status_code, path
            )
        return None

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        scope: str,
        authorization: str | None = None,
    ) -> requests.Response:
        headers = dict(headers)
        authorization = authorization or self._cached_token(scope)
        if authorization:
            headers["Authorization"] = authorization
        # Session.request follows redirects for HEAD too (blobs often live behind one).
        return self.session.request(
            method, self.url + path, headers=headers, stream=True, timeout=self.timeout
        )

    def _cached_token(self, scope: str) -> str | None:
        with self._lock:
            cached = self._tokens.get(scope)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return None

    def _login(self, response: requests.Response, scope: str) -> str | None:
        """The Authorization header answering the upstream's challenge, if we can answer it."""
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            return _basic_header(*self.auth) if self.auth else None
        if scheme != "bearer" or not params.get("realm"):
            return None
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        answer = self.session.get(
            params["realm"], params=query, auth=self.auth, timeout=self.timeout
        )
        if answer.status_code != 200:
            raise RegistryError(
                "DENIED", f"upstream token service {params['realm']} answered {answer.status_code}"
            )
        try:
            body = answer.json()
        except ValueError:
            body = {}
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError("DENIED", f"upstream token service {params['realm']} sent no token")
        expires_in = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 60
        with self._lock:
            expiry = time.monotonic() + max(expires_in - _TOKEN_MARGIN, 1)
            self._tokens[scope] = (f"Bearer {token}", expiry)
        return f"Bearer {token}"


def _basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def build_proxy(proxy: ProxyConfig) -> UpstreamRegistry:
    return UpstreamRegistry(proxy.url, proxy.username, proxy.password)
