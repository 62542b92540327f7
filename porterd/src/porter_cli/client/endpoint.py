"""Where the daemon is: a host address (`unix://PATH`, `tcp://HOST:PORT`) and, for TCP,
the TLS files for mutual TLS."""

from __future__ import annotations

from dataclasses import dataclass

from porter_cli.client.errors import EndpointError

DEFAULT_HOST = "unix:///run/porter/porter.sock"
DEFAULT_TLS_PORT = 2376
DEFAULT_TCP_PORT = 2375


@dataclass(frozen=True)
class TLSFiles:
    """The CA that signs the daemon's certificate and the client's own certificate and key.

    `verify` checks the daemon's certificate against `ca`; without it the connection is
    still encrypted and the client certificate still presented (docker's --tls)."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class Endpoint:
    host: str
    tls: TLSFiles | None = None

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
