"""porter with a TTY through a pseudo-terminal, against a real daemon: the terminal in raw
mode, its window size following the window, and detaching (ctrl-p ctrl-q) and re-attaching."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from cli_daemons import DOCKER, PORTER, Target
from terminal_session import Terminal

pytestmark = pytest.mark.integration

PROMPT = "# "


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    try:
        yield opened
    finally:
        for terminal in opened:
            terminal.close()


def porter_terminal(
    target: Target, terminals: list[Terminal], *args: str, rows: int = 24, cols: int = 80
) -> Terminal:
    terminal = Terminal([str(PORTER), "-H", target.host, *args], target.env, rows, cols)
    terminals.append(terminal)
    return terminal


def shell(
    target: Target, terminals: list[Terminal], *options: str, rows: int = 24, cols: int = 80
) -> Terminal:
    """`porter run -it ... sh` at its first prompt."""
    argv = ["run", "-it", *options, "--network", "none", target.image, "sh"]
    terminal = porter_terminal(target, terminals, *argv, rows=rows, cols=cols)
    terminal.expect(PROMPT)
    return terminal


@pytest.mark.parametrize(("resize_to", "code"), [(None, 5), ((41, 132), 0)])
def test_run_it_follows_the_window_size_and_exits_with_the_shells_code(
    target: Target, terminals: list[Terminal], resize_to: tuple[int, int] | None, code: int
) -> None:
    terminal = shell(target, terminals, "--rm", rows=33, cols=101)
    if resize_to:
        terminal.resize(*resize_to)  # the kernel tells porter with SIGWINCH
    terminal.send("sleep 1; stty size\r")
    rows, cols = resize_to or (33, 101)
    terminal.expect(f"{rows} {cols}")
    terminal.send(f"exit {code}\r")
    assert terminal.wait() == code


def test_detach_keys_leave_the_container_running_and_attach_returns_to_it(
    target: Target, terminals: list[Terminal]
) -> None:
    name = target.name("tty")
    try:
        first = shell(target, terminals, "--name", name)
        first.send("echo before-detach\r")
        first.expect("before-detach\r\n")
        first.send("\x10\x11")
        assert first.wait() == 0
        assert target.porter("inspect", "-f", "{{.State.Running}}", name).stdout == "true\n"
        second = porter_terminal(target, terminals, "attach", name)
        second.send("echo $((6 * 7))\r")
        second.expect("42")
        second.send("exit 7\r")
        assert second.wait() == 7
    finally:
        target.porter("rm", "-f", name)


def test_exec_it_runs_an_interactive_shell(target: Target, terminals: list[Terminal]) -> None:
    name = target.name("exec")
    assert (
        target.porter(
            "run", "-d", "--name", name, "--network", "none", target.image, "sleep", "300"
        ).returncode
        == 0
    )
    try:
        terminal = porter_terminal(target, terminals, "exec", "-it", name, "sh", rows=20, cols=70)
        terminal.expect(PROMPT)
        terminal.send("stty size; exit 3\r")
        terminal.expect("20 70")
        assert terminal.wait() == 3
    finally:
        target.porter("rm", "-f", name)


def test_pull_on_a_terminal_rewrites_each_layers_line(
    target: Target, terminals: list[Terminal]
) -> None:
    target.porter("rmi", "-f", target.image)
    terminal = porter_terminal(target, terminals, "pull", target.image)
    shown = terminal.expect(f"Status: Downloaded newer image for {target.image}")
    assert "\x1b[1A\r\x1b[2K" in shown  # a layer's line rewritten in place, not a new line
    assert terminal.wait() == 0


TWO_LINES = ("sh", "-c", r"echo hi; printf 'a\nb'")


def output_bytes(target: Target, client: str, *args: str) -> bytes:
    """What `client` (porter or docker) printed to a pipe, byte for byte (no newline
    translation)."""
    binary = str(PORTER) if client == "porter" else DOCKER
    result = subprocess.run(
        [binary, "-H", target.host, *args], capture_output=True, timeout=120, env=target.env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("client", ["porter", "docker"])
def test_run_t_output_has_the_containers_crlf_line_ends(target: Target, client: str) -> None:
    """The container's terminal turns each \\n into \\r\\n (onlcr, as the runtime's console
    is set up); the client passes that through untouched, also to a pipe."""
    argv = ["run", "--rm", "-t", "--network", "none", target.image, *TWO_LINES]
    assert output_bytes(target, client, *argv) == b"hi\r\na\r\nb"


def test_run_t_without_i_leaves_the_local_terminal_cooked(
    target: Target, terminals: list[Terminal]
) -> None:
    """Without -i the local terminal is not put in raw mode (as docker leaves it): its own
    onlcr adds a \\r in front of each \\r\\n the container's terminal sent."""
    argv = ["run", "--rm", "-t", "--network", "none", target.image, *TWO_LINES]
    terminal = porter_terminal(target, terminals, *argv)
    assert terminal.wait() == 0
    assert terminal.output == b"hi\r\r\na\r\r\nb"


def test_exec_t_output_and_the_logs_of_a_tty_container_keep_crlf(
    target: Target, sleeper_tty: str
) -> None:
    assert output_bytes(target, "porter", "exec", "-t", sleeper_tty, *TWO_LINES) == (
        b"hi\r\na\r\nb"
    )
    assert output_bytes(target, "porter", "logs", sleeper_tty) == b"up\r\n"


@pytest.fixture
def sleeper_tty(target: Target) -> Iterator[str]:
    name = target.name("tty-logs")
    argv = ["run", "-d", "-t", "--name", name, "--network", "none", target.image]
    started = target.porter(*argv, "sh", "-c", "echo up; exec sleep 300")
    assert started.returncode == 0, started.stderr
    try:
        yield name
    finally:
        target.porter("rm", "-f", name)
