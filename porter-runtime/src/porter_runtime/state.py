"""The state directory of one container: <root>/<id>/state.json, exec.fifo, and its lock.

state.json is written to a temporary file and renamed, so a reader sees the old state or the
new one. It is not fsynced (runc does not either): it describes processes, and a machine crash
that could lose the write ends those processes too, so durability buys nothing but a disk
flush on every create when --root is not on tmpfs. Commands that change a container hold an
exclusive flock on its directory. The status is not stored but derived, as runc does: the init
process gone (or a different process wearing its pid, told apart by its start time) means
stopped; the exec fifo still present means created; a frozen cgroup means paused; otherwise
running.
"""

from __future__ import annotations

import fcntl
import os

from porter_runtime import jsonio
from porter_runtime.errors import ContainerExistsError, ContainerNotFoundError, InvalidIdError

OCI_VERSION = "1.2.0"
STATE_FILE = "state.json"
FIFO = "exec.fifo"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")


def check_id(container_id: str) -> None:
    if not container_id or container_id in (".", "..") or not set(container_id) <= _ID_CHARS:
        raise InvalidIdError(container_id)


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), or None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class ContainerDir:
    """One container's directory; `lock()` serialises commands that change it."""

    def __init__(self, root: str, container_id: str) -> None:
        check_id(container_id)
        self.root = root
        self.id = container_id
        self.path = os.path.join(root, container_id)
        self._lock_fd = -1

    @property
    def fifo(self) -> str:
        return os.path.join(self.path, FIFO)

    def create(self) -> None:
        """Reserve the id atomically (mkdir) and take the lock."""
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        try:
            os.mkdir(self.path, 0o711)
        except FileExistsError:
            raise ContainerExistsError(self.id) from None
        self.lock()

    @property
    def lock_fd(self) -> int:
        return self._lock_fd

    def lock(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerNotFoundError(self.id) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd
        if not os.path.exists(self.path):  # deleted while we waited for the lock
            self.unlock()
            raise ContainerNotFoundError(self.id)

    def unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def load(self) -> dict:
        try:
            with open(os.path.join(self.path, STATE_FILE), "rb") as f:
                return jsonio.loads(f.read())
        except (FileNotFoundError, NotADirectoryError):
            raise ContainerNotFoundError(self.id) from None

    def save(self, state: dict) -> None:
        tmp = os.path.join(self.path, f".{STATE_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, jsonio.dumps(state).encode())
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(self.path, STATE_FILE))

    def remove(self) -> None:
        """Delete the directory and everything in it, then release the lock."""
        try:
            for entry in os.scandir(self.path):  # flat: state.json, exec.fifo, temp files
                try:
                    os.unlink(entry.path)
                except IsADirectoryError:
                    import shutil

                    shutil.rmtree(entry.path, ignore_errors=True)
            os.rmdir(self.path)
        except FileNotFoundError:
            pass
        self.unlock()


def status(state: dict, container_dir: ContainerDir, cgroup: object | None = None) -> str:
    """created | running | paused | stopped, derived from the live system."""
    pid = state.get("pid") or 0
    if pid <= 0 or process_start_time(pid) != state.get("startTime"):
        return "stopped"
    if os.path.exists(container_dir.fifo):
        return "created"
    if cgroup is not None:
        try:
            if cgroup.state() == "paused":
                return "paused"
        except Exception:  # a vanished cgroup reads as not paused
            pass
    return "running"


def public_state(state: dict, current: str) -> dict:
    """The runtime-spec's state document (plus runc's rootfs, created and owner, which runc's
    state leaves empty and its list fills in)."""
    doc = {
        "ociVersion": OCI_VERSION,
        "id": state["id"],
        "status": current,
        "pid": state.get("pid", 0) if current != "stopped" else 0,
        "bundle": state["bundle"],
        "rootfs": state.get("rootfs", ""),
        "created": state.get("created", ""),
        "owner": "",
    }
    if state.get("annotations"):
        doc["annotations"] = state["annotations"]
    return doc


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(
        n
        for n in names
        if not n.startswith(".") and os.path.exists(os.path.join(root, n, STATE_FILE))
    )
