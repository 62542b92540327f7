"""Network namespaces for the networking tests: made by the test, entered by the test's own
thread (so that bridges, veths and nftables rules are made there and never in the host's
namespace), and removed with everything in them afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from porterd.network import ContainerRef, NetworkService
from porterd.state import Database

CLONE_NEWNET = 0x40000000


def unavailable() -> str | None:
    """Why this host cannot run the networking tests, or None."""
    if os.geteuid() != 0:
        return "bridges and nftables rules in a network namespace need root"
    for tool in ("unshare", "nsenter", "ip", "nft", "busybox", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def make_netns(path: Path) -> Path:
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "ip", "link", "set", "lo", "up"], check=True)
    return path


def remove_netns(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def entered(path: Path) -> Iterator[Path]:
    """The calling thread (and the threads and processes it starts) in the namespace."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(target)
        yield path
    finally:
        _setns(home)
        os.close(home)
        os.close(target)


def run_in(netns: Path, *argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={netns}", "--", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def nft_ruleset(netns: Path) -> str:
    return run_in(netns, "nft", "list", "ruleset").stdout


def links_in(netns: Path) -> set[str]:
    output = run_in(netns, "ip", "-o", "link", "show").stdout
    return {line.split(":")[1].strip().split("@")[0] for line in output.splitlines()}


class Host:
    """The namespace standing in for porterd's host, and the service made inside it."""

    def __init__(self, root: Path, netns: Path) -> None:
        self.root = root
        self.netns = netns
        self.database = Database(root / "porterd.db")
        self.service = self.open()

    def open(self, bip: str = "") -> NetworkService:
        return NetworkService(
            database=self.database,
            exec_root=self.root / "exec",
            resolv_conf=self.root / "resolv.conf",
            default_address_pools=["base=10.99.0.0/16,size=24"],
            bip=bip,
        )

    def start(self, name: str, mode: str = "default", **settings: object) -> ContainerRef:
        container = ContainerRef(
            id=secrets.token_hex(32),
            name=name,
            network_mode=mode,
            port_bindings=settings.pop("ports", {}),  # type: ignore[arg-type]
        )
        self.service.register(container, settings.pop("endpoints", None))  # type: ignore[arg-type]
        self.service.prepare(container)
        return container

    def ns(self, container: ContainerRef) -> Path:
        return self.service.netns_path(container.id)

    def address(self, container: ContainerRef, network: str = "bridge") -> str:
        network_id = self.service.get(network).id
        for record, endpoint in self.service.endpoints_of(container.id):
            if record.id == network_id:
                return endpoint.ipv4.split("/")[0]
        raise AssertionError(f"{container.name} is not on {network}")


@contextlib.contextmanager
def network_host(tmp_path: Path) -> Iterator[Host]:
    """A namespace the calling thread enters, with a NetworkService made inside it."""
    netns = make_netns(tmp_path / "host.ns")
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.53\nsearch example.test\n")
    made: Host | None = None
    try:
        with entered(netns):
            made = Host(tmp_path, netns)
            yield made
    finally:
        if made is not None:
            made.service.close()  # its proxy processes too, even when the test failed
        for path in (tmp_path / "exec" / "netns").glob("*"):
            remove_netns(path)
        remove_netns(netns)
        if made is not None:
            made.database.close()
