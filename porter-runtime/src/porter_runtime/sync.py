"""Messages between the runtime and the container's init over a pair of pipes.

One JSON object per line. The child end is inherited by both init stages (the process that
creates namespaces, then the container's pid 1); every descriptor is close-on-exec, so the
runtime sees end-of-file exactly when the last stage has exec'd the user process or died.
"""

from __future__ import annotations

import os
import select

from porter_runtime import jsonio
from porter_runtime.errors import ContainerSetupError

TIMEOUT_MS = 60_000


class Channel:
    __slots__ = ("_buffer", "rfd", "wfd")

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self._buffer = b""

    def send(self, kind: str, **fields: object) -> None:
        fields["type"] = kind
        data = (jsonio.dumps(fields) + "\n").encode()
        while data:
            data = data[os.write(self.wfd, data) :]

    def recv(self, timeout_ms: int = TIMEOUT_MS) -> dict | None:
        """The next message, or None at end of file; bounded by `timeout_ms`."""
        poller = select.poll()
        poller.register(self.rfd, select.POLLIN)
        while b"\n" not in self._buffer:
            if not poller.poll(timeout_ms):
                raise ContainerSetupError("container init did not answer in time")
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = jsonio.loads(line)
        if message.get("type") == "error":
            raise ContainerSetupError(message.get("message", "container init failed"))
        return message

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
        for fd in (self.rfd, self.wfd):
            if fd >= 0:
                try:  # noqa: SIM105 (contextlib costs start-up time)
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = -1


def pair() -> tuple[Channel, Channel]:
    """(parent end, child end)."""
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    return Channel(up_r, down_w), Channel(down_r, up_w)
