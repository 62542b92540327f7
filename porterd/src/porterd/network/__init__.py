"""porterd's networking: dockerd's bridge driver (IPAM, bridges, veths, a namespace per
container, nftables rules, /etc/hosts and /etc/resolv.conf, the embedded DNS server)."""

from porterd.network.endpoints import Attachment, ContainerRef
from porterd.network.service import NetworkService

__all__ = ["Attachment", "ContainerRef", "NetworkService"]
