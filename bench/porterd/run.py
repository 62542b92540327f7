"""porterd + porter against dockerd + docker and podman: the time a person waits for the
everyday commands, each CLI timed end to end against its own engine, and the daemons' memory.

    .venv/bin/python bench/porterd/run.py [--reps 10] [--rounds 3]
        [--engines porter,docker,podman,docker-porterd]

Everything runs inside a network and mount namespace the benchmark makes (so a daemon's
bridge, rules and mounts die with it): a porter-registry on its 127.0.0.1 holding the busybox
demo image (scripts/make-busybox-image.sh), porterd and dockerd (Debian's docker.io, with the
containerd it starts, `--bridge=none --iptables=false`) each with its own data root, exec
root and socket, and podman (Debian's, runc, cgroupfs, its own --root/--runroot/--tmpdir with
the overlay driver). Each engine pulls the image from the registry once, then:

  run --rm        `run --rm --network none IMAGE true`, hyperfine's median of --reps runs
  images          `images`, hyperfine's median
  run -d x20      20 x `run -d --network none IMAGE sleep 3600`, the median of --rounds rounds
  ps (20)         `ps` with those 20 running, hyperfine's median
  rm -f x20       one `rm -f` of the 20 (podman: `rm -f -t 0`, docker's SIGKILL at once),
                  the median of --rounds rounds
  (docker-porterd: the docker CLI against porterd, the daemon's share of porter's figures)
  idle RSS        VmRSS of the daemon (dockerd: and of its containerd) once it has started,
                  and again after all this, with no container left

hyperfine runs inside the namespace (no nsenter in the figures); the 20-container rounds are
timed by this script through nsenter, the same for every CLI. Ratios are porter's over each
peer's (below 1.0: porter is faster). Needs root, unshare, nsenter, hyperfine, skopeo,
conmon; dockerd and podman are skipped with the reason when they cannot run here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "porterd" / "tests" / "integration" / "cli"))
sys.path.insert(0, str(REPO / "porter-image" / "tests"))

import cli_daemons  # noqa: E402
from image_test_support import build_busybox  # noqa: E402

CONTAINERS = 20
ENGINES = ("porter", "docker", "podman", "docker-porterd")
PEERS = ("docker", "podman")


@dataclass
class Engine:
    """A CLI (argv before the verb) and the daemon processes whose memory counts."""

    name: str
    cli: list[str]
    pull_flags: list[str] = field(default_factory=list)
    rm_flags: list[str] = field(default_factory=list)
    daemon_pids: dict[str, int] = field(default_factory=dict)
    rss_started: dict[str, int] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    rss_idle: dict[str, int] = field(default_factory=dict)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"pid {pid} has no VmRSS")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def command_name(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def pid_file(path: Path) -> int:
    return int(path.read_text().strip())


class Bench:
    def __init__(self, namespace: cli_daemons.Namespace, workdir: Path, image: str, reps: int):
        self.namespace = namespace
        self.workdir = workdir
        self.image = image
        self.reps = reps
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PORTER_"))}
        self.env["DOCKER_CONFIG"] = str(workdir / "docker-config")
        self.env["PORTER_CONFIG"] = str(workdir / "porter-config")
        (workdir / "docker-config").mkdir()
        (workdir / "docker-config" / "config.json").write_text("{}\n")  # podman reads it too

    def cli(self, engine: Engine, *args: str) -> subprocess.CompletedProcess[bytes]:
        result = self.namespace.run([*engine.cli, *args], check=False, env=self.env, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"{engine.name} {' '.join(args)}: {result.stderr.decode()[-400:]}")
        return result

    def hyperfine(self, engine: Engine, *args: str) -> float:
        """hyperfine's median (seconds) of `CLI args`, run inside the namespace."""
        out = self.workdir / "hyperfine.json"
        command = shlex.join([*engine.cli, *args])
        result = self.namespace.run(
            ["hyperfine", "-N", "--warmup", "2", "--runs", str(self.reps), "--style", "none",
             "--export-json", str(out), command],
            env=self.env, timeout=600, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"hyperfine {command}: {result.stderr.decode()[-600:]}")
        return float(json.loads(out.read_text())["results"][0]["median"])

    def timed(self, engine: Engine, *args: str) -> tuple[float, bytes]:
        start = time.perf_counter()
        result = self.cli(engine, *args)
        return time.perf_counter() - start, result.stdout

    def measure(self, engine: Engine, rounds: int) -> None:
        self.cli(engine, "pull", *engine.pull_flags, self.image)
        engine.times["run --rm"] = self.hyperfine(
            engine, "run", "--rm", "--network", "none", self.image, "true"
        )
        engine.times["images"] = self.hyperfine(engine, "images")
        runs, removals, listings = [], [], []
        for _ in range(rounds):
            ids, elapsed = [], 0.0
            for _ in range(CONTAINERS):
                seconds, out = self.timed(
                    engine, "run", "-d", "--network", "none", self.image, "sleep", "3600"
                )
                elapsed += seconds
                ids.append(out.decode().strip().splitlines()[-1])
            runs.append(elapsed)
            if not listings:
                listings.append(self.hyperfine(engine, "ps"))
                listed = self.cli(engine, "ps", "-q").stdout.decode().split()
                if len(listed) != CONTAINERS:
                    raise RuntimeError(f"{engine.name} ps lists {len(listed)} containers")
            seconds, _ = self.timed(engine, "rm", "-f", *engine.rm_flags, *ids)
            removals.append(seconds)
        engine.times[f"run -d x{CONTAINERS}"] = statistics.median(runs)
        engine.times[f"ps ({CONTAINERS} running)"] = listings[0]
        engine.times[f"rm -f x{CONTAINERS}"] = statistics.median(removals)
        time.sleep(2)  # let the daemon settle after the last removal
        engine.rss_idle = {label: rss_kib(pid) for label, pid in engine.daemon_pids.items()}


@contextlib.contextmanager
def porter_engine(bench: Bench, registry: str) -> Iterator[Engine]:
    workdir = bench.workdir / "porterd"
    workdir.mkdir()
    with cli_daemons.porterd(bench.namespace, workdir, registry, []) as sock:
        engine = Engine("porter", [str(cli_daemons.PORTER), "-H", f"unix://{sock}"])
        engine.daemon_pids["porterd"] = pid_file(workdir / "porterd.pid")
        yield engine


@contextlib.contextmanager
def docker_on_porterd(bench: Bench, porter: Engine | None) -> Iterator[Engine]:
    """The docker CLI against the same porterd: porterd's share of porter's times."""
    if porter is None:
        raise cli_daemons.Unavailable("it needs the porter engine")
    yield Engine("docker-porterd", [cli_daemons.DOCKER, *porter.cli[1:]])


@contextlib.contextmanager
def docker_engine(bench: Bench) -> Iterator[Engine]:
    workdir = bench.workdir / "dockerd"
    workdir.mkdir()
    with cli_daemons.dockerd(bench.namespace, workdir, []) as sock:
        engine = Engine("docker", [cli_daemons.DOCKER, "-H", f"unix://{sock}"])
        dockerd = pid_file(workdir / "dockerd.pid")
        engine.daemon_pids["dockerd"] = dockerd
        for child in children(dockerd):
            if command_name(child) == "containerd":
                engine.daemon_pids["containerd"] = child
        yield engine


@contextlib.contextmanager
def podman_engine(bench: Bench) -> Iterator[Engine]:
    if shutil.which("podman") is None:
        raise cli_daemons.Unavailable("podman is not installed")
    workdir = bench.workdir / "podman"
    conf = workdir / "containers.conf"
    workdir.mkdir()
    # podman gives containers nofile and nproc limits above the host's hard limits, which
    # runc cannot set without CAP_SYS_RESOURCE (this host's root lacks it); ask for less.
    conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
        '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    bench.env["CONTAINERS_CONF"] = str(conf)
    base = [
        "podman", "--root", str(workdir / "root"), "--runroot", str(workdir / "runroot"),
        "--tmpdir", str(workdir / "tmp"), "--runtime", "runc",
    ]  # fmt: skip
    reasons = []
    for driver in ("overlay", "vfs"):
        # podman allows plain HTTP to a loopback registry only when told; its rm -f stops a
        # container with SIGTERM and a 10 s grace (sleep as PID 1 ignores SIGTERM) where
        # docker's sends SIGKILL at once, which -t 0 asks of podman too
        engine = Engine(
            "podman", [*base, "--storage-driver", driver], ["--tls-verify=false"], ["-t", "0"]
        )
        probe = bench.namespace.run([*engine.cli, "images"], check=False, env=bench.env)
        if probe.returncode == 0:
            break
        reasons.append(f"{driver}: {probe.stderr.decode().strip()[-200:]}")
    else:
        raise cli_daemons.Unavailable("podman cannot run here: " + "; ".join(reasons))
    engine.name = f"podman ({driver})"
    try:
        yield engine
    finally:
        bench.namespace.run([*engine.cli, "rm", "-af"], check=False, env=bench.env)
        bench.namespace.run([*engine.cli, "system", "reset", "-f"], check=False, env=bench.env)


def compile_sources() -> None:
    """Byte-compile the checkout's sources the venv imports (porter-src.pth) as an installed
    wheel would have them: with PYTHONDONTWRITEBYTECODE set, stale byte code is never
    refreshed and each porter start would compile the changed modules again."""
    folders = [str(REPO / part / "src") for part in ("specs", "porter-image", "porterd")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


def report(engines: list[Engine], skipped: dict[str, str], load: tuple[float, float]) -> None:
    print(f"\nmedians; load average {load[0]:.2f} before, {load[1]:.2f} after")
    peers = [e for e in engines if e.name.split()[0] in PEERS]
    porter = next((e for e in engines if e.name == "porter"), None)
    header = f"{'command':22}" + "".join(f"{e.name:>18}" for e in engines) + "  "
    header += "".join(f"{'porter/' + p.name.split()[0]:>16}" for p in peers if porter)
    print(header)
    titles = list(engines[0].times) if engines else []
    for title in titles:
        row = f"{title:22}" + "".join(f"{e.times[title] * 1e3:16.1f}ms" for e in engines) + "  "
        if porter:
            row += "".join(f"{porter.times[title] / p.times[title]:16.2f}" for p in peers)
        print(row)
    print("\ndaemon RSS (MiB): after start -> idle after the runs")
    for engine in engines:
        for label in engine.daemon_pids:
            started = engine.rss_started[label] / 1024
            print(f"  {label:12} {started:8.1f} -> {engine.rss_idle[label] / 1024:8.1f}")
        if not engine.daemon_pids:
            print(f"  {engine.name:12} (no daemon of its own)")
    for name, reason in skipped.items():
        print(f"{name}: skipped: {reason}")
    if porter:
        goals = [
            ("every porter time at most each peer's",
             all(porter.times[t] <= p.times[t] for p in peers for t in porter.times)),
            ("porter ps under 100 ms", porter.times[f"ps ({CONTAINERS} running)"] < 0.1),
            ("porterd idle under 60 MB RSS", porter.rss_idle["porterd"] * 1024 < 60e6),
        ]  # fmt: skip
        print("\ngoals:")
        for goal, met in goals:
            print(f"  {'met ' if met else 'MISSED'}  {goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="hyperfine runs per command")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 20 containers")
    parser.add_argument("--engines", default=",".join(ENGINES))
    options = parser.parse_args()
    wanted = [name for name in options.engines.split(",") if name]
    for tool in ("hyperfine", "conmon"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    engines: list[Engine] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="porter-bench-porterd-") as scratch:
        workdir = Path(scratch)
        layout = workdir / "layout"
        build_busybox(f"{layout}:busybox")
        compile_sources()
        namespace = cli_daemons.Namespace.create()
        try:
            with contextlib.ExitStack() as stack:
                registry = stack.enter_context(cli_daemons.registry(namespace, workdir, layout))
                bench = Bench(namespace, workdir, f"{registry}/busybox:latest", options.reps)
                starters = {
                    "porter": lambda: porter_engine(bench, registry),
                    "docker": lambda: docker_engine(bench),
                    "podman": lambda: podman_engine(bench),
                    "docker-porterd": lambda: docker_on_porterd(
                        bench, next((e for e in engines if e.name == "porter"), None)
                    ),
                }
                for name in wanted:
                    try:
                        engine = stack.enter_context(starters[name]())
                    except cli_daemons.Unavailable as reason:
                        skipped[name] = str(reason)
                        continue
                    time.sleep(2)  # the daemon's start-up settles
                    engine.rss_started = {
                        label: rss_kib(pid) for label, pid in engine.daemon_pids.items()
                    }
                    engines.append(engine)
                load_before = os.getloadavg()[0]
                for engine in engines:
                    bench.measure(engine, options.rounds)
                load_after = os.getloadavg()[0]
        finally:
            namespace.close()
    report(engines, skipped, (load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
