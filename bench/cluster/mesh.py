"""The routing mesh over three porterd: requests lost during a rolling update, how soon a
replica failing its health check leaves the rotation, and the request rate through the mesh
against a direct connection to one replica. One run, printed.

    .venv/bin/python bench/cluster/mesh.py [--seconds 5] [--json]

The set-up of run.py (three porterd in network namespaces, a 3-member etcd in the hub's).
Measured, from the hub namespace (another machine, as far as the nodes can tell):

- failed requests of a steady request loop (one request at a time, spread over the three
  nodes' published port) while a service of 9 replicas with a health check rolls to another
  image, start-first, parallelism 1;
- the time from one replica's page being removed (its health check, every 1 s with one
  retry, fails from then on) until six requests in a row to each node's published port are
  all answered 200, i.e. no node's mesh sends it a connection any more;
- wrk's request rate (busybox httpd answers one request per connection, so each request is a
  new connection through the translation) to one replica directly, at the host port its
  container publishes on its node; through the mesh to a service whose one replica runs on
  another node than the one connected to (every connection crosses two nodes); and through
  the mesh to a service of three replicas, one per node. The ratios are direct / mesh. The
  same again from inside node0's namespace, to the published port at 127.0.0.1 (a local
  connection, translated through route_localnet), against a direct connection from node0.
"""

from __future__ import annotations

import argparse
import os
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
from run import _update_state, ok, porter, run_on_cluster, timed  # noqa: E402

# A page to serve (httpd answers / of an empty folder with 404, which health checks fail).
HTTPD = ["sh", "-c", "mkdir /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www"]
HEALTH = ["--health-cmd", "wget -q -O /dev/null http://127.0.0.1:80/", "--health-interval", "1s"]


def answers(address: str, port: int, ok_only: bool = False) -> bool:
    """One HTTP request, in the calling thread's namespace: whether it got a status line (with
    `ok_only`, a 200's)."""
    try:
        with socket.create_connection((address, port), timeout=3) as connection:
            connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
            answer = connection.recv(64)
            return ok(answer) if ok_only else answer.startswith(b"HTTP/1.")
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


def wrk(netns: Path, url: str, seconds: float) -> float:
    """Requests per second wrk gets from the namespace `netns`."""
    result = run_in(netns, "wrk", "-t1", "-c8", f"-d{seconds:g}s", url,
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
    direct_url = f"http://{replica.address}:{host_port(replica, 'one')}/"
    results: dict[str, float] = {}
    # From the hub, and from a node's own namespace to 127.0.0.1 (the translation of a
    # local connection, through route_localnet), each against a direct connection from there.
    for where, netns, address in (
        ("from the hub", hosts.hub, first.address),
        ("on node0 over 127.0.0.1", first.netns, "127.0.0.1"),
    ):
        direct = wrk(netns, direct_url, seconds)
        across = wrk(netns, f"http://{address}:8091/", seconds)
        spread = wrk(netns, f"http://{address}:8092/", seconds)
        results.update({
            f"{where}: direct to one replica (req/s)": direct,
            f"{where}: mesh, one replica on another node (req/s)": across,
            f"{where}: mesh, three replicas, one per node (req/s)": spread,
            f"{where}: direct / mesh to one replica on another node": direct / across,
            f"{where}: direct / mesh to three replicas": direct / spread,
        })  # fmt: skip
    for name in ("one", "three"):
        porter(first, "service", "rm", name)
    return results


def out_of_rotation(hosts: ClusterHosts) -> float:
    """Seconds from a replica's page going away (its health check fails from then on) until
    the mesh of every node sends it no request: six requests in a row to each node's published
    port all answered 200 (the map sends a node's connections in turn to each of the three)."""
    first = hosts.nodes[0]
    porter(first, "service", "create", "--name", "sick", "--replicas", "3", "-p", "8093:80",
           *HEALTH, "--health-retries", "1", "busybox", *HTTPD)  # fmt: skip
    addresses = [node.address for node in hosts.nodes]

    def all_answer() -> bool:
        with entered(hosts.hub):
            return all(answers(a, 8093, ok_only=True) for a in addresses for _ in range(6))

    timed(all_answer)
    time.sleep(2)  # every node's mesh has the three healthy replicas
    node = on_node(hosts, "sick")
    port = host_port(node, "sick")
    client = node.client()
    try:
        label = "com.docker.swarm.service.name=sick"
        container = client.api.containers(filters={"label": label})[0]
        execution = client.api.exec_create(container["Id"], ["rm", "/www/index.html"])
        start = time.monotonic()
        client.api.exec_start(execution["Id"])
        exit_code = client.api.exec_inspect(execution["Id"])["ExitCode"]
    finally:
        client.close()
    with entered(hosts.hub):
        if exit_code != 0 or answers(node.address, port, ok_only=True):
            raise RuntimeError("the replica still serves its page")
    timed(all_answer, poll=0.01)
    took = time.monotonic() - start
    porter(first, "service", "rm", "sick")
    return took


def measure(hosts: ClusterHosts, seconds: float) -> dict[str, float]:
    results = {"load average at the start": os.getloadavg()[0]}
    requests, failed = failed_during_update(hosts)
    results["requests during a start-first update of 9"] = requests
    results["failed requests during it"] = failed
    results["a replica failing its health check out of rotation (s)"] = out_of_rotation(hosts)
    results.update(rates(hosts, seconds))
    results["load average at the end"] = os.getloadavg()[0]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each wrk run's length")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    run_on_cluster(lambda hosts: measure(hosts, options.seconds), options.json)


if __name__ == "__main__":
    main()
