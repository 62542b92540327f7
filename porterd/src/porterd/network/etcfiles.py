"""A container's /etc/hosts and /etc/resolv.conf, as dockerd writes them.

`/etc/hosts`: localhost and docker's IPv6 names, then the container's addresses with its
hostname. `/etc/resolv.conf`: the host's, without loopback nameservers (unreachable from the
container's namespace; Google's as dockerd's fallback when none is left); on a user network
the embedded DNS server at 127.0.0.11 instead, the host's servers kept as `# ExtServers`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

EMBEDDED_DNS = "127.0.0.11"
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
_HOSTS_HEAD = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def hosts_file(hostname: str, addresses: Sequence[str], extra: Sequence[str] = ()) -> str:
    """`extra`: ExtraHosts entries as `name:address`."""
    lines = [_HOSTS_HEAD]
    for entry in extra:
        name, _, address = entry.partition(":")
        lines.append(f"{address}\t{name}\n")
    for address in addresses:
        lines.append(f"{address}\t{hostname}\n")
    return "".join(lines)


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> ResolvConf:
        conf = cls()
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 2:
                continue
            if words[0] == "nameserver":
                conf.nameservers.append(words[1])
            elif words[0] in ("search", "domain"):
                conf.search = words[1:]
            elif words[0] == "options":
                conf.options += words[1:]
        return conf

    def external(self) -> list[str]:
        """The nameservers a container's namespace can reach (no loopback ones)."""
        kept = []
        for server in self.nameservers:
            try:
                if ipaddress.ip_address(server.split("%")[0]).is_loopback:
                    continue
            except ValueError:
                continue
            kept.append(server)
        return kept


def host_resolv_conf(path: Path = Path("/etc/resolv.conf")) -> ResolvConf:
    try:
        return ResolvConf.parse(path.read_text())
    except OSError:
        return ResolvConf()


def resolv_conf_file(host: ResolvConf, *, embedded: bool, ipv6: bool = False) -> str:
    servers = [s for s in host.external() if ipv6 or ":" not in s]
    lines = []
    if embedded:
        lines.append(f"nameserver {EMBEDDED_DNS}")
    else:
        lines += [f"nameserver {s}" for s in servers or FALLBACK_NAMESERVERS]
    if host.search:
        lines.append("search " + " ".join(host.search))
    options = [o for o in host.options if not (embedded and o.startswith("ndots:"))]
    if embedded:
        options.append("ndots:0")
    if options:
        lines.append("options " + " ".join(options))
    if embedded:
        lines += ["", f"# ExtServers: [{' '.join(servers)}]"]
    return "\n".join(lines) + "\n"
