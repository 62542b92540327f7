"""Services over three porterd: how fast the cluster converges and heals. One run, printed.

    .venv/bin/python bench/cluster/run.py [--replicas 30] [--json]

Three porterd, each in a network namespace of its own, joined by a bridge to a hub namespace
where a 3-member etcd runs (the integration tests' set-up, porterd/tests/integration/cluster/
cluster_nodes.py). Measured:

- the time from `porter service create --replicas 30 busybox httpd` until the 30 tasks are
  scheduled, and until all 30 run and each answers a TCP connection on port 80 from its
  node's namespace;
- the time from killing one task's container until its replacement task is scheduled (the
  agent's report and the reconciler's round), and until 30 run again;
- the time from kill -9 of one porterd until its tasks run on the other two;
- the time to roll 9 tasks to another image (parallelism 1, stop-first, as swarm's default)
  until the update reports completed;
- the CPU time the three porterd and the three etcd members spend in IDLE seconds while the
  30 replicas run and nothing changes (the cost of the agents' and reconciler's loops).

Requests lost during an update and the routing mesh against a direct connection are
mesh.py's.
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
from cluster_nodes import ClusterHosts, Node, cluster_hosts  # noqa: E402
from containers_support import busybox_rootfs_tar  # noqa: E402
from network_support import entered  # noqa: E402

PORTER = str(REPO / ".venv" / "bin" / "porter")
HTTPD = ["httpd", "-f", "-p", "80"]
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

    dead = hosts.nodes[2]
    start = time.monotonic()
    dead.kill()
    others = [n for n in hosts.nodes if n is not dead]
    timed(lambda: all_up(others, "web", replicas, probe=False))
    results["node killed -> its tasks running elsewhere (s)"] = time.monotonic() - start
    porter(first, "service", "rm", "web")
    timed(lambda: not any(addresses(n, "web") for n in others))

    porter(first, "service", "create", "--name", "roll", "--replicas", "9", "busybox", *HTTPD)
    timed(lambda: all_up(others, "roll", 9, probe=False))
    start = time.monotonic()
    porter(first, "service", "update", "--image", "busybox:v2", "roll")
    timed(lambda: _update_state(first, "roll") in ("completed", "paused"))
    state = _update_state(first, "roll")
    if state != "completed":
        raise RuntimeError(
            f"the rolling update ended {state}: {porter(first, 'service', 'ps', 'roll')}"
        )
    results["rolling update of 9 tasks (s)"] = time.monotonic() - start
    porter(first, "service", "rm", "roll")
    return results


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
        print(f"{name:50} {value:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    run_on_cluster(lambda hosts: measure(hosts, options.replicas), options.json)


if __name__ == "__main__":
    main()
