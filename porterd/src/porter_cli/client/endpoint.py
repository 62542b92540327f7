"""Where the daemon is: a host address (`unix://PATH`, `tcp://HOST:PORT`) and, for TCP,
the TLS files for mutual TLS.

Plain classes rather than dataclasses: every command builds an Endpoint, and the
dataclasses module (with the inspect, re and copy it imports, and the code it compiles per
class) cost `porter ps` more than its request did."""

from __future__ import annotations

from porter_cli.client.errors import EndpointError

DEFAULT_HOST = "unix:///run/porter/porter.sock"
DEFAULT_TLS_PORT = 2376
DEFAULT_TCP_PORT = 2375


class TLSFiles:
    """The CA that signs the daemon's certificate and the client's own certificate and key.

    `verify` checks the daemon's certificate against `ca`; without it the connection is
    still encrypted and the client certificate still presented (docker's --tls)."""

    __slots__ = ("ca", "cert", "key", "verify")

    def __init__(
        self,
        ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        verify: bool = True,
    ) -> None:
        self.ca = ca
        self.cert = cert
        self.key = key
        self.verify = verify

    def _fields(self) -> tuple[str | None, str | None, str | None, bool]:
        return (self.ca, self.cert, self.key, self.verify)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TLSFiles) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        ca, cert, key, verify = self._fields()
        return f"TLSFiles(ca={ca!r}, cert={cert!r}, key={key!r}, verify={verify!r})"


class Endpoint:
    __slots__ = ("host", "tls")

    def __init__(self, host: str, tls: TLSFiles | None = None) -> None:
        self.host = host
        self.tls = tls

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Endpoint) and (self.host, self.tls) == (other.host, other.tls)

    def __hash__(self) -> int:
        return hash((self.host, self.tls))

    def __repr__(self) -> str:
        return f"Endpoint(host={self.host!r}, tls={self.tls!r})"

    @property
    def scheme(self) -> str:
        return parse_host(self.host)[0]

    @property
    def address(self) -> str | tuple[str, int]:
        return parse_host(self.host)[1]


def parse_host(host: str) -> tuple[str, str | tuple[str, int]]:
    """("unix", path) or ("tcp", (host, port)); a bare path means a unix socket."""
    if host.startswith("/"):
        return "unix", host
    scheme, sep, rest = host.partition("://")
    if not sep:
        raise EndpointError(f"invalid host {host!r}: expected unix://PATH or tcp://HOST:PORT")
    if scheme == "unix":
        if not rest:
            raise EndpointError(f"invalid host {host!r}: no socket path")
        return "unix", rest
    if scheme in ("tcp", "https", "http"):
        hostname, colon, port = rest.rstrip("/").rpartition(":")
        if not colon:
            hostname, port = rest.rstrip("/"), str(DEFAULT_TLS_PORT)
        if hostname.startswith("[") and hostname.endswith("]"):
            hostname = hostname[1:-1]
        if not hostname or not port.isdigit() or not 0 < int(port) < 65536:
            raise EndpointError(f"invalid host {host!r}: expected tcp://HOST:PORT")
        return "tcp", (hostname, int(port))
    raise EndpointError(f"invalid host {host!r}: unsupported scheme {scheme!r}")
