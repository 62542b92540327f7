"""conmon, the monitor that keeps each container (and each exec) after porterd is gone.

porterd starts conmon as podman does (libpod/oci_conmon_linux.go): API version 1, the
runtime and bundle, the container's pid file and conmon's own, an exit directory where conmon
writes the exit code to a file named for the container, an attach socket directory, a
k8s-file log, and two pipes given by number in the environment. conmon waits for one byte on
the start pipe, runs `RUNTIME create` (or `RUNTIME exec`), and writes `{"data": PID}` (or a
negative number and a message) on the sync pipe; for an exec it writes the exit code there
too when the process ends. conmon forks itself away from porterd before the create, so it and
the container outlive porterd; its log goes to syslog (`--syslog`), never to porterd.

The attach socket is a SOCK_SEQPACKET socket: conmon sends each chunk of output prefixed by
one byte (2 stdout, 3 stderr) and writes what it receives to the container's stdin. The
terminal size goes through the `ctl` fifo in the bundle as `1 HEIGHT WIDTH\n`.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from porterd.containers.runtime import OciRuntime
from porterd.errors import Conflict, DaemonError
from porterd.fdwait import readable

CONMON = "/usr/bin/conmon"
SYNC_TIMEOUT = 60.0
ATTACH_STDOUT, ATTACH_STDERR = 2, 3
WIN_RESIZE_EVENT = 1


class ConmonFailed(DaemonError):
    """conmon or the runtime under it could not create or exec the container."""


@dataclass(frozen=True)
class MonitorRequest:
    """What one conmon watches: a container (exec_spec None) or an exec session in one."""

    container_id: str
    session_id: str  # conmon's -u: the container id, or the exec id
    name: str
    bundle: Path
    pidfile: Path
    conmon_pidfile: Path
    persist: Path
    log_path: Path
    log_size_max: int
    terminal: bool
    stdin: bool
    leave_stdin_open: bool
    exec_spec: Path | None = None
    exit_dir: Path | None = None  # an exec's own: conmon names the exit file for the container
    extra_args: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Conmon:
    exit_dir: Path
    socket_dir: Path
    binary: str = CONMON

    def argv(self, runtime: OciRuntime, request: MonitorRequest) -> list[str]:
        argv = [
            self.binary,
            "--api-version", "1",
            "-c", request.container_id,
            "-u", request.session_id,
            "-r", runtime.path,
            "--runtime-arg", "--root",
            "--runtime-arg", str(runtime.root),
            "-b", str(request.bundle),
            "-p", str(request.pidfile),
            "-P", str(request.conmon_pidfile),
            "-n", request.name,
            "--exit-dir", str(request.exit_dir or self.exit_dir),
            "--persist-dir", str(request.persist),
            "--socket-dir-path", str(self.socket_dir),
            "-l", f"k8s-file:{request.log_path}",
            "--log-level", "warning",
            "--syslog",
        ]  # fmt: skip
        if request.log_size_max > 0:
            argv += ["--log-size-max", str(request.log_size_max)]
        if request.terminal:
            argv.append("-t")
        if request.stdin:
            argv.append("-i")
        if request.leave_stdin_open:
            argv.append("--leave-stdin-open")
        if request.exec_spec is not None:
            argv += ["-e", "--exec-process-spec", str(request.exec_spec)]
        return [*argv, *request.extra_args]

    def launch(
        self,
        runtime: OciRuntime,
        request: MonitorRequest,
        on_attach: Callable[[Path], None] | None = None,
    ) -> Launched:
        """Start conmon; it runs the runtime at once. Returns the created process's pid and
        the sync pipe (still open for an exec, whose exit code arrives on it).

        With `on_attach` (an exec), conmon makes the attach socket first and waits: the
        callback connects to it (given its path) before the process is started.
        """
        for folder in (request.exit_dir or self.exit_dir, self.socket_dir, request.persist):
            folder.mkdir(parents=True, exist_ok=True)
        sync_r, sync_w = os.pipe()
        start_r, start_w = os.pipe()
        attach_r = attach_w = -1
        if on_attach is not None:
            attach_r, attach_w = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "TZ": "UTC",  # the log's timestamps end in +00:00, which the converter expects
            "_OCI_SYNCPIPE": str(sync_w),
            "_OCI_STARTPIPE": str(start_r),
        }
        argv = self.argv(runtime, request)
        if on_attach is not None:
            env["_OCI_ATTACHPIPE"] = str(attach_w)
            argv.append("--exec-attach")
        passed = (sync_w, start_r) if attach_w < 0 else (sync_w, start_r, attach_w)
        try:
            with open(os.devnull, "rb") as null_in:
                process = subprocess.Popen(
                    argv,
                    env=env,
                    stdin=null_in,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    cwd=request.persist,
                    pass_fds=passed,
                    start_new_session=True,
                )
        except OSError as error:
            for fd in (sync_r, sync_w, start_r, start_w, attach_r, attach_w):
                if fd >= 0:
                    os.close(fd)
            raise ConmonFailed(f"cannot run {self.binary}: {error}") from error
        for fd in passed:
            os.close(fd)
        try:
            os.write(start_w, b"0")
            if on_attach is not None:
                _read_sync(attach_r, SYNC_TIMEOUT)
                on_attach(self.attach_path(request.session_id))
                os.write(start_w, b"0")
        except (ConmonFailed, OSError):
            pass  # conmon's own answer on the sync pipe says what went wrong
        finally:
            os.close(start_w)
            if attach_r >= 0:
                os.close(attach_r)
        try:
            message = _read_sync(sync_r, SYNC_TIMEOUT)
        except ConmonFailed:
            os.close(sync_r)
            _, stderr = process.communicate(timeout=SYNC_TIMEOUT)
            detail = stderr.decode(errors="replace").strip().splitlines()
            raise ConmonFailed(
                f"conmon for {request.container_id}: {detail[-1] if detail else 'no answer'}"
            ) from None
        process.wait(timeout=SYNC_TIMEOUT)
        if process.stderr is not None:
            process.stderr.close()
        pid = int(message.get("data", -1))
        if pid <= 0:
            os.close(sync_r)
            raise ConmonFailed(_runtime_message(message.get("message") or "create failed"))
        return Launched(pid, sync_r, read_pid(request.conmon_pidfile))

    def attach_path(self, session_id: str) -> Path:
        return self.socket_dir / session_id / "attach"

    def exit_file(self, session_id: str) -> Path:
        return self.exit_dir / session_id

    def exit_code(self, session_id: str) -> int | None:
        """The code conmon wrote when the process ended; None while it runs (or if conmon died)."""
        return _read_int(self.exit_file(session_id))


@dataclass(frozen=True)
class Launched:
    pid: int
    sync_fd: int
    conmon_pid: int

    def wait_exit(self, timeout: float | None = None) -> int | None:
        """For an exec: the exit code conmon reports on the sync pipe (None if it does not)."""
        try:
            return int(_read_sync(self.sync_fd, timeout).get("data", -1))
        except ConmonFailed:
            return None
        finally:
            os.close(self.sync_fd)


def resize(ctl: Path, height: int, width: int) -> None:
    """Ask conmon to resize the container's terminal through its control fifo."""
    try:
        fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENXIO):
            # no conmon reads the fifo: the process has just ended
            raise Conflict("cannot resize: the container's process is not running") from error
        raise ConmonFailed(f"cannot resize: {ctl}: {error.strerror}") from error
    try:
        os.write(fd, f"{WIN_RESIZE_EVENT} {height} {width}\n".encode())
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited already
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def read_pid(path: Path) -> int:
    """The pid in a pid file conmon wrote; 0 when there is none."""
    return _read_int(path) or 0


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_sync(fd: int, timeout: float | None) -> dict:
    deadline = None if timeout is None else time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not readable(fd, remaining):
            raise ConmonFailed("conmon did not answer on its sync pipe")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    try:
        line = data.split(b"\n", 1)[0]
        return json.loads(line)
    except ValueError as error:
        raise ConmonFailed(f"conmon answered {data[:200]!r}") from error


def _runtime_message(message: str) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the runtime failed"
