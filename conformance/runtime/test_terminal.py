"""process.terminal through `create --console-socket` (config.md "terminal", runc's console socket).

The runtime connects to the unix socket it is given and sends the master of the
container's pseudo-terminal as SCM_RIGHTS ancillary data; the container's stdio
is the slave.  The test is the console: it listens, receives the master, writes
to it and reads what the container prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import socket
import sys
import time

import pytest

pytestmark = pytest.mark.integration

CONSOLE_SIZE = {"height": 37, "width": 123}
READ_TIMEOUT = 10.0
TIOCGPTN = 0x80045430  # the pty number of a master (asm-generic/ioctls.h)


class Console:
    """The listening end of --console-socket, and the pty master once received."""

    def __init__(self, lab) -> None:
        self.path = lab.workdir / "console.sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(1)
        self.listener.settimeout(READ_TIMEOUT)
        self.master = -1
        lab.defer(self.close)

    def receive_master(self) -> int:
        """Accepts the runtime's connection (queued during create) and takes the fd it sent."""
        connection, _ = self.listener.accept()
        with connection:
            connection.settimeout(READ_TIMEOUT)
            _, fds, _, _ = socket.recv_fds(connection, 4096, 1)
        assert len(fds) == 1, f"expected one fd over SCM_RIGHTS, got {fds}"
        self.master = fds[0]
        return self.master

    def write(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read_until(self, wanted: str) -> str:
        """Reads the master until `wanted` appears, the slave closes, or time runs out."""
        seen = b""
        deadline = time.monotonic() + READ_TIMEOUT
        while wanted.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                break
            if not chunk:
                break
            seen += chunk
        return seen.decode("utf-8", "replace")

    def close(self) -> None:
        self.listener.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def _terminal_container(lab, args: list[str]):
    bundle = lab.bundle(args)
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = dict(CONSOLE_SIZE)
    container = lab.container(bundle)
    console = Console(lab)
    container.create("--console-socket", str(console.path)).check()
    console.receive_master()
    return container, console


def _probe_over_terminal(lab) -> dict:
    container, console = _terminal_container(lab, ["/probe"])
    container.start().check()
    text = console.read_until("}\r\n")
    container.wait("stopped")
    start = text.find("{")
    assert start >= 0, f"probe printed no report on the terminal: {text!r}"
    return json.loads(text[start:].strip())


def test_console_socket_receives_pty_master(lab):
    _, console = _terminal_container(lab, ["sleep", "30"])
    number = fcntl.ioctl(console.master, TIOCGPTN, b"\0" * 4)  # fails on anything but a master
    assert int.from_bytes(number, sys.byteorder) >= 0


def test_terminal_process_output_reaches_console(lab):
    container, console = _terminal_container(lab, ["sh"])
    container.start().check()
    console.write("echo $((6 * 7))-from-the-container\n")
    assert "42-from-the-container" in console.read_until("42-from-the-container")
    console.write("exit\n")
    container.wait("stopped")


def test_terminal_process_stdio_is_a_tty(lab):
    report = _probe_over_terminal(lab)
    assert (report["stdin_tty"], report["stdout_tty"]) == (1, 1)


def test_terminal_process_tty_is_a_devpts_slave(lab):
    report = _probe_over_terminal(lab)
    name = report["tty_name"] or ""
    assert name.startswith("/dev/pts/") and name.removeprefix("/dev/pts/").isdigit(), name


def test_terminal_console_size_is_applied(lab):
    report = _probe_over_terminal(lab)
    assert (report["tty_rows"], report["tty_cols"]) == (
        CONSOLE_SIZE["height"],
        CONSOLE_SIZE["width"],
    )


def test_exec_terminal_over_console_socket(lab):
    """`exec -d -t --console-socket`, as conmon runs it for `podman exec -it`."""
    container = lab.container(lab.bundle(["sleep", "30"]))
    container.create().check()
    container.start().check()
    console = Console(lab)
    pid_file = lab.workdir / "exec.pid"
    argv = ("exec", "-d", "-t", "--console-socket", str(console.path), "--pid-file", str(pid_file))
    lab.runtime.call(*argv, container.id, "/probe").check()
    lab.adopt(int(pid_file.read_text().strip()))
    console.receive_master()
    text = console.read_until("}\r\n")
    report = json.loads(text[text.find("{") :].strip())
    assert (report["stdin_tty"], report["stdout_tty"]) == (1, 1)
