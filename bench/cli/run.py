"""porter against the docker CLI, both talking to the same daemon: the time a person waits
for `ps` (with 20 containers), `images`, `version` and `run --rm IMAGE true`.

    .venv/bin/python bench/cli/run.py [--reps 15] [--daemon dockerd|porterd|both]
                                      [--wheel | --porter PATH]

The daemons are started as porter's end-to-end tests start them (porterd/tests/integration/
cli/cli_daemons.py): each in a network and mount namespace of its own, with a porter-registry
on its loopback holding the busybox demo image. The two CLIs take turns, command by command,
so that a busy spell of the machine hits both alike; each figure is the median wall time of
`--reps` runs, from fork to exit (waitpid), and the ratio is porter's over docker's.

The porter timed is the running venv's (the dev venv's, an editable install), `--porter PATH`,
or with `--wheel` the `porter` of Porter's wheel built from the working tree and installed into
a fresh venv, as users get it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "porterd" / "tests" / "integration" / "cli"))
sys.path.insert(0, str(REPO / "porter-image" / "tests"))

import cli_daemons  # noqa: E402
from image_test_support import build_busybox  # noqa: E402

DOCKER = "/usr/bin/docker"
CONTAINERS = 20


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status = os.waitpid(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {process.stderr.read().decode()[-300:]}")  # type: ignore[union-attr]
    return elapsed


def measure(
    porter_command: Path, host: str, image: str, reps: int, env: dict[str, str]
) -> list[tuple[str, float, float]]:
    porter = [str(porter_command), "-H", host]
    docker = [DOCKER, "-H", host]
    commands = {
        "ps (20 containers)": ["ps"],
        "ps -a": ["ps", "-a"],
        "images": ["images"],
        "version": ["version"],
        "run --rm --network none IMAGE true": ["run", "--rm", "--network", "none", image, "true"],
    }
    rows = []
    for title, args in commands.items():
        times: dict[str, list[float]] = {"porter": [], "docker": []}
        for _ in range(reps):
            times["porter"].append(timed(porter + args, env))
            times["docker"].append(timed(docker + args, env))
        rows.append((title, statistics.median(times["porter"]), statistics.median(times["docker"])))
    return rows


def bench_daemon(kind: str, workdir: Path, layout: Path, reps: int, porter: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PORTER_"))}
    env["DOCKER_CONFIG"] = str(workdir / "docker-config")
    env["PORTER_CONFIG"] = str(workdir / "porter-config")
    namespace = cli_daemons.Namespace.create()
    try:
        with cli_daemons.registry(namespace, workdir, layout) as registry:
            daemon = (
                cli_daemons.dockerd(namespace, workdir, [])
                if kind == "dockerd"
                else cli_daemons.porterd(namespace, workdir, registry, [])
            )
            with daemon as sock:
                host, image = f"unix://{sock}", f"{registry}/busybox:latest"
                subprocess.run(
                    [DOCKER, "-H", host, "pull", "-q", image],
                    check=True,
                    env=env,
                    capture_output=True,
                )
                for index in range(CONTAINERS):
                    run = ["run", "-d", "--network", "none", "--name", f"bench-{index}"]
                    argv = [DOCKER, "-H", host, *run, image, "sleep", "3600"]
                    subprocess.run(argv, check=True, env=env, capture_output=True)
                load_before = os.getloadavg()[0]
                rows = measure(porter, host, image, reps, env)
                load_after = os.getloadavg()[0]
                names = [f"bench-{i}" for i in range(CONTAINERS)]
                removal = subprocess.run(
                    [DOCKER, "-H", host, "rm", "-f", *names], env=env, capture_output=True
                )
                if removal.returncode != 0:  # what is left goes with porterd's leftovers
                    print(f"rm -f failed: {removal.stderr.decode().strip()}", file=sys.stderr)
    finally:
        namespace.close()
    load = f"load average {load_before:.2f} before, {load_after:.2f} after"
    print(f"\n{kind}: medians of {reps} runs ({load}); porter: {porter}")
    print(f"{'command':40} {'porter':>10} {'docker':>10} {'ratio':>7}")
    for title, porter_time, docker_time in rows:
        ratio = porter_time / docker_time
        print(f"{title:40} {porter_time * 1e3:8.1f}ms {docker_time * 1e3:8.1f}ms {ratio:7.2f}")


def installed_from_wheel(scratch: Path) -> Path:
    """The `porter` of Porter's wheel (built from the working tree) in a fresh venv."""
    sys.path.insert(0, str(REPO))
    import conftest  # the tests' wheel fixtures: build from a copy, install offline

    installed = conftest.install_wheel(conftest.build_wheel(scratch / "wheel"), scratch / "venv")
    return installed.command("porter")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--daemon", choices=["dockerd", "porterd", "both"], default="both")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--porter", type=Path, default=cli_daemons.PORTER, help="porter to time")
    which.add_argument("--wheel", action="store_true", help="time porter installed from a wheel")
    options = parser.parse_args()
    kinds = ["dockerd", "porterd"] if options.daemon == "both" else [options.daemon]
    with tempfile.TemporaryDirectory(prefix="porter-bench-cli-") as scratch:
        porter = installed_from_wheel(Path(scratch)) if options.wheel else options.porter
        layout = Path(scratch) / "layout"
        build_busybox(f"{layout}:busybox")
        for kind in kinds:
            reason = (
                cli_daemons.dockerd_unavailable()
                if kind == "dockerd"
                else cli_daemons.porterd_unavailable()
            )
            if reason:
                print(f"\n{kind}: skipped: {reason}")
                continue
            workdir = Path(scratch) / kind
            workdir.mkdir()
            bench_daemon(kind, workdir, layout, options.reps, porter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
