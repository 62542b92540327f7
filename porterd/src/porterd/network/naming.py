"""What a container is called and calls others: its /etc/hosts and /etc/resolv.conf, the
resolvers its outside names go to, and the embedded DNS server's answers on its networks."""

from __future__ import annotations

from collections.abc import Sequence

from porterd.errors import NotFound
from porterd.network.catalog import NetworkCatalog
from porterd.network.etcfiles import ResolvConf, host_resolv_conf, hosts_file, resolv_conf_file


class ContainerNaming(NetworkCatalog):
    def resolvers(self, container_id: str) -> ResolvConf:
        """The resolv.conf a container's names outside its networks go to: the host's, with
        the container's own --dns, --dns-search and --dns-option over it."""
        host = host_resolv_conf(self.resolv_conf)
        try:
            settings = self.containers.get(container_id).host_config if self.containers else {}
        except NotFound:
            settings = {}
        return ResolvConf(
            nameservers=list(settings.get("Dns") or host.nameservers),
            search=list(settings.get("DnsSearch") or host.search),
            options=list(settings.get("DnsOptions") or host.options),
        )

    def _hosts(self, container_id: str, hostname: str, extra: Sequence[str]) -> str:
        addresses = [
            a.split("/")[0]
            for e in self.store.endpoints(container_id=container_id)
            for a in e.addresses()
        ]
        return hosts_file(hostname, addresses, extra)

    def _resolv(self, container_id: str) -> str:
        networks = {n.id: n for n in self.store.networks()}
        mine = [networks[e.network_id] for e in self.store.endpoints(container_id=container_id)]
        return resolv_conf_file(
            self.resolvers(container_id),
            embedded=any(not n.default for n in mine),
            ipv6=any(n.enable_ipv6 for n in mine),
        )

    def _write_hosts(self, container_id: str) -> None:
        """A running container connected or disconnected: dockerd rewrites its files too."""
        if self.containers is None:
            return
        try:
            container = self.containers.get(container_id)
            paths = self.containers.paths(container)
        except (NotFound, AttributeError):
            return
        hostname = container.config.get("Hostname") or container.id[:12]
        paths.hosts.write_text(
            self._hosts(container_id, hostname, container.host_config.get("ExtraHosts") or [])
        )
        paths.resolv_conf.write_text(self._resolv(container_id))

    def dns_answer(self, container_id: str, name: str) -> list[str]:
        """Addresses of `name` for a container: the containers on its user networks by name,
        alias or short id (every match, for round robin)."""
        name = name.rstrip(".").lower()
        found = []
        for network, _ in self.endpoints_of(container_id):
            if network.default:
                continue
            for other in self.store.endpoints(network_id=network.id):
                names = {
                    other.name.lower(),
                    other.container_id[:12],
                    *(a.lower() for a in other.aliases),
                }
                if name in names:
                    found += [a.split("/")[0] for a in other.addresses()]
        return found
