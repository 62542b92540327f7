"""What the cluster tests share: `porter` against a node of a real cluster (or a daemon's
URL), one that may fail, and waiting for a condition with a bound."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cluster_nodes import Node

PORTER = str(Path(sys.executable).parent / "porter")


def attempt(
    target: Node | str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`porter -H TARGET ARGS...`, which may fail; TARGET is a node or a daemon's URL."""
    if isinstance(target, Node):
        assert target.porterd is not None
        target = target.porterd.url
    command = [PORTER, "-H", target, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def porter(target: Node | str, *args: str) -> str:
    """`porter -H TARGET ARGS...`'s output; the test fails with its stderr if it fails."""
    result = attempt(target, *args)
    assert result.returncode == 0, f"porter {' '.join(args)}: {result.stderr}"
    return result.stdout


def until(check: Callable[[], Any], timeout: float, what: str, pause: float = 0.2) -> float:
    """Seconds until `check()` held, asked every `pause` seconds; fails after `timeout`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what} did not happen in {timeout}s"
        time.sleep(pause)
    return time.monotonic() - start
