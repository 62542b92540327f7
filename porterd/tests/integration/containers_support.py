"""What the container tests share: a real porterd holding the busybox demo image (imported
from the rootfs that scripts/make-busybox-image.sh builds), docker-py clients, the docker CLI
on a pseudo-terminal, and a clean-up that leaves no container behind even on failure:
containers removed through the API, then any conmon and runtime container still under the
test's folders killed and deleted, and every mount below it detached."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from porterd_process import PorterdProcess, running_porterd
from porterd_process import remove_leftovers as clean_up

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
DOCKER_CLI = Path("/usr/bin/docker")
IMAGE = "busybox:latest"


def missing_host_feature() -> str | None:
    """Why this host cannot run containers under porterd, or None."""
    if os.geteuid() != 0:
        return "running containers needs root"
    for tool in ("unshare", "nsenter", "ip", "tar", "/usr/bin/conmon", "/bin/busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


needs_containers = pytest.mark.skipif(
    missing_host_feature() is not None, reason=str(missing_host_feature())
)
needs_docker_cli = pytest.mark.skipif(
    not DOCKER_CLI.exists(), reason="Debian's docker CLI (docker.io) is not installed"
)


def until(
    check: Callable[[], object],
    timeout: float = 20.0,
    what: str = "the condition",
    pause: float = 0.1,
) -> float:
    """Seconds until `check()` held, asked every `pause` seconds; fails after `timeout`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what} did not happen in {timeout}s"
        time.sleep(pause)
    return time.monotonic() - start


def busybox_rootfs_tar(folder: Path) -> Path:
    """The busybox demo image's rootfs as a tar (built and unpacked with porter-image)."""
    layout = folder / "layout"
    env = {**os.environ, "PORTER_IMAGE": str(VENV_BIN / "porter-image")}
    subprocess.run(
        ["bash", str(REPO / "scripts" / "make-busybox-image.sh"), f"{layout}:busybox"],
        check=True, env=env, capture_output=True, timeout=300,
    )  # fmt: skip
    bundle = folder / "bundle"
    subprocess.run(
        [str(VENV_BIN / "porter-image"), "unpack", f"{layout}:busybox", str(bundle)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    archive = folder / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(bundle / "rootfs", arcname=".")
    return archive


def client_for(porterd: PorterdProcess) -> docker.DockerClient:
    return docker.DockerClient(base_url=porterd.url, version="auto", timeout=60)


def import_image(porterd: PorterdProcess, archive: Path) -> None:
    client = client_for(porterd)
    try:
        client.api.import_image_from_data(archive.read_bytes(), repository="busybox", tag="latest")
    finally:
        client.close()


@contextlib.contextmanager
def porterd_with_busybox(workdir: Path, archive: Path) -> Iterator[PorterdProcess]:
    try:
        with running_porterd(workdir) as porterd:
            import_image(porterd, archive)
            try:
                yield porterd
            finally:
                remove_all_containers(porterd)
    finally:
        clean_up(workdir)


@contextlib.contextmanager
def busybox_client(workdir: Path, archive: Path) -> Iterator[docker.DockerClient]:
    """docker-py on a porterd of its own (in `workdir`) holding the busybox demo image."""
    with porterd_with_busybox(workdir, archive) as porterd:
        client = client_for(porterd)
        try:
            yield client
        finally:
            client.close()


def remove_all_containers(porterd: PorterdProcess) -> None:
    if porterd.process.poll() is not None:
        return
    client = client_for(porterd)
    try:
        for container in client.containers.list(all=True):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
    finally:
        client.close()


def docker_cli(porterd: PorterdProcess, *args: str, input: str | None = None, timeout: float = 60):
    return subprocess.run(
        [str(DOCKER_CLI), "-H", porterd.url, *args],
        capture_output=True, text=True, input=input, check=False, timeout=timeout,
    )  # fmt: skip


class Terminal:
    """A command on a pseudo-terminal: what it printed, what to type, its exit status."""

    def __init__(self, argv: list[str], rows: int = 24, columns: int = 80) -> None:
        pid, self.fd = pty.fork()
        if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            import fcntl
            import struct
            import termios

            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
            os.execv(argv[0], argv)
        self.pid = pid
        self.output = b""

    def read_until(self, wanted: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while wanted not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def type(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_until(b"\0never", timeout=0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise TimeoutError(f"the command on the terminal did not end: {self.output!r}")
