"""Loading a compiled filter into the kernel, in the container's init, before execve.

No library is needed here: the BPF bytes were produced before the fork. seccomp(2)
needs either CAP_SYS_ADMIN or no_new_privs; when the caller has dropped the
capability and the config did not ask for no_new_privs, we set it, since the kernel
leaves no other way to install the filter.
"""

from __future__ import annotations

import ctypes
import errno
import os

from porter_runtime.seccomp import tables
from porter_runtime.seccomp.compile import SeccompProgram
from porter_runtime.seccomp.errors import SeccompError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SOCK_FILTER_SIZE = 8


class SockFprog(ctypes.Structure):
    """struct sock_fprog"""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program: SeccompProgram) -> int | None:
    """Install the filter on the calling process; returns the notify fd when it has one.

    The notify fd must reach the seccomp agent: the container's init cannot see the
    host's listenerPath once it has pivoted, so it hands the fd to the runtime, which
    calls `send_seccomp_fd`.
    """
    if not program.bpf or len(program.bpf) % SOCK_FILTER_SIZE:
        raise SeccompError("install", "the compiled filter is empty or truncated")
    libc = ctypes.CDLL(None, use_errno=True)
    nr = tables.SYS_SECCOMP.get(os.uname().machine)
    if nr is None:
        raise SeccompError("install", f"seccomp(2) number unknown on {os.uname().machine}")
    buf = ctypes.create_string_buffer(program.bpf, len(program.bpf))
    prog = SockFprog(len(program.bpf) // SOCK_FILTER_SIZE, ctypes.addressof(buf))

    def call() -> int:
        return int(
            libc.syscall(
                ctypes.c_long(nr),
                ctypes.c_uint(tables.SECCOMP_SET_MODE_FILTER),
                ctypes.c_uint(program.flags),
                ctypes.byref(prog),
            )
        )

    rc = call()
    if rc < 0 and ctypes.get_errno() == errno.EACCES:
        if libc.prctl(tables.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SeccompError("install", f"cannot set no_new_privs: {_strerror()}")
        rc = call()
    if rc < 0:
        raise SeccompError("install", f"the kernel refused the filter: {_strerror()}")
    return rc if program.uses_notify else None


def _strerror() -> str:
    return os.strerror(ctypes.get_errno())


def send_seccomp_fd(
    program: SeccompProgram, notify_fd: int, pid: int, state: dict[str, Any]
) -> None:
    """Send the notify fd to the seccomp agent at listenerPath, as the runtime-spec says.

    The message is the spec's ContainerProcessState JSON with the fd attached by
    SCM_RIGHTS; `state` is the container's state document.
    """
    import json  # here, in the runtime: only a profile with a notify rule needs them
    import socket

    if program.listener_path is None:
        raise SeccompError("listenerPath", "the profile has no SCMP_ACT_NOTIFY rule")
    message = {
        "ociVersion": state.get("ociVersion", "1.2.0"),
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": program.listener_metadata,
        "state": state,
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(program.listener_path)
            socket.send_fds(sock, [json.dumps(message).encode()], [notify_fd])
    except OSError as e:
        raise SeccompError(
            f"listenerPath {program.listener_path}", f"cannot send: {e.strerror or e}"
        ) from e
