"""Messages between the runtime and the container's init over a unix socket pair.

One JSON object per line. The child end is inherited by both init stages (the process that
creates namespaces, then the container's pid 1); every descriptor is close-on-exec, so the
runtime sees end-of-file exactly when the last stage has exec'd the user process or died.
A message may carry descriptors (SCM_RIGHTS): the init hands over the seccomp notify fd
this way. The C module `_socket` is used directly: `socket` costs milliseconds to import.
"""

from __future__ import annotations

import os
import select
import sys

from porter_runtime import jsonio
from porter_runtime.errors import ContainerSetupError

TIMEOUT_MS = 60_000


class Channel:
    __slots__ = ("_buffer", "fds", "rfd", "wfd")

    def __init__(self, fd: int) -> None:
        self.rfd = self.wfd = fd  # one socket, both ways (the names say what each call uses)
        self._buffer = b""
        self.fds: list[int] = []  # descriptors received and not yet taken

    def send(self, kind: str, _fds: tuple[int, ...] = (), **fields: object) -> None:
        fields["type"] = kind
        data = (jsonio.dumps(fields) + "\n").encode()
        if _fds:
            import _socket

            rights = b"".join(fd.to_bytes(4, sys.byteorder) for fd in _fds)
            sock = _socket.socket(fileno=self.wfd)
            try:
                sent = sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
            finally:
                sock.detach()
            data = data[sent:]
        while data:
            data = data[os.write(self.wfd, data) :]

    def recv(self, timeout_ms: int = TIMEOUT_MS) -> dict | None:
        """The next message, or None at end of file; bounded by `timeout_ms`."""
        poller = select.poll()
        poller.register(self.rfd, select.POLLIN)
        while b"\n" not in self._buffer:
            if not poller.poll(timeout_ms):
                raise ContainerSetupError("container init did not answer in time")
            chunk = self._read()
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = jsonio.loads(line)
        if message.get("type") == "error":
            raise ContainerSetupError(message.get("message", "container init failed"))
        return message

    def _read(self) -> bytes:
        """recvmsg, not read: a plain read would drop (close) descriptors sent along."""
        import _socket

        sock = _socket.socket(fileno=self.rfd)
        try:
            data, ancillary, _, _ = sock.recvmsg(65536, _socket.CMSG_SPACE(16))
        finally:
            sock.detach()
        for level, kind, raw in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                usable = len(raw) - len(raw) % 4
                self.fds += [
                    int.from_bytes(raw[i : i + 4], sys.byteorder) for i in range(0, usable, 4)
                ]
        return data

    def take_fd(self) -> int:
        """The oldest descriptor received (the caller owns and closes it)."""
        if not self.fds:
            raise ContainerSetupError("container init sent no descriptor with its message")
        return self.fds.pop(0)

    def expect(self, kind: str) -> dict:
        message = self.recv()
        if message is None:
            raise ContainerSetupError(f"container init exited before {kind!r}")
        if message.get("type") != kind:
            raise ContainerSetupError(
                f"container init sent {message.get('type')!r}, expected {kind!r}"
            )
        return message

    def close(self) -> None:
        for fd in [self.rfd, *self.fds]:
            if fd >= 0:
                try:  # noqa: SIM105 (contextlib costs start-up time)
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = -1
        self.fds = []


def pair() -> tuple[Channel, Channel]:
    """(parent end, child end): both close-on-exec."""
    import _socket

    parent, child = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    return Channel(parent.detach()), Channel(child.detach())
