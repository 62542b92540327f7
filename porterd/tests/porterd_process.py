"""A real porterd for integration tests, in a network namespace of the test's own.

`running_porterd(workdir)` starts `.venv/bin/porterd` with a data root, exec root and socket
under `workdir`, inside `unshare --net` (loopback up), waits until `/_ping` answers on the
socket, and on exit stops it with SIGTERM (SIGKILL after a grace period), kills whatever
is left in its session and removes what its containers left (`remove_leftovers`). The
socket is a path, so clients on the host reach it; TCP clients run inside the namespace
through `PorterdProcess.in_namespace`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PORTERD = Path(sys.executable).parent / "porterd"
READY_SECONDS = 60.0


def unavailable() -> str | None:
    """Why this host cannot run porterd in a namespace, or None."""
    if os.geteuid() != 0:
        return "porterd in a network namespace needs root"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(2)
            client.connect(str(sock))
            client.sendall(b"GET /_ping HTTP/1.1\r\nHost: porterd\r\nConnection: close\r\n\r\n")
            return client.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@dataclass
class PorterdProcess:
    workdir: Path
    process: subprocess.Popen[bytes]
    extra: list[str] = field(default_factory=list)

    @property
    def sock(self) -> Path:
        return self.workdir / "porterd.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    @property
    def log(self) -> Path:
        return self.workdir / "porterd.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def in_namespace(self, argv: list[str]) -> list[str]:
        """`argv` run in porterd's network namespace."""
        return ["nsenter", f"--net=/proc/{self.process.pid}/ns/net", "--", *argv]

    def wait_until_serving(self) -> None:
        """Return once porterd answers on its socket; raise with its log if it ended or
        READY_SECONDS passed first."""
        deadline = time.monotonic() + READY_SECONDS
        while not ping(self.sock):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"porterd did not start:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self, grace: float = 30) -> int:
        """SIGTERM, then SIGKILL if it does not end; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def remove_leftovers(workdir: Path) -> list[str]:
    """Whatever a porterd (or buildah) under `workdir` left on the host, removed: its conmon
    processes (found by their command line, and from the pid files under the exec root, as
    are the containers: conmon outlives porterd by design, and a --network none container
    outlives porterd's namespace) killed, the runtimes' states deleted with --force, the
    containers' cgroups (/sys/fs/cgroup[/*]/porter/ID) removed, and every mount under
    `workdir` unmounted, deepest first. Returns one line per thing that was left."""
    left = []
    needle = str(workdir).encode()
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"conmon") and any(needle in arg for arg in argv):
                os.kill(int(entry.name), signal.SIGKILL)
                left.append(f"conmon {entry.name}")
    containers = sorted((workdir / "exec" / "containers").glob("*"))
    for folder in containers:
        for pidfile in (folder / "conmon.pid", folder / "pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGKILL)
                left.append(f"process {pid} of {pidfile}")
    for root in sorted((workdir / "exec" / "runtimes").glob("*")):
        binary = shutil.which(root.name) or str(PORTERD.parent / root.name)
        for state in root.iterdir():
            left.append(f"{root.name} state {state.name}")
            subprocess.run(
                [binary, "--root", str(root), "delete", "--force", state.name],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
    for folder in containers:
        for hierarchy in (Path("/sys/fs/cgroup"), *Path("/sys/fs/cgroup").glob("*")):
            if (hierarchy / "porter" / folder.name).is_dir():
                left.append(f"cgroup {hierarchy / 'porter' / folder.name}")
                _remove_cgroup(hierarchy / "porter" / folder.name)
    for mountpoint in sorted(mounts_under(workdir), key=len, reverse=True):
        left.append(f"mount {mountpoint}")
        subprocess.run(["umount", "--lazy", mountpoint], capture_output=True, timeout=60)
    return left


def mounts_under(folder: Path) -> list[str]:
    """The mount points of this mount namespace below `folder`."""
    prefix = str(folder.resolve()).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4].encode().decode("unicode_escape") for line in mountinfo]
    return [point for point in points if point.startswith(prefix)]  # \040: a space


def _remove_cgroup(cgroup: Path) -> None:
    """rmdir a cgroup and its children, deepest first, once its killed processes are gone."""
    for _ in range(50):
        for dirpath, _dirs, _files in sorted(os.walk(cgroup), key=lambda w: -len(w[0])):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
        if not cgroup.exists():
            return
        time.sleep(0.1)


def porterd_argv(workdir: Path, *extra: str) -> list[str]:
    return [
        str(PORTERD),
        "--data-root", str(workdir / "data"),
        "--exec-root", str(workdir / "exec"),
        "--pidfile", str(workdir / "porterd.pid"),
        "-H", f"unix://{workdir / 'porterd.sock'}",
        *extra,
    ]  # fmt: skip


@contextlib.contextmanager
def running_porterd(workdir: Path, *extra: str) -> Iterator[PorterdProcess]:
    workdir.mkdir(parents=True, exist_ok=True)
    script = 'ip link set lo up && exec "$@"'
    with open(workdir / "porterd.log", "wb") as log:
        process = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", script, "sh", *porterd_argv(workdir, *extra)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    porterd = PorterdProcess(workdir, process, list(extra))
    try:
        porterd.wait_until_serving()
        yield porterd
    finally:
        porterd.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left in its session
        remove_leftovers(workdir)
