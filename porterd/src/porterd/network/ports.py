"""Published ports: HostConfig.PortBindings parsed, and each host port reserved by a socket
bound on it while the container runs (as docker-proxy holds it), so that a port already
taken by anyone is one clear error at start and no one else takes it meanwhile.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from porterd.errors import Conflict, InvalidParameter
from porterd.network import conntrack
from porterd.network.proxy import loopback6_listener
from porterd.network.proxy_process import ProxyProcess, stop_leftovers


@dataclass(frozen=True)
class PortBinding:
    container_id: str
    protocol: str
    container_port: int
    host_ip: str
    host_port: int  # 0 until reserved: an ephemeral port is chosen then

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def port_bindings(document: dict[str, Any] | None, container_id: str = "") -> list[PortBinding]:
    """`{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` as bindings."""
    found = []
    for key, hosts in (document or {}).items():
        port, _, protocol = str(key).partition("/")
        protocol = protocol or "tcp"
        if protocol not in ("tcp", "udp") or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidParameter(f"invalid port specification: {key!r}")
        for host in hosts or [{}]:
            if not isinstance(host, dict):
                raise InvalidParameter(f"invalid port binding for {key}: {host!r}")
            text = str(host.get("HostPort") or "0")
            if not text.isdigit() or int(text) > 65535:
                raise InvalidParameter(f"invalid host port for {key}: {text!r}")
            host_ip = str(host.get("HostIp") or "")
            try:
                host_ip and ipaddress.ip_address(host_ip)
            except ValueError:
                raise InvalidParameter(f"invalid host IP for {key}: {host_ip!r}") from None
            found.append(PortBinding(container_id, protocol, int(port), host_ip, int(text)))
    return found


class PortReservations:
    """The ports held for each container, and its userland proxies, whose processes are
    recorded in `proxies` (those an earlier porterd left are stopped here first)."""

    def __init__(self, proxies: Path) -> None:
        self.proxies = proxies
        stop_leftovers(proxies)
        self._held: dict[str, list[tuple[PortBinding, socket.socket]]] = {}
        self._proxies: dict[str, list[ProxyProcess]] = {}
        self._fresh_udp: set[int] = set()  # UDP host ports reserved since the last rules
        self._lock = threading.Lock()

    def reserve(
        self, container_id: str, wanted: Iterable[PortBinding], target: str = ""
    ) -> list[PortBinding]:
        """Bind each port (all or none); an ephemeral one gets its number here. With the
        container's IPv4 address as `target`, the userland proxy serves it on loopback."""
        self.release(container_id)  # a port it holds already is bound again
        held: list[tuple[PortBinding, socket.socket]] = []
        try:
            for binding in wanted:
                bound = _bind(binding)
                port = bound.getsockname()[1]
                held.append(
                    (
                        PortBinding(
                            container_id,
                            binding.protocol,
                            binding.container_port,
                            binding.host_ip,
                            port,
                        ),
                        bound,
                    )
                )
            proxies = self._relay(held, target)
        except BaseException:
            for _, bound in held:
                bound.close()
            raise
        with self._lock:
            self._held[container_id] = held
            self._proxies[container_id] = proxies
            self._fresh_udp.update(b.host_port for b, _ in held if b.protocol == "udp")
        return [binding for binding, _ in held]

    def forget_stale_udp_flows(self) -> None:
        """Once the rules of the ports reserved since the last call are in place: the
        conntrack entries of UDP flows that reached one of them before go, so that their
        next datagrams are translated (porterd.network.conntrack)."""
        with self._lock:
            fresh, self._fresh_udp = self._fresh_udp, set()
        conntrack.forget_udp_flows(fresh)

    def release(self, container_id: str) -> None:
        with self._lock:
            for _, bound in self._held.pop(container_id, []):
                bound.close()
            for proxy in self._proxies.pop(container_id, []):
                proxy.close()

    def _relay(
        self, held: list[tuple[PortBinding, socket.socket]], target: str
    ) -> list[ProxyProcess]:
        """The proxies of the bindings that need one (all started, or none left running)."""
        proxies: list[ProxyProcess] = []
        try:
            for binding, bound in held if target else []:
                if (made := self._proxy(binding, bound, target)) is not None:
                    proxies.append(made)
        except BaseException:
            for made in proxies:
                made.close()
            raise
        return proxies

    def _proxy(
        self, binding: PortBinding, bound: socket.socket, target: str
    ) -> ProxyProcess | None:
        """The proxy of a binding towards the container's IPv4 address `target`. A port
        published on every address is served from its reservation (0.0.0.0, which only what
        the rules leave to it reaches: 127.0.0.0/8) and from [::1] (a listener of its own); one
        published on a loopback address, from its reservation; any other, by the rules alone."""
        if binding.host_ip and not (proxied(binding.host_ip) or unspecified(binding.host_ip)):
            return None
        if binding.protocol == "tcp":
            bound.listen(socket.SOMAXCONN)
        listeners = [bound]
        if not binding.host_ip:
            try:
                v6 = loopback6_listener(binding.host_port, binding.protocol)
            except OSError as error:
                raise _bind_failed(binding, "[::1]", error) from None
            listeners += [v6] if v6 is not None else []
        return ProxyProcess(
            binding.protocol, listeners, (target, binding.container_port), self.proxies
        )

    def bindings(self, container_id: str = "") -> list[PortBinding]:
        with self._lock:
            return [
                binding
                for owner, held in self._held.items()
                if not container_id or owner == container_id
                for binding, _ in held
            ]

    def close(self) -> None:
        for container_id in list(self._held):
            self.release(container_id)


def proxied(host_ip: str) -> bool:
    """Whether a port published on `host_ip` is served by the userland proxy alone, without
    a rule: a loopback address, as docker-proxy serves them. IPv6 cannot translate ::1 to a
    container's address at all; IPv4 can through route_localnet, at about half the rate of a
    direct connection in bench/network where the proxy carried 0.83 of it."""
    try:
        return ipaddress.ip_address(host_ip).is_loopback
    except ValueError:
        return False


def unspecified(host_ip: str) -> bool:
    """Whether `host_ip` names every address of its family (0.0.0.0 or ::). The rules
    translate what reaches the host's other addresses; the proxy serves the rest (loopback,
    and IPv6 for a container without an IPv6 address, as docker-proxy does)."""
    return bool(host_ip) and ipaddress.ip_address(host_ip).is_unspecified


def _bind(binding: PortBinding) -> socket.socket:
    family = socket.AF_INET6 if ":" in binding.host_ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if binding.protocol == "udp" else socket.SOCK_STREAM
    bound = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:  # [::] is IPv6's alone, as docker binds it
            bound.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        bound.bind((binding.host_ip or "0.0.0.0", binding.host_port))
    except OSError as error:
        bound.close()
        raise _bind_failed(binding, binding.host_ip or "0.0.0.0", error) from None
    return bound


def _bind_failed(binding: PortBinding, host: str, error: OSError) -> Conflict:
    reason = error.strerror.lower() if error.strerror else str(error)
    return Conflict(
        f"driver failed programming external connectivity: Bind for {host}:{binding.host_port}"
        f"/{binding.protocol} failed: {reason}"
    )
