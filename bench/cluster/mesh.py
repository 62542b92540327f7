"""The routing mesh over three porterd: requests lost during a rolling update, and the request
rate through the mesh against a direct connection to one replica. One run, printed.

    .venv/bin/python bench/cluster/mesh.py [--seconds 5] [--json]

The set-up of run.py (three porterd in network namespaces, a 3-member etcd in the hub's).
Measured, from the hub namespace (another machine, as far as the nodes can tell):

- failed requests of a steady request loop (one request at a time, spread over the three
  nodes' published port) while a service of 9 replicas with a health check rolls to another
  image, start-first, parallelism 1;
- wrk's request rate (busybox httpd answers one request per connection, so each request is a
  new connection through the translation) to one replica directly, at the host port its
  container publishes on its node; through the mesh to a service whose one replica runs on
  another node than the one connected to (every connection crosses two nodes); and through
  the mesh to a service of three replicas, one per node. The ratios are direct / mesh.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "porterd" / "tests" / "integration" / "cluster"))
from cluster_nodes import ClusterHosts, Node  # noqa: E402
from network_support import entered, run_in  # noqa: E402
from run import _update_state, porter, run_on_cluster, timed  # noqa: E402

# A page to serve (httpd answers / of an empty folder with 404, which health checks fail).
HTTPD = ["sh", "-c", "mkdir /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www"]
HEALTH = ["--health-cmd", "wget -q -O /dev/null http://127.0.0.1:80/", "--health-interval", "1s"]


def answers(address: str, port: int) -> bool:
    """One HTTP request, in the calling thread's namespace: whether it got a status line."""
    try:
        with socket.create_connection((address, port), timeout=3) as connection:
            connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return connection.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


def failed_during_update(hosts: ClusterHosts) -> tuple[int, int]:
    """(requests, failed ones) of a steady loop while 9 replicas roll, start-first."""
    first = hosts.nodes[0]
    porter(first, "service", "create", "--name", "roll", "--replicas", "9", "-p", "8090:80",
           *HEALTH, "--update-order", "start-first", "busybox", *HTTPD)  # fmt: skip
    addresses = [node.address for node in hosts.nodes]
    with entered(hosts.hub):
        timed(lambda: all(answers(a, 8090) for a in addresses))
    counts = {"ok": 0, "failed": 0}
    done = threading.Event()

    def loop() -> None:
        with entered(hosts.hub):
            turn = 0
            while not done.is_set():
                ok = answers(addresses[turn % 3], 8090)
                counts["ok" if ok else "failed"] += 1
                turn += 1
                time.sleep(0.01)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        time.sleep(1)
        porter(first, "service", "update", "--image", "busybox:v2", "roll")
        timed(lambda: _update_state(first, "roll") in ("completed", "paused"))
        time.sleep(1)
    finally:
        done.set()
        thread.join()
    state = _update_state(first, "roll")
    porter(first, "service", "rm", "roll")
    if state != "completed":
        raise RuntimeError(f"the rolling update ended {state}")
    return counts["ok"] + counts["failed"], counts["failed"]


def wrk(hosts: ClusterHosts, url: str, seconds: float) -> float:
    """Requests per second wrk gets from the hub."""
    result = run_in(hosts.hub, "wrk", "-t1", "-c8", f"-d{seconds:g}s", url,
                    timeout=seconds + 30)  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    errors = re.search(r"Socket errors: (.*)", result.stdout)
    if match is None or (
        errors is not None and "connect 0, read 0, write 0, timeout 0" not in (errors.group(1))
    ):
        raise RuntimeError(f"wrk {url}: {result.stdout}{result.stderr}")
    return float(match.group(1))


def host_port(node: Node, service: str) -> int:
    """The host port at which the node's replica of `service` publishes port 80."""
    client = node.client()
    try:
        label = f"com.docker.swarm.service.name={service}"
        [summary] = client.api.containers(filters={"label": label})
        return next(p["PublicPort"] for p in summary["Ports"] if p.get("PublicPort"))
    finally:
        client.close()


def on_node(hosts: ClusterHosts, service: str) -> Node:
    for node in hosts.nodes:
        client = node.client()
        try:
            label = f"com.docker.swarm.service.name={service}"
            if client.api.containers(filters={"label": label}):
                return node
        finally:
            client.close()
    raise RuntimeError(f"no replica of {service} runs")


def rates(hosts: ClusterHosts, seconds: float) -> dict[str, float]:
    first = hosts.nodes[0]
    porter(first, "service", "create", "--name", "one", "--replicas", "1", "-p", "8091:80",
           "--constraint", "node.hostname!=node0", "busybox", *HTTPD)  # fmt: skip
    porter(first, "service", "create", "--name", "three", "--replicas", "3", "-p", "8092:80",
           "busybox", *HTTPD)  # fmt: skip
    with entered(hosts.hub):
        timed(lambda: answers(first.address, 8091) and answers(first.address, 8092))
    time.sleep(2)  # every node's mesh has all three replicas
    replica = on_node(hosts, "one")
    direct = wrk(hosts, f"http://{replica.address}:{host_port(replica, 'one')}/", seconds)
    across = wrk(hosts, f"http://{first.address}:8091/", seconds)
    spread = wrk(hosts, f"http://{first.address}:8092/", seconds)
    for name in ("one", "three"):
        porter(first, "service", "rm", name)
    return {
        "direct to one replica (req/s)": direct,
        "mesh, one replica on another node (req/s)": across,
        "mesh, three replicas, one per node (req/s)": spread,
        "direct / mesh to one replica on another node": direct / across,
        "direct / mesh to three replicas": direct / spread,
    }


def measure(hosts: ClusterHosts, seconds: float) -> dict[str, float]:
    requests, failed = failed_during_update(hosts)
    results: dict[str, float] = {
        "requests during a start-first update of 9": requests,
        "failed requests during it": failed,
    }
    results.update(rates(hosts, seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each wrk run's length")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    run_on_cluster(lambda hosts: measure(hosts, options.seconds), options.json)


if __name__ == "__main__":
    main()
