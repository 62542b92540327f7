"""porter-runtime against runc and crun: lifecycle times and the memory of a created container.

    .venv/bin/python bench/runtime/run.py [--rounds 30] [--json] [--porter-runtime PATH]

Builds a busybox-static bundle running `true` in a temporary directory, then for each
runtime, in one run on this machine:
  run      `run <id>`: create + start + wait + delete in one command (the headline number)
  create   `create <id>` alone;  start  `start <id>`;  delete  `delete <id>` of the stopped one
  c+s+d    create + start + delete of the same round, the sequence conmon and podman drive
           (the median of the rounds' sums, not the sum of the three medians)
  cpu      the CPU time (user + system) of that sequence's three commands, with the children
           each waited for: less swayed than wall time by other work on the machine, and the
           cost of a Python runtime's interpreter start, which it pays three times; the
           container's init, which outlives create, is counted by neither runtime
  rss      VmRSS of the container's init while created (waiting to be started)
Rounds alternate between the runtimes, so a change in the machine's load weighs on all alike.
Times are medians over --rounds after two warm-up rounds; ratios are porter-runtime / peer
(below 1.0: porter-runtime is faster). A runtime that cannot run here (crun refuses this
host's hybrid cgroups) is reported with its error, and retried with cgroups disabled.
--porter-runtime times another porter-runtime command (a wheel installed into some venv, say)
instead of this venv's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PORTER = os.path.join(os.path.dirname(sys.executable), "porter-runtime")
SETTLE = 0.05  # seconds of quiet before each timed command


def make_bundle(base: str) -> str:
    bundle = os.path.join(base, "bundle")
    rootfs = os.path.join(bundle, "rootfs", "bin")
    os.makedirs(rootfs)
    shutil.copy2(shutil.which("busybox") or "/bin/busybox", os.path.join(rootfs, "busybox"))
    for applet in ("sh", "true", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, applet))
    subprocess.run(["runc", "spec", "--bundle", bundle], check=True)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    with open(path, "w") as f:
        json.dump(config, f)
    return bundle


def timed(argv: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (the command's and its waited-for children's) and result."""
    # stderr to a file: a created container keeps the runtime's stdio open, so a pipe
    # would not reach end-of-file
    with tempfile.TemporaryFile() as err:
        # let the kernel finish tearing down the previous container (its network namespace
        # is freed asynchronously), so that this command is not timed against that work
        time.sleep(SETTLE)
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        # a blocking wait, bounded by an alarm: Popen.wait(timeout=...) polls with sleeps
        # that double up to 50 ms, which would round every time up to 3.5, 7.5, ... 63.5 ms
        signal.signal(signal.SIGALRM, lambda *_: proc.kill())
        signal.alarm(60)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            signal.alarm(0)
        elapsed = time.perf_counter() - start
        proc.returncode = returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, subprocess.CompletedProcess(argv, returncode, None, stderr)


def wait_stopped(base: list[str], cid: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run([*base, "state", cid], capture_output=True, text=True)
        if '"stopped"' in out.stdout:
            return
        time.sleep(0.005)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_round(base: list[str], bundle: str) -> dict:
    """Seconds of run, create, start and delete, and the created init's RSS in KiB."""
    cid = f"bench-{uuid.uuid4().hex[:8]}"
    elapsed, _, result = timed([*base, "run", "--bundle", bundle, cid])
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {result.returncode}"}
    cid = f"bench-{uuid.uuid4().hex[:8]}"
    pid_file = os.path.join(os.path.dirname(bundle), f"{cid}.pid")
    created, create_cpu, result = timed(
        [*base, "create", "--bundle", bundle, "--pid-file", pid_file, cid]
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip()}
    with open(pid_file) as f:
        kib = rss_kib(int(f.read()))
    started, start_cpu, result = timed([*base, "start", cid])
    if result.returncode != 0:
        subprocess.run([*base, "delete", "--force", cid], capture_output=True)
        return {"error": f"start: {result.stderr.strip()}"}
    wait_stopped(base, cid)
    deleted, delete_cpu, result = timed([*base, "delete", cid])
    if result.returncode != 0:
        subprocess.run([*base, "delete", "--force", cid], capture_output=True)
        return {"error": f"delete: {result.stderr.strip()}"}
    return {
        "run": elapsed,
        "create": created,
        "start": started,
        "delete": deleted,
        "sequence": created + started + deleted,
        "sequence_cpu": create_cpu + start_cpu + delete_cpu,
        "rss_kib": kib,
    }


def measure(peers: dict[str, list[str]], bundle: str, rounds: int) -> dict[str, dict]:
    """Medians per runtime. Rounds alternate between the runtimes, so that a change in the
    machine's load (other work runs here too) weighs on every runtime alike."""
    samples: dict[str, dict[str, list]] = {name: {} for name in peers}
    failed: dict[str, dict] = {}
    for index in range(rounds + 2):
        for name, base in peers.items():
            if name in failed:
                continue
            sample = one_round(base, bundle)
            if "error" in sample:
                failed[name] = sample
            elif index >= 2:  # warm-up rounds fill the page cache (and porter's schema cache)
                for key, value in sample.items():
                    samples[name].setdefault(key, []).append(value)
    results: dict[str, dict] = {}
    for name in peers:
        if name in failed:
            results[name] = failed[name]
            continue
        results[name] = {k: statistics.median(v) for k, v in samples[name].items()}
        results[name]["rss_kib"] = int(results[name]["rss_kib"])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--porter-runtime", default=PORTER, metavar="PATH", help="the porter-runtime to time"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/runtime: run as root (containers need namespaces)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            os.path.join(HERE, "..", "..", "porter-runtime", "src"),
            os.path.join(HERE, "..", "..", "specs", "src"),
        ],
        stdout=subprocess.DEVNULL,
    )
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="porter-bench-") as base:
        bundle = make_bundle(base)
        peers = {
            "porter-runtime": [args.porter_runtime, "--root", os.path.join(base, "porter")],
            "runc": ["runc", "--root", os.path.join(base, "runc")],
            "crun": ["crun", "--root", os.path.join(base, "crun")],
        }
        for name, base_argv in list(peers.items()):
            if shutil.which(base_argv[0]) is None:
                results[name] = {"error": "not installed"}
                del peers[name]
        if "crun" in peers and "error" in one_round(peers["crun"], bundle):
            peers["crun (cgroups disabled)"] = [
                "crun",
                "--cgroup-manager=disabled",
                "--root",
                os.path.join(base, "crun-nocg"),
            ]
        results.update(measure(peers, bundle, args.rounds))
    ratios = {}
    ours = results["porter-runtime"]
    for peer, data in results.items():
        if peer == "porter-runtime" or "error" in data or "error" in ours:
            continue
        ratios[peer] = {k: round(ours[k] / data[k], 2) for k in data if data[k]}
    load = f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs"
    if args.json:
        print(json.dumps({"results": results, "ratios": ratios, "load": load}, indent=2))
        return 0
    print(f"{args.rounds} rounds after 2 warm-up rounds; {load}")
    print(
        f"{'runtime':<26}{'run ms':>9}{'create ms':>11}{'start ms':>10}{'delete ms':>11}"
        f"{'c+s+d ms':>10}{'cpu ms':>8}{'init RSS KiB':>14}"
    )
    for name, data in results.items():
        if "error" in data:
            print(f"{name:<26}error: {data['error']}")
            continue
        print(
            f"{name:<26}{data['run'] * 1000:>9.1f}{data['create'] * 1000:>11.1f}"
            f"{data['start'] * 1000:>10.1f}{data['delete'] * 1000:>11.1f}"
            f"{data['sequence'] * 1000:>10.1f}{data['sequence_cpu'] * 1000:>8.1f}"
            f"{data['rss_kib']:>14}"
        )
    for peer, ratio in ratios.items():
        print(f"porter-runtime / {peer}: " + ", ".join(f"{k} {v}" for k, v in ratio.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
