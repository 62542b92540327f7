"""The cost of networking: `run --rm busybox true` on the default network against
`--network none`, for porterd (through the docker CLI), podman and, where it starts in a
namespace of its own, dockerd; and the request rate through a published port (wrk from the
namespace side: over 127.0.0.1 and [::1], the loopback that porterd's userland proxy and
docker-proxy serve; over the namespace's own address, the kernel's DNAT path) against a
direct connection to the container's address.

    .venv/bin/python bench/network/run.py [--reps 10] [--seconds 5] [--rounds 3]
        [--engines porterd,podman]

Each engine runs in a network and mount namespace of its own (porterd/tests/integration/cli/
cli_daemons.py), pulling the busybox demo image from a porter-registry on that namespace's
loopback. Figures are medians of `--reps` runs, wall time from fork to exit; the cost of
networking is the difference of the two medians; each request rate is the median of
`--rounds` wrk runs of `--seconds`, the paths taking turns, each run after a warm-up run on
its path and with no connection of the runs before left in TIME_WAIT in the namespace or the
container (`fresh_rate` says why).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "porterd" / "tests" / "integration" / "cli"))
sys.path.insert(0, str(REPO / "porter-image" / "tests"))

import cli_daemons  # noqa: E402
from image_test_support import build_busybox  # noqa: E402

DOCKER = "/usr/bin/docker"
SERVE = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"
PUBLISHED = 18080
CONNECTIONS = 8  # wrk's, each a new TCP connection per request (busybox httpd closes it)
WARM_UP = 2  # seconds of wrk on a path before it is measured


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.decode()[-300:]}")
    return elapsed


def run_cost(cli: list[str], run: list[str], image: str, reps: int) -> tuple[float, float]:
    """Medians of `run --rm IMAGE true` on the default network and with `--network none`,
    taking turns."""
    default, none = [], []
    for _ in range(reps):
        default.append(timed([*cli, *run, "--rm", image, "true"]))
        none.append(timed([*cli, *run, "--rm", "--network", "none", image, "true"]))
    return statistics.median(default), statistics.median(none)


def wrk_rate(namespace: cli_daemons.Namespace, url: str, seconds: int) -> float:
    result = namespace.run(
        ["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{seconds}s", url],
        check=False,
        timeout=seconds + 60,
    )
    found = re.search(rb"Requests/sec:\s+([0-9.]+)", result.stdout)
    if not found:
        raise RuntimeError(f"wrk {url}: {result.stdout.decode()[-300:]}{result.stderr.decode()}")
    return float(found.group(1))


def port_rates(
    namespace: cli_daemons.Namespace,
    cli: list[str],
    run: list[str],
    image: str,
    seconds: int,
    rounds: int,
) -> dict[str, float]:
    """Medians of `rounds` wrk runs on each path, the paths taking turns."""
    name = f"bench-web-{uuid.uuid4().hex[:6]}"
    argv = [*cli, *run, "-d", "--name", name, "-p", f"{PUBLISHED}:80", image, "sh", "-c", SERVE]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    try:
        found = [*cli, "inspect", "-f", "{{.State.Pid}} {{range .NetworkSettings.Networks}}"
                 "{{.IPAddress}}{{end}}", name]  # fmt: skip
        pid, address = subprocess.run(
            found, check=True, capture_output=True, text=True, timeout=60
        ).stdout.split()
        sides = (namespace.holder.pid, int(pid))  # the client's network namespace, the server's
        own = namespace_address(namespace)
        time.sleep(1)
        urls = {
            "direct to the container": f"http://{address}:80/",
            "published, 127.0.0.1": f"http://127.0.0.1:{PUBLISHED}/",
            "published, own address": f"http://{own}:{PUBLISHED}/",
            "published, [::1]": f"http://[::1]:{PUBLISHED}/",
        }
        measured: dict[str, list[float]] = {title: [] for title in urls}
        for _ in range(rounds):  # the paths take turns, so that a busy moment hits them all
            for title, url in urls.items():
                try:
                    measured[title].append(fresh_rate(namespace, sides, url, seconds))
                except RuntimeError:
                    if "[::1]" not in url:  # an engine may have nothing on [::1]
                        raise
        return {title: statistics.median(found) for title, found in measured.items() if found}
    finally:
        subprocess.run([*cli, "rm", "-f", name], capture_output=True, timeout=120, check=False)


def fresh_rate(
    namespace: cli_daemons.Namespace, sides: tuple[int, int], url: str, seconds: int
) -> float:
    """One wrk run's rate on a path, after a warm-up run on it and with no TCP connection of
    the runs before left in TIME_WAIT. Each run leaves thousands (on the client's side or the
    container's, for 60 s), and they made the path measured next slow for reasons of their
    own: a crowded port space for each connect, and the container refusing a SYN from the
    bridge's address whose timestamp is older than that of a closed connection of another
    path, which costs a second's retransmission (127.0.0.1's connections are masqueraded to
    the address the direct ones and the proxy's come from). A path's own connections still
    pile up in TIME_WAIT as it is measured, as they do in use."""
    clear_time_wait(sides)
    wrk_rate(namespace, url, WARM_UP)
    return wrk_rate(namespace, url, seconds)


def clear_time_wait(pids: tuple[int, ...]) -> None:
    """No TCP socket of the network namespaces of `pids` left in TIME_WAIT: destroyed (ss -K),
    or waited for where the kernel cannot destroy them (it keeps each for 60 s)."""
    for pid in pids:
        time_wait(pid, "-K")
    deadline = time.monotonic() + 75
    while (left := sum(time_wait(pid) for pid in pids)) and time.monotonic() < deadline:
        time.sleep(2)
    if left:
        print(f"  ({left} sockets still in TIME_WAIT after 75 s)")


def time_wait(pid: int, *options: str) -> int:
    """How many TCP sockets are in TIME_WAIT in the network namespace of `pid` (with "-K":
    were, and were destroyed)."""
    argv = ["ss", "-Htan", *options, "state", "time-wait"]
    listing = subprocess.run(
        ["nsenter", f"--target={pid}", "--net", "--", *argv],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return len(listing.stdout.splitlines())


def namespace_address(namespace: cli_daemons.Namespace) -> str:
    """An address of the namespace's own (on its loopback), as a host's public address."""
    namespace.run(["ip", "addr", "replace", "198.51.100.10/32", "dev", "lo"])
    return "198.51.100.10"


@contextlib.contextmanager
def engine(
    kind: str, namespace: cli_daemons.Namespace, workdir: Path, registry: str
) -> Iterator[tuple[list[str], list[str]]]:
    """The CLI argv (run in the namespace) of a running engine of `kind`, and its `run`."""
    if kind == "porterd":
        with cli_daemons.porterd(namespace, workdir, registry, []) as sock:
            yield namespace.argv([DOCKER, "-H", f"unix://{sock}"]), ["run"]
    elif kind == "dockerd":
        with dockerd_with_bridge(namespace, workdir, registry) as sock:
            yield namespace.argv([DOCKER, "-H", f"unix://{sock}"]), ["run"]
    else:
        runroot = tempfile.mkdtemp(prefix="pbn-", dir="/tmp")  # podman wants it short
        storage = ["--root", str(workdir / "podman"), "--runroot", runroot]
        config = workdir / "registries.conf"
        config.write_text(f'[[registry]]\nlocation = "{registry}"\ninsecure = true\n')
        env = ["env", f"CONTAINERS_REGISTRIES_CONF={config}"]
        try:
            podman = [*env, "podman", *storage, "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
            # podman's own default limits are above what this host may grant: the host's
            limits = []
            for name, kind in (
                ("nofile", resource.RLIMIT_NOFILE),
                ("nproc", resource.RLIMIT_NPROC),
            ):
                hard = resource.getrlimit(kind)[1]
                if hard != resource.RLIM_INFINITY:
                    limits += ["--ulimit", f"{name}={hard}:{hard}"]
            yield namespace.argv(podman), ["run", *limits]
        finally:
            namespace.run([*env, "podman", *storage, "rm", "-af"], check=False)
            namespace.run([*env, "podman", *storage, "system", "reset", "-f"], check=False)
            shutil.rmtree(runroot, ignore_errors=True)


@contextlib.contextmanager
def dockerd_with_bridge(
    namespace: cli_daemons.Namespace, workdir: Path, registry: str
) -> Iterator[Path]:
    """dockerd with its default bridge, iptables NAT and docker-proxy, in the namespace."""
    sock = workdir / "docker.sock"
    log = workdir / "dockerd.log"
    config = workdir / "daemon.json"
    config.write_text(json.dumps({"insecure-registries": [registry]}) + "\n")
    process = namespace.popen(
        ["dockerd", "--data-root", str(workdir / "docker"), "--exec-root", str(workdir / "exec"),
         "-H", f"unix://{sock}", "--pidfile", str(workdir / "dockerd.pid"),
         "--config-file", str(config), "--cgroup-parent", f"porter-bench-{uuid.uuid4().hex[:8]}"],
        log,
    )  # fmt: skip
    try:
        cli_daemons.wait_for(lambda: cli_daemons.ping(sock), "dockerd", process, log)
        yield sock
    finally:
        cli_daemons.stop(process)
        namespace.kill_all()


def bench(kind: str, workdir: Path, layout: Path, reps: int, seconds: int, rounds: int) -> None:
    namespace = cli_daemons.Namespace.create()
    try:
        with cli_daemons.registry(namespace, workdir, layout) as registry:
            image = f"{registry}/busybox:latest"
            with engine(kind, namespace, workdir, registry) as (cli, run):
                pull = [*cli, "pull", *(["--tls-verify=false"] if kind == "podman" else []), image]
                subprocess.run(pull, check=True, capture_output=True, timeout=300)
                load = os.getloadavg()[0]
                default, none = run_cost(cli, run, image, reps)
                rates = port_rates(namespace, cli, run, image, seconds, rounds)
    finally:
        namespace.close()
    print(f"\n{kind} (medians of {reps} runs, load average {load:.2f} at the start)")
    print(f"  run --rm busybox true, default network  {default * 1e3:8.1f} ms")
    print(f"  run --rm busybox true, --network none    {none * 1e3:8.1f} ms")
    print(f"  cost of networking                       {(default - none) * 1e3:8.1f} ms")
    direct = rates["direct to the container"]
    for title, rate in rates.items():
        print(f"  wrk {title:36} {rate:10.0f} req/s  {rate / direct:5.2f} of direct")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per path (medians)")
    parser.add_argument("--engines", default="porterd,podman,dockerd")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="porter-bench-network-") as scratch:
        layout = Path(scratch) / "layout"
        build_busybox(f"{layout}:busybox")
        for kind in options.engines.split(","):
            workdir = Path(scratch) / kind
            workdir.mkdir()
            try:
                bench(kind, workdir, layout, options.reps, options.seconds, options.rounds)
            except (cli_daemons.Unavailable, RuntimeError, subprocess.CalledProcessError) as error:
                detail = getattr(error, "stderr", b"") or b""
                print(f"\n{kind}: skipped: {error} {detail.decode(errors='replace')[-300:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
