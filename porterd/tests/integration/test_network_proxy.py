"""The TCP userland proxy ([::1] to a container) as a stream relay, in a network namespace the
test makes (as test_network_library): bytes arrive whole and in order both ways, larger than
any buffer on the way; an end of stream is passed on in each direction on its own; a
container that refuses the connection does not stop the port from serving the next one. Each
proxy is a process of its own, ended with its container's ports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from porterd.network import ContainerRef

from porterd.tests.network_support import Host, network_host, run_in, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

# Reads the whole request (to the client's end of stream), then answers with its length and
# its bytes reversed, then `OUT` more bytes, and closes.
SERVER = """
import socket
OUT = 3 * 1024 * 1024 + 7
server = socket.create_server(("0.0.0.0", 80))
print("ready", flush=True)
while True:
    peer, _ = server.accept()
    with peer:
        request = bytearray()
        while chunk := peer.recv(65536):
            request += chunk
        peer.sendall(b"%d\\n" % len(request) + bytes(reversed(request)) + b"z" * OUT)
"""

# Sends `SIZE` patterned bytes, ends its stream, and prints what the answer held.
CLIENT = """
import socket, sys
size = int(sys.argv[1])
sent = bytes(i % 251 for i in range(size))
for attempt in range(50):
    try:
        client = socket.create_connection(("::1", 18090), timeout=5)
        break
    except OSError:
        import time; time.sleep(0.1)
client.sendall(sent)
client.shutdown(socket.SHUT_WR)
answer = bytearray()
while chunk := client.recv(65536):
    answer += chunk
length, _, rest = bytes(answer).partition(b"\\n")
body, tail = rest[:size], rest[size:]
print(int(length) == size, body == sent[::-1], len(tail), set(tail) <= {ord("z")})
"""


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with network_host(tmp_path) as made:
        yield made


def serve(host: Host, container: ContainerRef) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        ["nsenter", f"--net={host.ns(container)}", sys.executable, "-c", SERVER],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline() == "ready\n"
    return server


@pytest.fixture
def reverser(host: Host) -> Iterator[ContainerRef]:
    container = host.start("reverser", ports={"80/tcp": [{"HostPort": "18090"}]})
    server = serve(host, container)
    try:
        yield container
    finally:
        server.kill()
        server.wait()


def exchange(host: Host, size: int) -> str:
    return run_in(host.netns, sys.executable, "-c", CLIENT, str(size), timeout=60).stdout.strip()


def test_a_request_and_an_answer_larger_than_the_buffers_arrive_whole(
    host: Host, reverser: ContainerRef
) -> None:
    assert exchange(host, 5 * 1024 * 1024 + 3) == f"True True {3 * 1024 * 1024 + 7} True"


def test_the_clients_end_of_stream_reaches_the_container_while_it_still_answers(
    host: Host, reverser: ContainerRef
) -> None:
    assert exchange(host, 0) == f"True True {3 * 1024 * 1024 + 7} True"


def test_connections_one_after_another_are_each_relayed(host: Host, reverser: ContainerRef) -> None:
    assert [exchange(host, size) for size in (1, 70000, 2)] == [
        f"True True {3 * 1024 * 1024 + 7} True"
    ] * 3


def test_a_refused_connection_is_closed_and_the_port_serves_the_next(host: Host) -> None:
    container = host.start("late", ports={"80/tcp": [{"HostPort": "18090"}]})
    refused = run_in(host.netns, "curl", "-s", "-m", "5", "http://[::1]:18090/")
    assert refused.returncode in (52, 56)  # an empty answer or a reset: closed, not hung
    server = serve(host, container)
    try:
        assert exchange(host, 10) == f"True True {3 * 1024 * 1024 + 7} True"
    finally:
        server.kill()
        server.wait()


def proxy_records(host: Host) -> list[Path]:
    return list((host.root / "exec" / "proxies").glob("*.pid"))


def test_a_stopped_container_leaves_no_proxy_process(host: Host) -> None:
    container = host.start("stopped", ports={"80/tcp": [{"HostPort": "18090"}]})
    [record] = proxy_records(host)
    pid = int(record.read_text().split()[0])
    host.service.stop(container.id)
    assert proxy_records(host) == []
    assert not Path(f"/proc/{pid}").exists()
