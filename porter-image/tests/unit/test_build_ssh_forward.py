"""The socket a RUN's ssh mount binds: each connection forwarded to the agent given."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_image.build.ssh_forward import AgentError, forward_agent


@pytest.fixture
def echo_agent(tmp_path: Path) -> Iterator[Path]:
    """A unix socket server that answers each connection's bytes with the same bytes."""
    path = tmp_path / "agent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                while data := client.recv(1024):
                    client.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(5)


def ask(path: Path, message: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        client.connect(str(path))
        client.sendall(message)
        return client.recv(1024)


def test_a_connection_to_the_forwarder_reaches_the_agent(echo_agent: Path, tmp_path: Path) -> None:
    listen = tmp_path / "forward.sock"
    with forward_agent((str(echo_agent),), listen, tmp_path):
        assert ask(listen, b"ping") == b"ping"
        assert ask(listen, b"again") == b"again"


def test_the_forwarder_stops_listening_when_the_block_ends(
    echo_agent: Path, tmp_path: Path
) -> None:
    listen = tmp_path / "forward.sock"
    with forward_agent((str(echo_agent),), listen, tmp_path):
        pass
    with pytest.raises(ConnectionRefusedError):
        ask(listen, b"late")


def test_key_files_without_ssh_agent_installed_are_an_agent_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with (
        pytest.raises(AgentError, match="need ssh-agent and ssh-add"),
        forward_agent((str(key),), tmp_path / "f.sock", tmp_path),
    ):
        pass
