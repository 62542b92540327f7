"""A container's bundle as each start writes it: the overlay rootfs mounted, the /etc files
it binds (hostname, hosts, resolv.conf; the network's when it has one), volumes seeded on
their first use, config.json (`porterd.containers.spec`), and what conmon is told.

These files are replaced whole (a reader sees the old file or the new one) but not fsynced:
each start writes them again before the runtime reads them, so a power cut that loses one
costs nothing; an fsync of each (and of its folder) was a third of what a start spent before
conmon ran.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from porter_image.snapshots import mount_overlay
from porter_specs.validate import validate
from porterd.containers.conmon import MonitorRequest
from porterd.containers.logs import LogOptions
from porterd.containers.mounts import populate_volumes
from porterd.containers.record import Container, ContainerPaths
from porterd.containers.spec import bundle_config
from porterd.network.rtnetlink import Netlink, in_netns
from porterd.network.service import container_ref, join_netns


def prepare_bundle(container: Container, paths: ContainerPaths, networks: Any) -> None:
    """Everything `RUNTIME create` needs in the bundle; `networks` is the NetworkService
    (None: the runtime makes the network namespace, with loopback only)."""
    paths.rootfs.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(paths.rootfs):
        lowerdirs = [Path(p) for p in container.lowerdirs]
        mount_overlay(lowerdirs, paths.upper, paths.work, paths.rootfs)
    hostname = container.config.get("Hostname") or container.short_id
    _write_if_missing(paths.hostname, f"{hostname}\n")
    _write_if_missing(
        paths.hosts,
        f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n",
    )
    _write_if_missing(paths.resolv_conf, _host_resolv_conf())
    populate_volumes(container.mounts, paths.rootfs)
    document = bundle_config(container, paths.rootfs, paths)
    if networks is not None:
        attachment = networks.prepare(container_ref(container))
        _replace(paths.hosts, attachment.hosts.encode())
        _replace(paths.resolv_conf, attachment.resolv_conf.encode())
        if attachment.netns is not None:
            join_netns(document, attachment.netns)
    validate(document, "runtime-config", what=str(paths.bundle / "config.json"))
    _replace(paths.bundle / "config.json", json.dumps(document, indent=2).encode())


def monitor_request(
    container: Container, paths: ContainerPaths, options: LogOptions
) -> MonitorRequest:
    """What conmon watches for the container, its log capped at the json-file max-size."""
    open_stdin = bool(container.config.get("OpenStdin"))
    return MonitorRequest(
        container_id=container.id,
        session_id=container.id,
        name=container.name.lstrip("/"),
        bundle=paths.bundle,
        pidfile=paths.pidfile,
        conmon_pidfile=paths.conmon_pidfile,
        persist=paths.persist,
        log_path=paths.conmon_log,
        log_size_max=options.max_size,
        terminal=container.tty,
        stdin=open_stdin,
        # dockerd closes a "once" stdin after the first client, but never a terminal's
        leave_stdin_open=open_stdin and (container.tty or not container.config.get("StdinOnce")),
    )


def loopback_up(pid: int) -> None:
    """The container's own network namespace gets its loopback up (docker's `none`), by a
    netlink request from a thread that enters it, rather than the two processes (nsenter,
    ip) each start used to spawn for it. A failure leaves the loopback down, as before."""

    def up() -> None:
        with Netlink() as netlink:
            netlink.set_up("lo")

    with contextlib.suppress(OSError):
        in_netns(Path(f"/proc/{pid}/ns/net"), up)


def _write_if_missing(path: Path, text: str) -> None:
    """Write `path` unless a start wrote it already (empty: lost to a power cut, written again)."""
    try:
        if path.stat().st_size > 0:
            return
    except FileNotFoundError:
        pass
    _replace(path, text.encode())


def _replace(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp")  # one start at a time: the container's lock
    temp.write_bytes(data)
    os.replace(temp, path)


def _host_resolv_conf() -> str:
    try:
        return Path("/etc/resolv.conf").read_text()
    except OSError:
        return ""
