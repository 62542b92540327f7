"""What the network service and the container service tell each other: a container as the
network sees it, and what a starting container gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """What a starting container gets: the namespace to join (None: the runtime makes one, or
    the host's) and its /etc/hosts and /etc/resolv.conf."""

    netns: Path | None
    hosts: str
    resolv_conf: str


@dataclass
class ContainerRef:
    """What the service needs to know of a container."""

    id: str
    name: str
    hostname: str = ""
    network_mode: str = "default"
    port_bindings: dict[str, Any] = field(default_factory=dict)
    extra_hosts: list[str] = field(default_factory=list)
    task: bool = False  # a service's task (which may join an overlay that is not attachable)


def container_ref(container: Any) -> ContainerRef:
    """The network's view of a container record of porterd.containers."""
    host = container.host_config
    bindings = dict(host.get("PortBindings") or {})
    if host.get("PublishAllPorts"):  # -P: every exposed port on an ephemeral host port
        for port in container.config.get("ExposedPorts") or {}:
            bindings.setdefault(port if "/" in port else f"{port}/tcp", [{}])
    return ContainerRef(
        id=container.id,
        name=container.name.lstrip("/"),
        hostname=container.config.get("Hostname") or container.id[:12],
        network_mode=host.get("NetworkMode") or "default",
        port_bindings=bindings,
        extra_hosts=list(host.get("ExtraHosts") or []),
        task="com.docker.swarm.task.id" in (container.config.get("Labels") or {}),
    )


def join_netns(document: dict[str, Any], netns: Path) -> None:
    """A runtime config's network namespace becomes the one bound at `netns`."""
    namespaces = [n for n in document["linux"]["namespaces"] if n["type"] != "network"]
    document["linux"]["namespaces"] = [*namespaces, {"type": "network", "path": str(netns)}]
