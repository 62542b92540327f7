"""The container's terminal: a pty made inside the container, its master handed out through
--console-socket with SCM_RIGHTS, its slave made the controlling terminal and /dev/console."""

from __future__ import annotations

import os

from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError

_TIOCSCTTY = 0x540E
_TIOCSWINSZ = 0x5414


def connect(path: str) -> int:
    """Connect to the console socket (in the runtime, before the container's root changes)."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"console socket {path}", exc.strerror or str(exc)) from exc
    return sock.detach()


def setup_terminal(
    calls: object, socket_fd: int, size: dict | None, dev_console: bool = True
) -> None:
    """Create the pty, send its master, and make its slave stdin/stdout/stderr and ctty."""
    import fcntl
    import socket
    import struct

    master, slave = os.openpty()
    name = os.ttyname(slave)
    if size:
        fcntl.ioctl(
            slave,
            _TIOCSWINSZ,
            struct.pack("HHHH", size.get("height", 0), size.get("width", 0), 0, 0),
        )
    sock = socket.socket(fileno=socket_fd)
    try:
        socket.send_fds(sock, [name.encode()], [master])
    finally:
        sock.close()
        os.close(master)
    if dev_console and os.path.exists("/dev"):
        try:
            if not os.path.exists("/dev/console"):
                os.close(os.open("/dev/console", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            calls.mount(name, "/dev/console", "", sc.MS_BIND, "")
        except OSError:
            pass  # a read-only /dev without console: the terminal still works
    fcntl.ioctl(slave, _TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
