"""A git repository a test makes itself, served on 127.0.0.1 by `git daemon` (git://) and by
a plain HTTP server (git's dumb HTTP protocol, after `git update-server-info`)."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from http_test_server import QuietServer, running

NEEDS_GIT = pytest.mark.skipif(
    not shutil.which("git") or not Path("/usr/lib/git-core/git-daemon").exists(),
    reason="git and git daemon are not installed",
)
_IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]


class Repository:
    """A work tree whose commits are pushed to `served/repo.git`, a bare repository."""

    def __init__(self, folder: Path) -> None:
        self.work = folder / "work"
        self.served = folder / "served"
        self.bare = self.served / "repo.git"
        self.served.mkdir(parents=True)
        self.git("init", "-q", "-b", "main", str(self.work), cwd=folder)
        self.git("init", "-q", "-b", "main", "--bare", str(self.bare), cwd=folder)
        self.git("remote", "add", "origin", str(self.bare))

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *_IDENTITY, *args],
            cwd=cwd or self.work,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def commit(self, files: dict[str, str], modes: dict[str, int] | None = None) -> str:
        """Write `files` into the work tree, commit and publish them; the new commit."""
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            path.chmod((modes or {}).get(name, 0o644))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "change")
        self.publish()
        return self.git("rev-parse", "HEAD")

    def publish(self, *refs: str) -> None:
        self.git("push", "-q", "--force", "origin", "main", *refs)
        self.git("update-server-info", cwd=self.bare)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def git_daemon(root: Path) -> Iterator[str]:
    """`git daemon` exporting the repositories under `root`; yields its git:// base URL."""
    port = free_port()
    listen = ["--listen=127.0.0.1", f"--port={port}", f"--base-path={root}"]
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", *listen, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("git daemon did not start") from None
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def dumb_http(root: Path) -> Iterator[str]:
    """A plain HTTP server of the files under `root`; yields its http:// base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    with running(QuietServer(("127.0.0.1", 0), handler)) as url:
        yield url
