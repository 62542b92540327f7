"""Attaching to a container (run, start -a, attach): the hijacked stream, the terminal, the
wait for its exit code, and signals proxied to it when there is no TTY."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from porter_cli.client.api import Client, Response, path_part, version_tuple
from porter_cli.client.hijack import HijackedStream


def attach_stream(
    client: Client, container: str, stdin: bool, detach_keys: str | None = None
) -> HijackedStream:
    """The hijacked attach stream; the daemon detaches on `detach_keys` in stdin."""
    params = {
        "stream": True,
        "stdin": stdin,
        "stdout": True,
        "stderr": True,
        "detachKeys": detach_keys if stdin else None,
    }
    return client.hijack(f"/containers/{path_part(container)}/attach", params)


class ExitWaiter(threading.Thread):
    """POST /containers/ID/wait sent now (so it listens before the container starts) and its
    answer read in the background; `code()` gives the exit code.

    From API 1.30 on, the daemon sends the answer's headers once it holds the wait, and they
    are read here, before the caller starts the container, as docker's CLI does: else a
    container that ends at once could have its exit recorded before the daemon took the wait
    in (which then waits for a next exit that never comes, or finds a --rm container gone)."""

    def __init__(self, client: Client, container: str, condition: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        # `condition` came with API 1.30; older daemons wait for the next exit anyway
        supported = version_tuple(client.version) >= (1, 30)
        params = {"condition": condition if supported else None}
        self.conn = client.begin("POST", f"/containers/{path_part(container)}/wait", params)
        # from 1.30 on the headers are read now, before the start (the class says why)
        self.response: Response | None = client.finish(self.conn) if supported else None
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            response = self.response or self.client.finish(self.conn)
            self.result = response.json() or {}
        except BaseException as error:  # handed to the main thread by code()
            self.error = error

    def code(self) -> int:
        self.join()
        if self.error is not None:
            raise self.error
        result = self.result or {}
        failure = (result.get("Error") or {}).get("Message")
        if failure:
            from porter_cli.errors import DAEMON_EXIT, CliError

            raise CliError(f"Error waiting for container: {failure}", DAEMON_EXIT)
        return int(result.get("StatusCode", 0))


def resize_container(client: Client, container: str) -> Any:
    def resize(height: int, width: int) -> None:
        client.request(
            "POST", f"/containers/{path_part(container)}/resize", {"h": height, "w": width}
        ).close()

    return resize


@contextlib.contextmanager
def proxy_signals(client: Client, container: str, enabled: bool) -> Iterator[None]:
    """Without a TTY, SIGINT and SIGTERM to porter are sent on to the container (--sig-proxy)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(number: int, _frame: object) -> None:
        with contextlib.suppress(Exception):
            client.request(
                "POST",
                f"/containers/{path_part(container)}/kill",
                {"signal": signal.Signals(number).name},
            ).close()

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stream_container(
    client: Client,
    container: str,
    stream: HijackedStream,
    tty: bool,
    stdin: bool,
    detach_keys: bytes | None,
    sig_proxy: bool = True,
) -> bool:
    """Copy the attached stream with the terminal set up; True when the user detached.
    Without a TTY, SIGINT and SIGTERM go on to the container unless `sig_proxy` is off."""
    from porter_cli.terminal import follow_window, pump, raw_mode

    with (
        raw_mode(tty and stdin),
        follow_window(resize_container(client, container), tty),
        proxy_signals(client, container, sig_proxy and not tty),
    ):
        return pump(stream, tty, stdin, detach_keys)
