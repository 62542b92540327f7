"""porter-image build against Debian's `buildah bud --layers` on the same Dockerfiles: a cold
3-step build (FROM, RUN, COPY, CMD), a fully cached rebuild, a rebuild after one COPY source
changed, a cold 20-step build, and the peak memory of building over a ~1 GB context.

    .venv/bin/python bench/build/run.py [--reps 3] [--context-mb 1024]

Both start from the same busybox image (an OCI layout made by scripts/make-busybox-image.sh;
buildah reads it as `oci:LAYOUT:TAG`) and keep their own storage in a fresh folder (buildah's
with the overlay driver). Every build runs as a child process; times are medians of --reps
runs, peak RSS comes from wait4(). Ratios are porter-image / buildah: below 1 is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "porterd" / "tests"))

from porterd_process import remove_leftovers  # noqa: E402

PORTER_IMAGE = REPO / ".venv" / "bin" / "porter-image"
THREE_STEPS = 'ARG BASE=busybox\nFROM $BASE\nRUN echo built > /built\nCOPY src/ /app/\nCMD ["sh"]\n'
BIG = "ARG BASE=busybox\nFROM $BASE\nCOPY big/ /big/\n"


def twenty_steps() -> str:
    lines = ["ARG BASE=busybox", "FROM $BASE"]
    for i in range(20):
        kind = ("RUN echo {i} > /step{i}", "COPY src/file{i} /files/", "ENV STEP{i}={i}")[i % 3]
        lines.append(kind.format(i=i))
    return "\n".join(lines) + "\n"


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process; it must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, usage.ru_maxrss


class Tools:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / "base"
        self.runs = 0

    def fresh(self) -> tuple[Path, Path]:
        """A new porter layout (holding only the base) and a new buildah storage folder."""
        self.runs += 1
        layout = self.root / f"layout{self.runs}"
        shutil.copytree(self.base, layout)
        return layout, self.root / f"storage{self.runs}"

    def porter(self, layout: Path, context: Path, dockerfile: Path) -> list[str]:
        return [
            str(PORTER_IMAGE),
            "build",
            "-q",
            "-f",
            str(dockerfile),
            "-t",
            f"{layout}:out",
            str(context),
        ]

    def buildah(self, storage: Path, context: Path, dockerfile: Path) -> list[str]:
        return [
            "buildah", "--root", str(storage / "root"), "--runroot", str(storage / "run"),
            "--storage-driver", "overlay", "bud", "--layers", "--runtime", "runc", "-q",
            "-f", str(dockerfile),
            "--build-arg", f"BASE=oci:{self.base}:busybox", "-t", "localhost/bench", str(context),
        ]  # fmt: skip


def scenario(
    tools: Tools, context: Path, dockerfile: Path, reps: int
) -> dict[str, dict[str, float]]:
    """Cold, fully cached and one-source-changed times of one Dockerfile, for both tools."""
    results: dict[str, dict[str, list[float]]] = {}
    for _ in range(reps):
        layout, storage = tools.fresh()
        for name, command in (
            ("porter", tools.porter(layout, context, dockerfile)),
            ("buildah", tools.buildah(storage, context, dockerfile)),
        ):
            cold = timed(command)[0]
            cached = timed(command)[0]
            (context / "src" / "file0").write_text(f"changed {time.time_ns()}\n")
            changed = timed(command)[0]
            for key, value in (("cold", cold), ("cached", cached), ("changed", changed)):
                results.setdefault(key, {}).setdefault(name, []).append(value)
    return {k: {n: statistics.median(v) for n, v in by.items()} for k, by in results.items()}


def make_context(folder: Path, big_mb: int) -> Path:
    (folder / "src").mkdir(parents=True)
    for i in range(20):
        (folder / "src" / f"file{i}").write_text(f"file {i}\n")
    big = folder / "big"
    big.mkdir()
    chunk = os.urandom(1 << 20)
    for i in range(big_mb // 4):
        with open(big / f"blob{i:04}", "wb") as out:
            for _ in range(4):
                out.write(chunk)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--context-mb", type=int, default=1024)
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("buildah"):
        sys.exit("needs root (overlay mounts) and buildah (apt-get install buildah)")
    # buildah takes the base as a reference: lowercase letters and digits only
    root = Path("/var/tmp") / f"porter-bench-build-{uuid.uuid4().hex[:12]}"
    root.mkdir()
    try:
        subprocess.run(
            ["bash", str(REPO / "scripts" / "make-busybox-image.sh"), f"{root / 'base'}:busybox"],
            check=True,
            capture_output=True,
            env={**os.environ, "PATH": f"{PORTER_IMAGE.parent}:{os.environ['PATH']}"},
        )
        context = make_context(root / "context", args.context_mb)
        tools = Tools(root)
        (root / "three.Dockerfile").write_text(THREE_STEPS)
        (root / "twenty.Dockerfile").write_text(twenty_steps())
        (root / "big.Dockerfile").write_text(BIG)
        three = scenario(tools, context, root / "three.Dockerfile", args.reps)
        twenty = scenario(tools, context, root / "twenty.Dockerfile", args.reps)
        layout, storage = tools.fresh()
        big_porter = timed(tools.porter(layout, context, root / "big.Dockerfile"))
        big_buildah = timed(tools.buildah(storage, context, root / "big.Dockerfile"))
        report = {
            "3-step cold": three["cold"],
            "3-step fully cached": three["cached"],
            "3-step one COPY source changed": three["changed"],
            "20-step cold": twenty["cold"],
            f"{args.context_mb} MB context, seconds": {
                "porter": big_porter[0],
                "buildah": big_buildah[0],
            },
            f"{args.context_mb} MB context, peak RSS MiB": {
                "porter": big_porter[1] / 1024,
                "buildah": big_buildah[1] / 1024,
            },
        }
        for name, values in report.items():
            ratio = values["porter"] / values["buildah"] if values["buildah"] else float("nan")
            print(
                f"{name:38} porter {values['porter']:9.3f}  buildah {values['buildah']:9.3f}"
                f"  ratio {ratio:5.2f}"
            )
        print(json.dumps(report))
    finally:
        remove_leftovers(root)  # buildah's overlay mounts under its storage folders
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
