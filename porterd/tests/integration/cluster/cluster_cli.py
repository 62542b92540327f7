"""What the cluster tests share: `porter` against a node of a real cluster (or a daemon's
URL), one that may fail, and waiting for a condition with a bound."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from containers_support import until

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


until = functools.partial(until, pause=0.2)  # a check here is a porter call or more
