"""Network namespaces for the networking tests: made by the test, entered by the test's own
thread (so that bridges, veths and nftables rules are made there and never in the host's
namespace), and removed with everything in them afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000


def unavailable() -> str | None:
    """Why this host cannot run the networking tests, or None."""
    if os.geteuid() != 0:
        return "bridges and nftables rules in a network namespace need root"
    for tool in ("unshare", "nsenter", "ip", "nft", "busybox", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def make_netns(path: Path) -> Path:
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "ip", "link", "set", "lo", "up"], check=True)
    return path


def remove_netns(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def entered(path: Path) -> Iterator[Path]:
    """The calling thread (and the threads and processes it starts) in the namespace."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(target)
        yield path
    finally:
        _setns(home)
        os.close(home)
        os.close(target)


def run_in(netns: Path, *argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={netns}", "--", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def nft_ruleset(netns: Path) -> str:
    return run_in(netns, "nft", "list", "ruleset").stdout


def links_in(netns: Path) -> set[str]:
    output = run_in(netns, "ip", "-o", "link", "show").stdout
    return {line.split(":")[1].strip().split("@")[0] for line in output.splitlines()}
