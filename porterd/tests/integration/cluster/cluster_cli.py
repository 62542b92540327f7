"""What the cluster tests on real porterd share: `porter` against a node, and waiting for a
condition with a bound."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cluster_nodes import Node

PORTER = str(Path(sys.executable).parent / "porter")


def porter(node: Node, *args: str) -> str:
    """`porter -H NODE ARGS...`'s output; the test fails with its stderr if it fails."""
    assert node.porterd is not None
    result = subprocess.run(
        [PORTER, "-H", node.porterd.url, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"porter {' '.join(args)}: {result.stderr}"
    return result.stdout


def until(check: Callable[[], Any], timeout: float, what: str, pause: float = 0.3) -> Any:
    """`check()`'s first true value, asked every `pause` seconds; fails after `timeout`."""
    start = time.monotonic()
    while not (found := check()):
        assert time.monotonic() - start < timeout, f"{what} did not happen in {timeout}s"
        time.sleep(pause)
    return found
