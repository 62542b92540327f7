"""Real daemons for porter's end-to-end tests, each in a network and mount namespace the test
made: a porter-registry on the namespace's 127.0.0.1 holding the busybox demo image, and
dockerd (Debian's docker.io, with the containerd it starts) or porterd serving on a unix
socket in a temporary folder. Everything is stopped and removed afterwards, even on failure:
the daemons, every process left in the namespace, the namespace's mounts (they die with it)
and the cgroups the containers used."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from porterd_process import ping, porterd_argv, remove_leftovers

REPO = Path(__file__).resolve().parents[4]
VENV_BIN = Path(sys.executable).parent
PORTER = VENV_BIN / "porter"
READY_TIMEOUT = 60.0


class Unavailable(Exception):
    """This host cannot run the daemon; the reason says why (tests skip with it)."""


@dataclass
class Namespace:
    """A process holding a new network and mount namespace; commands run in it by nsenter."""

    holder: subprocess.Popen[bytes]

    @classmethod
    def create(cls) -> Namespace:
        for tool in ("unshare", "nsenter", "ip"):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed")
        if os.geteuid() != 0:
            raise Unavailable("namespaces for a daemon need root")
        holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sleep", "infinity"],
            stdin=subprocess.DEVNULL,
        )
        namespace = cls(holder)
        deadline = time.monotonic() + 5
        while namespace.inode() == _inode("/proc/self/ns/net"):
            if holder.poll() is not None or time.monotonic() > deadline:
                namespace.close()
                raise Unavailable("unshare --net --mount failed here")
            time.sleep(0.01)
        namespace.run(["ip", "link", "set", "lo", "up"])
        return namespace

    def inode(self) -> int:
        try:
            return _inode(f"/proc/{self.holder.pid}/ns/net")
        except OSError:
            return -1

    def argv(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--target={self.holder.pid}", "--net", "--mount", "--", *argv]

    def run(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        kwargs.setdefault("check", True)
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("timeout", 120)
        return subprocess.run(self.argv(argv), **kwargs)  # type: ignore[call-overload]

    def popen(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            return subprocess.Popen(
                self.argv(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill_all(self) -> None:
        """Kill every process left in the namespace (shims, containers), holder last."""
        inode = self.inode()
        for _ in range(50):
            left = [pid for pid in _pids() if pid != self.holder.pid and _net_inode(pid) == inode]
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)

    def close(self) -> None:
        self.kill_all()
        self.holder.kill()
        self.holder.wait()


def _inode(path: str) -> int:
    return os.stat(path).st_ino


def _net_inode(pid: int) -> int | None:
    try:
        return _inode(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def free_port(namespace: Namespace) -> int:
    """A port to use on the namespace's loopback (nothing else listens there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {tail(log)}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready: {tail(log)}")


def tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def registry(namespace: Namespace, workdir: Path, layout: Path) -> Iterator[str]:
    """A porter-registry on the namespace's 127.0.0.1 holding busybox as REGISTRY/busybox:latest;
    yields REGISTRY (host:port)."""
    if shutil.which("skopeo") is None:
        raise Unavailable("skopeo is not installed (it copies the demo image into the registry)")
    port = free_port(namespace)
    log = workdir / "registry.log"
    process = namespace.popen(
        [
            str(VENV_BIN / "porter-registry"),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--data",
            str(workdir / "registry"),
        ],
        log,
    )
    try:
        wait_for(
            lambda: (
                namespace.run(
                    ["busybox", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/v2/"],
                    check=False,
                ).returncode
                == 0
            ),
            "porter-registry",
            process,
            log,
        )
        namespace.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci:{layout}:busybox",
                f"docker://127.0.0.1:{port}/busybox:latest",
            ]
        )
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


def dockerd_unavailable() -> str | None:
    for tool in ("dockerd", "containerd", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian's docker.io)"
    return None


@contextlib.contextmanager
def dockerd(namespace: Namespace, workdir: Path, listen: list[str]) -> Iterator[Path]:
    """dockerd with its own data root, exec root, socket, pidfile and containerd, no
    iptables and no bridge, and the `listen` flags (more -H, TLS); yields its socket."""
    reason = dockerd_unavailable()
    if reason:
        raise Unavailable(reason)
    cgroup_parent = f"porter-cli-test-{uuid.uuid4().hex[:8]}"
    sock = workdir / "docker.sock"
    log = workdir / "dockerd.log"
    process = namespace.popen(
        [
            "dockerd",
            "--data-root",
            str(workdir / "docker"),
            "--exec-root",
            str(workdir / "exec"),
            "-H",
            f"unix://{sock}",
            "--pidfile",
            str(workdir / "dockerd.pid"),
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--ip-forward=false",
            "--ip-masq=false",
            "--cgroup-parent",
            cgroup_parent,
            "--config-file",
            str(_empty_config(workdir)),
            *listen,
        ],
        log,
    )
    try:
        try:
            wait_for(lambda: ping(sock), "dockerd", process, log)
        except RuntimeError as error:
            raise Unavailable(f"dockerd cannot start on this host: {error}") from error
        yield sock
    finally:
        stop(process)
        namespace.kill_all()
        _remove_cgroups(cgroup_parent)


def _empty_config(workdir: Path) -> Path:
    path = workdir / "daemon.json"
    path.write_text("{}\n")
    return path


def _remove_cgroups(name: str) -> None:
    """rmdir the cgroup folders named `name` (deepest first) in every hierarchy."""
    root = Path("/sys/fs/cgroup")
    for top in [root, *root.iterdir()] if root.exists() else []:
        base = top / name
        if not base.is_dir():
            continue
        for dirpath, _dirs, _files in sorted(os.walk(base), key=lambda w: -len(w[0])):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)


@contextlib.contextmanager
def porterd(
    namespace: Namespace, workdir: Path, registry: str, listen: list[str]
) -> Iterator[Path]:
    """porterd with its own data root and exec root, the test registry allowed over plain
    HTTP, and the `listen` flags (more -H, TLS); yields its socket."""
    sock = workdir / "porterd.sock"
    log = workdir / "porterd.log"
    process = namespace.popen(porterd_argv(workdir, "--insecure-registry", registry, *listen), log)
    try:
        wait_for(lambda: ping(sock), "porterd", process, log)
        yield sock
    finally:
        stop(process)
        namespace.kill_all()
        remove_leftovers(workdir)  # containers of their own network namespace outlive it


def porterd_unavailable() -> str | None:
    """Why porterd cannot be tested yet (its server not built), or None."""
    result = subprocess.run([str(VENV_BIN / "porterd"), "--help"], capture_output=True, timeout=60)
    if result.returncode != 0 or b"--data-root" not in result.stdout:
        return "porterd's server is not built yet (porterd --help has no --data-root)"
    return None


DOCKER = "/usr/bin/docker"  # Debian's docker CLI


def make_certificates(workdir: Path, env: dict[str, str]) -> Path:
    """A CA with server and client certificates made by `porter tls init`."""
    certs = workdir / "certs"
    subprocess.run([str(PORTER), "tls", "init", "--dir", str(certs)], check=True, env=env,
                   capture_output=True, timeout=60)  # fmt: skip
    return certs


def tls_listener(certs: Path, port: int) -> list[str]:
    """The daemon flags (dockerd's and porterd's) of a TCP listener demanding mutual TLS."""
    return [
        "-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(certs / "ca.pem"),
        "--tlscert", str(certs / "server-cert.pem"), "--tlskey", str(certs / "server-key.pem"),
    ]  # fmt: skip


@dataclass
class Target:
    """A running daemon: its kind, socket, TCP address with mutual TLS (reached inside its
    namespace), and the busybox image it can pull."""

    kind: str
    sock: Path
    image: str  # REGISTRY/busybox:latest
    env: dict[str, str]
    namespace: Namespace
    tcp_host: str
    certs: Path

    def porter_in_namespace(
        self, *args: str, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """porter run inside the daemon's network namespace (to reach its TCP listener)."""
        argv = self.namespace.argv([str(PORTER), *args])
        return subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=120, env=self.env
        )

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    def porter(
        self, *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PORTER), "-H", self.host, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKER, "-H", self.host, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
        )

    def name(self, what: str = "c") -> str:
        """A name no other test run uses."""
        return f"porter-cli-{what}-{uuid.uuid4().hex[:8]}"
