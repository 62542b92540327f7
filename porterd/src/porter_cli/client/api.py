"""The Engine API client: one HTTP/1.1 request per call over a fresh connection, the API
version negotiated once with the daemon (`/_ping`, else `/version`), errors turned into
APIError from the daemon's `{"message"}`.

It imports only what a listing needs (`porter ps` starts in less time than json, typing or
urllib.parse take to import): answers are read with porter_cli.client.jsonload, URLs are
escaped here, and json, the hijack code and the rest are imported by the calls that use them."""

from __future__ import annotations

from _json import encode_basestring_ascii as quoted
from _thread import allocate_lock

from porter_cli.client import transport
from porter_cli.client.errors import APIError, DaemonUnreachable, error_message
from porter_cli.client.http11 import Connection, ProtocolError
from porter_cli.client.jsonload import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

    from porter_cli.client.endpoint import Endpoint
    from porter_cli.client.hijack import HijackedStream
    from porter_cli.client.http11 import Response as RawResponse

    Params = dict[str, Any] | None

# The newest Engine API this client speaks, and the oldest it can still talk to.
MAX_VERSION = "1.43"
MIN_VERSION = "1.24"
USER_AGENT = "porter-cli"
# What urllib.parse.quote never escapes.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def lower_version(a: str, b: str) -> str:
    return a if version_tuple(a) <= version_tuple(b) else b


def encode_params(params: Params) -> str:
    """Query string as dockerd parses it: booleans as 1/0, dicts as JSON (filters), lists as
    the parameter repeated (save's `names`, commit's `changes`), None left out."""
    if not params:
        return ""
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, dict):
            value = compact_json(value)
        elif isinstance(value, list | tuple):
            pairs.extend((key, str(item)) for item in value)
            continue
        pairs.append((key, str(value)))
    if not pairs:
        return ""
    return "?" + "&".join(f"{escape(key, ' ')}={escape(value, ' ')}" for key, value in pairs)


def compact_json(value: dict[str, Any]) -> str:
    """json.dumps(value, separators=(",", ":")); a filters map ({str: [str]}, what listings
    send) is written without importing json."""
    if all(
        isinstance(key, str) and isinstance(items, list) and all(isinstance(i, str) for i in items)
        for key, items in value.items()
    ):
        pairs = (
            f"{quoted(key)}:[{','.join(quoted(item) for item in items)}]"
            for key, items in value.items()
        )
        return "{" + ",".join(pairs) + "}"
    import json

    return json.dumps(value, separators=(",", ":"))


def path_part(value: str) -> str:
    """An id or name placed in a URL path."""
    return escape(value, ":@")


def escape(text: str, safe: str = "") -> str:
    """`text` percent-encoded as urllib.parse.quote does it (UTF-8, upper-case hex; letters,
    digits, `_.-~` and `safe` kept), except that a space in `safe` becomes `+`, as in
    quote_plus and urlencode."""
    keep = _UNRESERVED.union(safe)
    if all(char in keep for char in text):
        return text.replace(" ", "+")
    return "".join(
        ("+" if char == " " else char)
        if char in keep
        else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


class Response:
    """A successful response whose body is read by the caller (a stream or a download)."""

    def __init__(self, connection: Connection, raw: RawResponse):
        self.connection = connection
        self.raw = raw
        self.status = raw.status
        self.headers = raw.headers

    def read(self, amount: int | None = None) -> bytes:
        return self.raw.read(amount)

    def read1(self, amount: int = 65536) -> bytes:
        return self.raw.read1(amount)

    def recv(self, amount: int = 65536) -> bytes:
        """Some bytes of the body (b"" at its end), as a hijacked stream's recv."""
        return self.raw.read1(amount)

    def json(self) -> Any:
        body = self.raw.read()
        self.close()
        return loads(body) if body.strip() else None

    def iter_chunks(self, size: int = 65536) -> Iterator[bytes]:
        try:
            while chunk := self.raw.read1(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self.raw.close()
        self.connection.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Client:
    """A client for one daemon. `version` pins the API version; otherwise it is the lower of
    the daemon's and MAX_VERSION, learnt on the first request.

    A first request that is a GET is sent at MAX_VERSION straight away: a daemon that
    speaks it answers (and the version is settled without a /_ping), one that does not
    refuses it as too new (dockerd's and porterd's 400), and only then is the version
    negotiated and the request sent again. A listing is so one round trip, not two. Other
    first requests, whose bodies may not be sendable twice, negotiate first."""

    def __init__(
        self, endpoint: Endpoint, version: str | None = None, timeout: float | None = None
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._version = version
        self._negotiating = allocate_lock()  # threading.Lock, without threading's import
        self._registry_auth: dict[str, str] = {}

    # -- version negotiation ------------------------------------------------------------

    @property
    def version(self) -> str:
        """The API version, negotiated once even when several threads send requests."""
        if self._version is None:
            with self._negotiating:
                if self._version is None:
                    self._version = self.negotiate()
        return self._version

    def negotiate(self) -> str:
        """The API version to use: the daemon's /_ping `API-Version` header (or /version's
        ApiVersion when the ping has none), capped at MAX_VERSION."""
        response = self.finish(self._begin("GET", "/_ping"))
        with response:
            response.read()
            server = response.headers.get("API-Version")
        if not server:
            version = self.finish(self._begin("GET", "/version")).json() or {}
            server = version.get("ApiVersion") or MIN_VERSION
        return lower_version(server, MAX_VERSION)

    def ping(self) -> dict[str, str]:
        with self.finish(self._begin("GET", "/_ping")) as response:
            response.read()
            return dict(response.headers.items())

    # -- requests ----------------------------------------------------------------------

    def url(self, path: str, params: Params = None) -> str:
        return f"/v{self.version}{path}{encode_params(params)}"

    def request(
        self,
        method: str,
        path: str,
        params: Params = None,
        body: Any = None,
        data: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; a status of 400 or more raises APIError. `body` is sent as JSON,
        `data` as is (an iterable of chunks is sent chunked)."""
        if self._version is None and method == "GET" and body is None and data is None:
            return self._first_get(path, params, headers, timeout)
        return self.finish(self.begin(method, path, params, body, data, headers, timeout))

    def _first_get(
        self, path: str, params: Params, headers: dict[str, str] | None, timeout: float | None
    ) -> Response:
        """A GET before the version is known, sent at MAX_VERSION (the class says why)."""
        url = f"/v{MAX_VERSION}{path}{encode_params(params)}"
        try:
            response = self.finish(self._begin("GET", url, None, None, headers, timeout))
        except APIError as error:
            if not error.version_too_new:
                raise
            return self.finish(self.begin("GET", path, params, None, None, headers, timeout))
        with self._negotiating:
            if self._version is None:
                self._version = MAX_VERSION
        return response

    def get_json(self, path: str, params: Params = None) -> Any:
        return self.request("GET", path, params).json()

    def post_json(self, path: str, params: Params = None, body: Any = None) -> Any:
        return self.request("POST", path, params, body=body).json()

    def delete(self, path: str, params: Params = None) -> Any:
        return self.request("DELETE", path, params).json()

    def hijack(self, path: str, params: Params = None, body: Any = None) -> HijackedStream:
        """POST to an attach or exec start endpoint and take over the connection."""
        from porter_cli.client.hijack import hijack

        try:
            channel = transport.raw_channel(self.endpoint, self.timeout)
        except OSError as error:
            raise transport.unreachable(self.endpoint, error) from error
        host = "localhost" if self.endpoint.scheme == "unix" else str(self.endpoint.address[0])
        return hijack(channel, host, self.url(path, params), body)

    def begin(self, method: str, path: str, params: Params = None, *args: Any) -> Connection:
        """Send a request (arguments as `request`) and return its connection without waiting
        for the answer (for `wait`, which must listen before the container starts);
        `finish` reads it."""
        return self._begin(method, self.url(path, params), *args)

    def finish(self, conn: Connection) -> Response:
        """The answer to a request sent by `begin`; a status of 400 or more raises APIError."""
        try:
            raw = conn.getresponse()
        except OSError as error:
            conn.close()
            raise transport.unreachable(self.endpoint, error) from error
        except ProtocolError as error:
            conn.close()
            raise DaemonUnreachable(self.endpoint.host, f"bad answer: {error!r}") from error
        if raw.status >= 400:
            try:
                text = raw.read()
            finally:
                conn.close()
            raise APIError(raw.status, error_message(raw.status, text))
        return Response(conn, raw)

    def _begin(
        self,
        method: str,
        url: str,
        body: Any = None,
        data: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Connection:
        conn = transport.connection(self.endpoint, timeout if timeout is not None else self.timeout)
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        payload: bytes | Iterable[bytes] | None = data
        if body is not None:
            import json

            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        elif data is not None and not isinstance(data, bytes):
            all_headers.setdefault("Content-Type", "application/x-tar")
        try:
            conn.request(method, url, body=payload, headers=all_headers)
        except OSError as error:
            conn.close()
            raise transport.unreachable(self.endpoint, error) from error
        return conn
