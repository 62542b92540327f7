"""Registries the suite starts by itself when no OCI_ROOT_URL is given.

Each runs on a free loopback port with its data in a temporary folder, and is stopped (and the
folder removed by the caller's tmp dir) whatever happens to the tests.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
_PORT_ATTEMPTS = 3


class TargetUnavailable(Exception):
    """The registry cannot run here for a known reason; its checks are skipped, not failed."""


class TargetStartError(RuntimeError):
    """The registry was expected to run but did not answer /v2/."""


@dataclass(frozen=True)
class Target:
    """A registry under test: where it answers and what optional behaviour to expect of it.

    automatic_crossmount: whether a mount request without `from` of a blob the registry already
    holds is answered 201 (True), 202 (False), or either (None: unknown, the spec allows both).
    """

    name: str
    root_url: str
    automatic_crossmount: bool | None


@dataclass(frozen=True)
class Launcher:
    """How to start one kind of registry, with deletes enabled or disabled."""

    name: str
    start: Callable[[Path, bool], contextlib.AbstractContextManager[str]]
    automatic_crossmount: bool | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def porter_registry_binary() -> Path:
    """porter-registry is installed next to the interpreter running the suite."""
    return Path(sys.executable).parent / "porter-registry"


@contextlib.contextmanager
def porter_registry(workdir: Path, delete_enabled: bool = True) -> Iterator[str]:
    binary = porter_registry_binary()
    extra = [] if delete_enabled else [_porter_no_delete_option(binary)]

    def command(port: int) -> list[str]:
        data = workdir / "data"
        return [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data), *extra]

    with _running("porter-registry", command, workdir) as url:
        yield url


def _porter_no_delete_option(binary: Path) -> str:
    shown = subprocess.run(
        [str(binary), "serve", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    if "not built yet" in shown.stdout + shown.stderr:
        raise TargetUnavailable("porter-registry not built")
    if "--no-delete" not in shown.stdout:
        raise TargetUnavailable("porter-registry serve --help lists no --no-delete option")
    return "--no-delete"


@contextlib.contextmanager
def docker_registry(workdir: Path, delete_enabled: bool = True) -> Iterator[str]:
    """CNCF distribution as Debian ships it, with a config of our own (no auth, no cache)."""

    def command(port: int) -> list[str]:
        config = workdir / "config.yml"
        config.write_text(_distribution_config(workdir / "data", port, delete_enabled))
        return ["/usr/bin/docker-registry", "serve", str(config)]

    with _running("docker-registry", command, workdir) as url:
        yield url


def _distribution_config(data: Path, port: int, delete_enabled: bool) -> str:
    return f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: {str(delete_enabled).lower()}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: {secrets.token_hex(16)}
health:
  storagedriver:
    enabled: false
"""


LAUNCHERS = {
    "porter-registry": Launcher("porter-registry", porter_registry, automatic_crossmount=True),
    "docker-registry": Launcher("docker-registry", docker_registry, automatic_crossmount=False),
}


@contextlib.contextmanager
def _running(name: str, command: Callable[[int], list[str]], workdir: Path) -> Iterator[str]:
    """Start the registry on a free port (retrying if the port was taken), yield its URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(_PORT_ATTEMPTS):
        port = free_port()
        log_path = workdir / f"{name}-{attempt}.log"
        with log_path.open("wb") as log:
            try:
                process = subprocess.Popen(
                    command(port), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise TargetStartError(f"{name}: cannot run {exc.filename}") from exc
        try:
            url = f"http://127.0.0.1:{port}"
            if _wait_until_ready(url, process):
                yield url
                return
            output = log_path.read_text(errors="replace")
            if "not built yet" in output:
                raise TargetUnavailable(f"{name} not built")
            if "address already in use" not in output.lower():
                raise TargetStartError(
                    f"{name} did not answer {url}/v2/; output:\n{output[-2000:]}"
                )
        finally:
            _stop(process)
    raise TargetStartError(f"{name}: no free port after {_PORT_ATTEMPTS} attempts")


def _wait_until_ready(url: str, process: subprocess.Popen) -> bool:
    """Poll /v2/ until it answers 200 or 401, the process dies, or the timeout passes."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/v2/", timeout=2).status_code in (200, 401):
                return True
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
