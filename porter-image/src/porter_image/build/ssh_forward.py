"""A unix socket that forwards each connection to an ssh agent, for `RUN --mount=type=ssh`.

    with forward_agent(paths, listen, folder):
        ...a RUN connects to `listen`...

`paths` is what `--ssh ID=...` named: one agent socket, or key files, which an `ssh-agent`
started for the block holds (BuildKit loads them into an agent of its own the same way).
The RUN sees a socket of its own rather than the user's, so that the mount's mode and owner
apply to it, and a RUN as another user still reaches an agent that lets only its own user in.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path


class AgentError(Exception):
    """The agent cannot be had: its keys cannot be loaded, or ssh-agent is missing."""


@contextlib.contextmanager
def forward_agent(paths: tuple[str, ...], listen: Path, folder: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        if len(paths) == 1 and stat.S_ISSOCK(os.stat(paths[0]).st_mode):
            upstream = paths[0]
        else:
            upstream = stack.enter_context(_agent_with_keys(paths, folder / "agent.sock"))
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stack.callback(server.close)
        server.bind(str(listen))
        server.listen(16)
        stop_r, stop_w = os.pipe()
        stack.callback(os.close, stop_r)
        stack.callback(os.close, stop_w)
        thread = threading.Thread(
            target=_accept, args=(server, upstream, stop_r), name="ssh-forward", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            os.write(stop_w, b"x")
            thread.join()


def _accept(server: socket.socket, upstream: str, stop: int) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(server, selectors.EVENT_READ)
        selector.register(stop, selectors.EVENT_READ)
        while True:
            ready = {key.fileobj for key, _ in selector.select()}
            if stop in ready:
                return
            try:
                client, _ = server.accept()
            except OSError:  # out of descriptors, say: the RUN's connections fail, not the build
                return
            threading.Thread(target=_relay, args=(client, upstream), daemon=True).start()


def _relay(client: socket.socket, upstream: str) -> None:
    """Copy bytes both ways until either side hangs up."""
    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with client, agent, contextlib.suppress(OSError), selectors.DefaultSelector() as selector:
        agent.connect(upstream)
        selector.register(client, selectors.EVENT_READ, agent)
        selector.register(agent, selectors.EVENT_READ, client)
        while True:
            for key, _ in selector.select():
                data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)


@contextlib.contextmanager
def _agent_with_keys(keys: tuple[str, ...], sock: Path) -> Iterator[str]:
    """An ssh-agent of its own on `sock`, holding `keys`, ended when the block ends."""
    program, adder = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if program is None or adder is None:
        raise AgentError("key files need ssh-agent and ssh-add, which are not installed")
    agent = subprocess.Popen(
        [program, "-D", "-a", str(sock)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            if agent.poll() is not None or time.monotonic() > deadline:
                raise AgentError("ssh-agent did not start")
            time.sleep(0.01)
        env = {"PATH": os.environ.get("PATH", ""), "SSH_AUTH_SOCK": str(sock)}
        added = subprocess.run(
            [adder, "-q", *keys],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if added.returncode != 0:
            lines = added.stderr.strip().splitlines() or [f"exit status {added.returncode}"]
            raise AgentError(f"ssh-add {' '.join(keys)}: {lines[-1]}")
        yield str(sock)
    finally:
        agent.terminate()
        agent.wait()
