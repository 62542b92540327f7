"""porter run under a pseudo-terminal of the test's own, as a person at a terminal runs it:
the window size set and changed on it, keys typed into it, its output read back."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(
        self, argv: list[str], env: dict[str, str], rows: int = 24, cols: int = 80
    ) -> None:
        self.master, slave = os.openpty()
        set_size(slave, rows, cols)
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            preexec_fn=_controlling_terminal, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.output = b""

    def expect(self, text: str, timeout: float = 30) -> str:
        """Read until `text` has appeared (after what earlier expects consumed); all read so far."""
        deadline = time.monotonic() + timeout
        wanted = text.encode()
        while wanted not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(
                    f"{text!r} not seen; the terminal showed {self.output[-500:]!r}"
                )
        seen, _, self.output = self.output.partition(wanted)
        return (seen + wanted).decode(errors="replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the other side is closed
            return False
        self.output += chunk
        return bool(chunk)

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def resize(self, rows: int, cols: int) -> None:
        """Change the window size; the kernel tells porter with SIGWINCH."""
        set_size(self.master, rows, cols)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        return self.process.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
