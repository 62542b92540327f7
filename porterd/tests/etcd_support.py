"""etcd clusters for the cluster tests: members on loopback addresses of their own (127.0.0.x),
ports nobody else holds, data folders under the test's temporary folder; every member stopped
and its folder removed afterwards, even when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

ETCD = "/usr/bin/etcd"


def unavailable() -> str | None:
    """Why this host cannot start etcd for a test, or None."""
    if not os.access(ETCD, os.X_OK):
        return f"{ETCD} is not installed (Debian's etcd-server)"
    return None


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


@dataclass
class Member:
    name: str
    address: str
    client_port: int
    peer_port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def client_url(self) -> str:
        return f"http://{self.address}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{self.address}:{self.peer_port}"


@dataclass
class EtcdCluster:
    members: list[Member]
    token: str
    extra: list[str] = field(default_factory=list)

    @property
    def endpoints(self) -> list[str]:
        return [member.client_url for member in self.members]

    def start(self, member: Member) -> None:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        member.log = member.data_dir.with_suffix(".log")
        log = member.log.open("ab")
        member.process = subprocess.Popen(
            [
                ETCD,
                "--name", member.name,
                "--data-dir", str(member.data_dir),
                "--listen-client-urls", member.client_url,
                "--advertise-client-urls", member.client_url,
                "--listen-peer-urls", member.peer_url,
                "--initial-advertise-peer-urls", member.peer_url,
                "--initial-cluster", initial,
                "--initial-cluster-token", self.token,
                "--initial-cluster-state", "new",
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                *self.extra,
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )  # fmt: skip
        log.close()

    def kill(self, member: Member) -> None:
        if member.process is not None and member.process.poll() is None:
            member.process.send_signal(signal.SIGKILL)
            member.process.wait(timeout=10)
        member.process = None

    def wait_healthy(self, members: list[Member] | None = None, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for member in members or self.members:
            while True:
                try:
                    answer = requests.get(member.client_url + "/health", timeout=2)
                    if answer.ok and answer.json().get("health") == "true":
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    log = member.log.read_text()[-2000:] if member.log else ""
                    raise TimeoutError(f"etcd member {member.name} not healthy:\n{log}")
                time.sleep(0.1)


@contextlib.contextmanager
def etcd_cluster(
    root: Path, size: int = 3, first_address: int = 2, addresses: list[str] | None = None
) -> Iterator[EtcdCluster]:
    """A `size`-member etcd cluster, member i on 127.0.0.(first_address + i) (or on
    `addresses`, in the network namespace of the calling thread); stopped afterwards."""
    token = f"porter-test-{os.getpid()}-{time.monotonic_ns()}"
    addresses = addresses or [f"127.0.0.{first_address + index}" for index in range(size)]
    members = []
    for index, address in enumerate(addresses):
        members.append(
            Member(
                name=f"m{index}",
                address=address,
                client_port=_free_port(address),
                peer_port=_free_port(address),
                data_dir=root / f"etcd-m{index}",
            )
        )
    cluster = EtcdCluster(members, token)
    try:
        for member in members:
            cluster.start(member)
        cluster.wait_healthy()
        yield cluster
    finally:
        for member in members:
            cluster.kill(member)
            shutil.rmtree(member.data_dir, ignore_errors=True)
