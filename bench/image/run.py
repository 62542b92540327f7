"""porter-image against GNU tar and umoci: import and unpack of one ~300 MB layer, and the
peak memory of import and unpack of a ~1 GB layer. Ratios come from one run of this script.

    .venv/bin/python bench/image/run.py [--size-mb 300] [--big-mb 1024] [--reps 3]

The trees are copies of parts of this machine's /usr. Every command runs as a child process;
times are medians of --reps runs with a `sync` before each, peak RSS comes from wait4().
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PORTER_IMAGE = REPO / ".venv" / "bin" / "porter-image"
PYTHON = REPO / ".venv" / "bin" / "python"
# Parts of /usr, in the order they are taken until a tree reaches its size.
CANDIDATES = [
    "lib/gcc", "lib/python3.11", "lib/python3", "lib/postgresql", "lib/git-core",
    "lib/node_modules", "share/perl", "share/doc", "lib/x86_64-linux-gnu", "bin", "lib/jvm",
    "share/locale", "lib/llvm-14", "share", "lib",
]  # fmt: skip
APPLY = (
    "import sys; from pathlib import Path; from porter_image.layer import apply_layer;"
    "apply_layer(open(sys.argv[1], 'rb'), sys.argv[2], Path(sys.argv[3]))"
)


def du_mb(path: Path) -> int:
    out = subprocess.run(["du", "-sm", path], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def make_tree(dest: Path, size_mb: int) -> int:
    """Copy parts of /usr into dest until it holds about size_mb; returns its real size."""
    dest.mkdir(parents=True)
    taken: list[str] = []
    total = 0
    for part in CANDIDATES:
        if total >= size_mb or not (Path("/usr") / part).is_dir():
            continue
        if any(part.startswith(t + "/") or t.startswith(part + "/") for t in taken):
            continue
        total += du_mb(Path("/usr") / part)
        taken.append(part)
    tar = subprocess.Popen(["tar", "-C", "/usr", "-cf", "-", *taken], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-xf", "-", "-C", dest], stdin=tar.stdout, check=True)
    tar.wait()
    return du_mb(dest)


def run(cmd: list[str] | str, shell: bool = False) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one child process (a shell counts as its biggest)."""
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"benchmark command failed: {cmd}: {proc.stderr.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss


def race(commands: dict[str, tuple], reps: int) -> dict[str, float]:
    """Median seconds of each command; the commands take turns within each repetition, so a
    busy spell on the machine falls on all of them alike. A command is (argv or shell line,
    shell?, callable run untimed before it)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(reps):
        for name, (cmd, shell, before) in commands.items():
            if before:
                before()
            times[name].append(run(cmd, shell)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def fresh(path: Path, create: bool = False):
    """Clear `path` before a run by moving it aside, not deleting it: on ext4 without a
    journal (this machine's) the inode allocator skips inodes deleted in the last 30 s one
    by one (`recently_deleted`), so a tree created right after an `rm -rf` pays seconds of
    kernel time that depend on what was deleted before, not on the tool being measured.
    The moved trees are removed after all timings (`bury`)."""

    def clear() -> None:
        if path.exists():
            graveyard = path.parent / "graveyard"
            graveyard.mkdir(exist_ok=True)
            path.rename(graveyard / f"{path.name}-{len(os.listdir(graveyard))}")
        if create:
            path.mkdir()

    return clear


def bury(work: Path) -> None:
    shutil.rmtree(work / "graveyard", ignore_errors=True)


def layer_of(layout: Path, tag: str) -> tuple[Path, str]:
    index = json.loads((layout / "index.json").read_text())
    ref = "org.opencontainers.image.ref.name"
    desc = next(m for m in index["manifests"] if m.get("annotations", {}).get(ref) == tag)
    manifest = json.loads((layout / "blobs" / desc["digest"].replace(":", "/")).read_text())
    layer = manifest["layers"][0]
    return layout / "blobs" / layer["digest"].replace(":", "/"), layer["mediaType"]


def bench_import(work: Path, src: Path, reps: int) -> list[tuple[str, float, str, float]]:
    layout = work / "layout"
    rows = []
    for comp, tool in (("gzip", "gzip -6"), ("zstd", "zstd -3 -q")):
        ours = [PORTER_IMAGE, "import", "--compression", comp, src, f"{layout}:{comp}"]
        peer = f"tar -C {src} -cf - . | {tool} > {work}/peer.tar.{comp}"
        result = race({"ours": (ours, False, fresh(layout)), "peer": (peer, True, None)}, reps)
        rows.append(
            (f"import ({comp})", result["ours"], f"tar -c | {tool.split()[0]}", result["peer"])
        )
    run([PORTER_IMAGE, "import", "--compression", "gzip", src, f"{layout}:gzip"])
    run([PORTER_IMAGE, "import", "--compression", "none", src, f"{layout}:plain"])
    return rows


def bench_unpack(work: Path, reps: int) -> list[tuple[str, float, str, float]]:
    layout = work / "layout"
    blob, media_type = layer_of(layout, "gzip")
    plain, plain_type = layer_of(layout, "plain")
    dest = work / "dest"
    t = race(
        {
            "tar -xzf": (["tar", "-xzf", blob, "-C", dest], False, fresh(dest, True)),
            "porter-image unpack": (
                [PORTER_IMAGE, "unpack", f"{layout}:gzip", dest],
                False,
                fresh(dest),
            ),
            "umoci unpack": (
                ["umoci", "unpack", "--image", f"{layout}:gzip", dest],
                False,
                fresh(dest),
            ),
            "apply gzip": ([PYTHON, "-c", APPLY, blob, media_type, dest], False, fresh(dest)),
            "tar -xf": (["tar", "-xf", plain, "-C", dest], False, fresh(dest, True)),
            "apply plain": ([PYTHON, "-c", APPLY, plain, plain_type, dest], False, fresh(dest)),
            "unpack plain": (
                [PORTER_IMAGE, "unpack", f"{layout}:plain", dest],
                False,
                fresh(dest),
            ),
            "umoci plain": (
                ["umoci", "unpack", "--image", f"{layout}:plain", dest],
                False,
                fresh(dest),
            ),
        },
        reps,
    )
    fresh(dest)()
    bury(work)
    return [
        ("unpack gzip (porter-image unpack)", t["porter-image unpack"], "tar -xzf", t["tar -xzf"]),
        ("unpack gzip (umoci unpack)", t["umoci unpack"], "tar -xzf", t["tar -xzf"]),
        ("apply_layer, gzip", t["apply gzip"], "tar -xzf", t["tar -xzf"]),
        ("unpack tar (porter-image unpack)", t["unpack plain"], "tar -xf", t["tar -xf"]),
        ("unpack tar (umoci unpack)", t["umoci plain"], "tar -xf", t["tar -xf"]),
        ("apply_layer, uncompressed", t["apply plain"], "tar -xf", t["tar -xf"]),
    ]


def bench_memory(work: Path, big_mb: int) -> list[tuple[str, float, int]]:
    src = work / "big"
    size = make_tree(src, big_mb)
    layout = work / "big-layout"
    rows = []
    seconds, rss = run([PORTER_IMAGE, "import", "--compression", "gzip", src, f"{layout}:big"])
    rows.append((f"import of a {size} MB tree (gzip)", seconds, rss))
    shutil.rmtree(src)
    dest = work / "big-dest"
    seconds, rss = run([PORTER_IMAGE, "unpack", f"{layout}:big", dest])
    rows.append((f"unpack of that {size} MB layer", seconds, rss))
    shutil.rmtree(dest)
    seconds, rss = run(["umoci", "unpack", "--image", f"{layout}:big", dest])
    rows.append(("umoci unpack of it (for reference)", seconds, rss))
    shutil.rmtree(dest)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300, help="size of the unpack/import tree")
    parser.add_argument(
        "--big-mb", type=int, default=1024, help="size of the memory tree (0: skip)"
    )
    parser.add_argument("--reps", type=int, default=3, help="runs per command (median is kept)")
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: /var/tmp)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="porter-bench-image-", dir=args.work or "/var/tmp"))
    try:
        size = make_tree(work / "src", args.size_mb)
        print(
            f"tree: {size} MB copied from /usr; median of {args.reps} runs; ratio = porter / peer"
        )
        before = os.getloadavg()[0]
        rows = bench_import(work, work / "src", args.reps) + bench_unpack(work, args.reps)
        after = os.getloadavg()[0]
        print(f"load average (1 min) {before:.2f} before, {after:.2f} after, {os.cpu_count()} CPUs")
        print(f"\n{'benchmark':36} {'porter s':>9}  {'peer':16} {'peer s':>8} {'ratio':>6}")
        for name, ours, peer_name, peer in rows:
            print(f"{name:36} {ours:9.2f}  {peer_name:16} {peer:8.2f} {ours / peer:6.2f}")
        shutil.rmtree(work / "src")
        if args.big_mb:
            print(f"\n{'peak memory':44} {'seconds':>8} {'max RSS MB':>11}")
            for name, seconds, rss in bench_memory(work, args.big_mb):
                print(f"{name:44} {seconds:8.2f} {rss / 1024:11.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
