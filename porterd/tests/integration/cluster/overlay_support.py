"""What the tests of tasks on overlay networks share: a command run in a task's container,
the names its embedded DNS answers, and a resolver standing in for the host's upstream one
inside a node's namespace (the names outside the cluster are forwarded there)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from network_support import entered
from porterd.network import dns

from .cluster_nodes import Node


def exec_in(node: Node, container_id: str, *argv: str) -> tuple[int, str]:
    client = node.client()
    try:
        result = client.containers.get(container_id).exec_run(list(argv))
        return result.exit_code, result.output.decode(errors="replace")
    finally:
        client.close()


def resolved(node: Node, container: str, name: str) -> list[str]:
    """The addresses the embedded DNS answers `name` with, in its order."""
    code, output = exec_in(node, container, "nslookup", name, "127.0.0.11")
    assert code == 0, output
    answers = output.partition("Name:")[2]
    return [line.split()[-1] for line in answers.splitlines() if line.startswith("Address")]


def host_nameserver(resolv_conf: Path = Path("/etc/resolv.conf")) -> str | None:
    """The first IPv4 nameserver of the host's resolv.conf, which porterd forwards to."""
    for line in resolv_conf.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver" and ":" not in fields[1]:
            return fields[1]
    return None


@contextlib.contextmanager
def upstream_resolver(netns: Path, server: str, name: str, address: str) -> Iterator[None]:
    """A resolver at `server`:53 inside `netns` (the address added to its loopback) that
    answers `name` with `address` (and other questions with no record) until the block ends."""
    subprocess.run(["nsenter", f"--net={netns}", "--", "ip", "addr", "add", f"{server}/32",
                    "dev", "lo"], check=False, capture_output=True)  # fmt: skip
    with entered(netns):
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind((server, 53))
    upstream.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = upstream.recvfrom(512)
            except TimeoutError:
                continue
            asked, qtype, _ = dns.parse_question(query)
            found = [address] if qtype == dns.TYPE_A and asked.rstrip(".") == name else []
            upstream.sendto(dns.answer(query, found), peer)

    thread = threading.Thread(target=serve, name="test-upstream-dns", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        upstream.close()
