"""Services over three porterd: how fast the cluster converges and heals. One run, printed.

    .venv/bin/python bench/cluster/run.py [--replicas 30] [--runtime runc] [--json]

Three porterd, each in a network namespace of its own, joined by a bridge to a hub namespace
where a 3-member etcd runs (the integration tests' set-up, porterd/tests/integration/cluster/
cluster_nodes.py). Measured, in this order:

- the time from `porter service create --replicas 30 busybox httpd` until the 30 tasks are
  scheduled, and until all 30 run and each answers a TCP connection on port 80 from its
  node's namespace;
- the CPU time the three porterd and the three etcd members spend in IDLE seconds while the
  30 replicas run and nothing changes (the cost of the agents' and reconciler's loops);
- the time from killing one task's container until its replacement task is scheduled (the
  agent's report and the reconciler's round), and until 30 run again;
- the time from `porter service create --replicas 30 -p 8080:80` of replicas that serve their
  hostname until each of the 30 has answered a request through the published port from the
  hub namespace (swarm's figure with a published port);
- the time from kill -9 of a porterd that does not lead until its tasks run on the other two
  (it is then started again, and rejoins);
- the time from kill -9 of the leader's porterd until another node leads, and until its tasks
  run on the other two (failover);
- the time to roll 9 tasks to another image (parallelism 1, stop-first, as swarm's default)
  until the update reports completed;
- the load average at the start and at the end, since the figures vary with it.

`--runtime` has the nodes run their containers with another OCI runtime (runc, crun) than
porter-runtime, to see what the runtime's processes cost of each start.

Requests lost during an update, a replica leaving the rotation and the routing mesh against a
direct connection are mesh.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(REPO / "porterd" / "tests" / "integration" / "cluster"))
import cluster_nodes  # noqa: E402
from cluster_nodes import ClusterHosts, Node, cluster_hosts  # noqa: E402
from containers_support import busybox_rootfs_tar  # noqa: E402
from network_support import entered  # noqa: E402

PORTER = str(REPO / ".venv" / "bin" / "porter")
HTTPD = ["httpd", "-f", "-p", "80"]
# A page of the replica's hostname (its container's short id), so that an answer through the
# routing mesh says which replica gave it.
NAMED_PAGE = "mkdir /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"
NAMED_HTTPD = ["sh", "-c", NAMED_PAGE]
PORT = 8080
IDLE = 20.0


def porter(node: Node, *args: str) -> str:
    assert node.porterd is not None
    result = subprocess.run(
        [PORTER, "-H", node.porterd.url, *args], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"porter {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def timed(check: Callable[[], object], timeout: float = 300, poll: float = 0.05) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError("the cluster did not get there in time")
        time.sleep(poll)
    return time.monotonic() - start


def addresses(node: Node, service: str) -> list[str]:
    """The addresses of a live node's running containers of `service`."""
    if node.porterd is None or node.porterd.process.poll() is not None:
        return []
    client = node.client()
    try:
        label = f"com.docker.swarm.service.name={service}"
        found = []
        for summary in client.api.containers(filters={"label": label}):
            networks = (summary.get("NetworkSettings") or {}).get("Networks") or {}
            found += [n["IPAddress"] for n in networks.values() if n.get("IPAddress")]
        return found
    finally:
        client.close()


def reachable(node: Node, address: str) -> bool:
    with entered(node.netns):
        try:
            socket.create_connection((address, 80), timeout=0.5).close()
            return True
        except OSError:
            return False


def all_up(nodes: list[Node], service: str, count: int, probe: bool = True) -> bool:
    found = [(node, a) for node in nodes for a in addresses(node, service)]
    return len(found) == count and (not probe or all(reachable(n, a) for n, a in found))


def live(hosts: ClusterHosts) -> list[Node]:
    return [n for n in hosts.nodes if n.porterd and n.porterd.process.poll() is None]


def measure(hosts: ClusterHosts, replicas: int) -> dict[str, float]:
    results = {"load average at the start": os.getloadavg()[0]}
    results.update(converge(hosts, replicas))
    results.update(published(hosts, replicas))
    results.update(node_death(hosts, replicas))
    results.update(leader_death(hosts, replicas))
    results["rolling update of 9 tasks (s)"] = rolling_update(hosts)
    results["load average at the end"] = os.getloadavg()[0]
    return results


def converge(hosts: ClusterHosts, replicas: int) -> dict[str, float]:
    """30 replicas without a published port: scheduled, running and answering at their
    addresses from their nodes; the idle CPU; one task killed and replaced."""
    first = hosts.nodes[0]
    results: dict[str, float] = {}
    start = time.monotonic()
    porter(first, "service", "create", "--name", "web", "--replicas", str(replicas),
           "busybox", *HTTPD)  # fmt: skip
    timed(lambda: len(scheduled(first, "web")) == replicas, poll=0.01)
    results[f"{replicas} tasks scheduled (s)"] = time.monotonic() - start
    timed(lambda: all_up(hosts.nodes, "web", replicas))
    results[f"{replicas} replicas running and reachable (s)"] = time.monotonic() - start
    results[f"CPU of porterd + etcd, {IDLE:g} s idle (s)"] = idle_cpu(hosts)

    victim = hosts.nodes[1]
    client = victim.client()
    container = client.api.containers(filters={"label": "com.docker.swarm.service.name=web"})[0]
    tasks = scheduled(first, "web")
    start = time.monotonic()
    client.api.kill(container["Id"])
    client.close()
    timed(lambda: scheduled(first, "web") - tasks, poll=0.01)
    results["killed task: its replacement scheduled (s)"] = time.monotonic() - start
    timed(lambda: all_up(hosts.nodes, "web", replicas, probe=False) and _gone(hosts, container))
    results["killed task replaced (s)"] = time.monotonic() - start
    remove_service(hosts, "web")
    return results


def published(hosts: ClusterHosts, replicas: int) -> dict[str, float]:
    """30 replicas with a published port (swarm's `-p`), until each of them has answered a
    request through the port from the hub namespace (another machine, as the nodes see it).
    Each replica serves its hostname, so the answers say which replicas the mesh reached."""
    first = hosts.nodes[0]
    seen: set[str] = set()

    def all_seen() -> bool:
        with entered(hosts.hub):
            for node in hosts.nodes:
                seen.update(filter(None, (page(node.address, PORT) for _ in range(replicas))))
        return len(seen) >= replicas

    start = time.monotonic()
    porter(first, "service", "create", "--name", "pub", "--replicas", str(replicas),
           "-p", f"{PORT}:80", "busybox", *NAMED_HTTPD)  # fmt: skip
    timed(all_seen)
    return {f"{replicas} replicas with -p, each answering through it (s)": time.monotonic() - start}


def node_death(hosts: ClusterHosts, replicas: int) -> dict[str, float]:
    """kill -9 of a node's porterd that does not lead, until its tasks run on the other two;
    the node is then started again and rejoins (its strays removed)."""
    dead = next(node for node in hosts.nodes if node is not leader(hosts))
    start = time.monotonic()
    dead.kill()
    others = [n for n in hosts.nodes if n is not dead]
    timed(lambda: all_up(others, "pub", replicas, probe=False))
    took = time.monotonic() - start
    assert hosts.etcd is not None
    hosts.start(dead, ",".join(hosts.etcd.endpoints))
    timed(lambda: not addresses(dead, "pub") and _ready(hosts, dead))
    return {"node killed -> its tasks running elsewhere (s)": took}


def leader_death(hosts: ClusterHosts, replicas: int) -> dict[str, float]:
    """kill -9 of the leading node's porterd: until another node leads, and until the dead
    node's tasks run on the other two."""
    dead = leader(hosts)
    if dead is None:
        raise RuntimeError("no node leads")
    others = [n for n in hosts.nodes if n is not dead]
    start = time.monotonic()
    dead.kill()
    timed(lambda: leader(hosts) in others)
    took = time.monotonic() - start
    timed(lambda: all_up(others, "pub", replicas, probe=False))
    return {
        "leader killed -> another leads (s)": took,
        "leader killed -> its tasks running elsewhere (s)": time.monotonic() - start,
    }


def rolling_update(hosts: ClusterHosts) -> float:
    """9 tasks rolled to another image on the live nodes, until the update completed."""
    remove_service(hosts, "pub")
    first = live(hosts)[0]
    porter(first, "service", "create", "--name", "roll", "--replicas", "9", "busybox", *HTTPD)
    timed(lambda: all_up(live(hosts), "roll", 9, probe=False))
    start = time.monotonic()
    porter(first, "service", "update", "--image", "busybox:v2", "roll")
    timed(lambda: _update_state(first, "roll") in ("completed", "paused"))
    state = _update_state(first, "roll")
    if state != "completed":
        raise RuntimeError(
            f"the rolling update ended {state}: {porter(first, 'service', 'ps', 'roll')}"
        )
    took = time.monotonic() - start
    remove_service(hosts, "roll")
    return took


def remove_service(hosts: ClusterHosts, service: str) -> None:
    porter(live(hosts)[0], "service", "rm", service)
    timed(lambda: not any(addresses(n, service) for n in live(hosts)))


def page(address: str, port: int) -> str:
    """The body of GET / at address:port, in the calling thread's namespace ("" if none)."""
    try:
        with socket.create_connection((address, port), timeout=0.5) as connection:
            connection.settimeout(2)
            connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
    except OSError:
        return ""
    head, _, body = answer.partition(b"\r\n\r\n")
    return body.decode(errors="replace").strip() if ok(head) else ""


def ok(answer: bytes) -> bool:
    """Whether an HTTP answer (its start at least) has status 200."""
    return answer.startswith(b"HTTP/1.") and answer.split(b" ", 2)[1:2] == [b"200"]


def leader(hosts: ClusterHosts) -> Node | None:
    """The live node that leads, as a live node's `docker node ls` says."""
    for node in live(hosts):
        client = node.client()
        try:
            for entry in client.api.nodes():
                if (entry.get("ManagerStatus") or {}).get("Leader"):
                    hostname = entry["Description"]["Hostname"]
                    found = next((n for n in live(hosts) if n.name == hostname), None)
                    if found is not None:
                        return found
        finally:
            client.close()
    return None


def _ready(hosts: ClusterHosts, node: Node) -> bool:
    client = live(hosts)[0].client()
    try:
        return any(
            entry["Description"]["Hostname"] == node.name and entry["Status"]["State"] == "ready"
            for entry in client.api.nodes()
        )
    finally:
        client.close()


def scheduled(node: Node, service: str) -> set[str]:
    """The ids of the service's tasks that should run (the reconciler's decisions so far)."""
    client = node.client()
    try:
        tasks = client.api.tasks(filters={"service": service, "desired-state": "running"})
        return {task["ID"] for task in tasks}
    finally:
        client.close()


def idle_cpu(hosts: ClusterHosts) -> float:
    """CPU seconds the porterd and etcd processes use over IDLE seconds with nothing to do."""
    assert hosts.etcd is not None
    pids = [n.porterd.process.pid for n in hosts.nodes if n.porterd is not None]
    pids += [m.process.pid for m in hosts.etcd.members if m.process is not None]
    time.sleep(2)  # the last reports of the convergence settle
    before = sum(_cpu_seconds(pid) for pid in pids)
    time.sleep(IDLE)
    return sum(_cpu_seconds(pid) for pid in pids) - before


def _cpu_seconds(pid: int) -> float:
    """User and system time of a process and its threads (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _gone(hosts: ClusterHosts, container: dict) -> bool:
    return all(
        container["Id"] not in [c["Id"] for c in n.client().api.containers()] for n in live(hosts)
    )


def _update_state(node: Node, service: str) -> str:
    document = json.loads(porter(node, "service", "inspect", service))[0]
    return (document.get("UpdateStatus") or {}).get("State", "")


def run_on_cluster(measure: Callable[[ClusterHosts], dict[str, float]], as_json: bool) -> None:
    """Three porterd with the busybox image (also tagged busybox:v2), `measure` run on them,
    and its figures printed."""
    with tempfile.TemporaryDirectory(prefix="porter-bench-cluster-", dir="/var/tmp") as work:
        root = Path(work)
        (root / "busybox").mkdir()
        rootfs = busybox_rootfs_tar(root / "busybox")
        with cluster_hosts(root / "cluster", rootfs, tags=("v2",)) as hosts:
            results = measure(hosts)
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        print(f"{name:56} {value:8.1f}")


def use_runtime(runtime: str) -> None:
    """Have every node's porterd run its containers with the OCI runtime `runtime`
    (`porterd --default-runtime`), in place of porter-runtime."""
    argv = cluster_nodes.porterd_argv

    def with_runtime(workdir: Path, *extra: str) -> list[str]:
        return argv(workdir, *extra, "--default-runtime", runtime)

    cluster_nodes.porterd_argv = with_runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--runtime", help="the nodes' OCI runtime (porterd --default-runtime)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if options.runtime:
        use_runtime(options.runtime)
    run_on_cluster(lambda hosts: measure(hosts, options.replicas), options.json)


if __name__ == "__main__":
    main()
