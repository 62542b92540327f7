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
DOCKER = "/usr/bin/docker"  # Debian's docker CLI


def url_of(target: Node | str) -> str:
    """The daemon URL of a node, or the URL itself."""
    if isinstance(target, Node):
        assert target.porterd is not None
        return target.porterd.url
    return target


def attempt(
    target: Node | str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`porter -H TARGET ARGS...`, which may fail; TARGET is a node or a daemon's URL."""
    command = [PORTER, "-H", url_of(target), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def porter(target: Node | str, *args: str) -> str:
    """`porter -H TARGET ARGS...`'s output; the test fails with its stderr if it fails."""
    result = attempt(target, *args)
    assert result.returncode == 0, f"porter {' '.join(args)}: {result.stderr}"
    return result.stdout


until = functools.partial(until, pause=0.2)  # a check here is a porter call or more


def docker(target: Node | str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The docker CLI's `docker -H TARGET ARGS...`, with no configuration of the user's."""
    return subprocess.run(
        [DOCKER, "-H", url_of(target), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"HOME": "/nonexistent", "DOCKER_CONFIG": "/nonexistent", "PATH": "/usr/bin:/bin"},
        check=False,
    )
