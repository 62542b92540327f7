"""Exec sessions: a process run in a running container (`docker exec`), each watched by its
own conmon (`--exec`), kept in memory as dockerd keeps them.

The process spec is the container's own process (its config.json) with the exec's command,
terminal, environment added to the container's, user (looked up in the container's rootfs),
working directory and, for a privileged exec, every capability. An attached exec makes conmon
wait until porterd is connected to its attach socket, so no output is lost; the exit code is
what conmon writes to the session's persist folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter_image.errors import RuntimeConfigError
from porter_image.exec_user import resolve_user
from porter_image.layout.atomic import write_file_atomic
from porterd.containers import names
from porterd.containers.attach import (
    AttachStreams,
    bridge,
    connect,
    entry_chunk,
    logged_output,
    parse_detach_keys,
)
from porterd.containers.conmon import ConmonFailed, MonitorRequest, pid_alive, read_pid, resize
from porterd.containers.logs import ConmonLogTail
from porterd.containers.spec import ALL_CAPABILITIES
from porterd.containers.start_errors import CANNOT_INVOKE_EXIT, StartFailure, classify
from porterd.errors import Conflict, DaemonError, InvalidParameter, NotFound

if TYPE_CHECKING:
    from porterd.containers.record import Container
    from porterd.containers.service import ContainerService

log = logging.getLogger("porterd.containers")
EXIT_WAIT = 5.0
FORGET_AFTER = 300.0


@dataclass
class ExecSession:
    id: str
    container_id: str
    config: dict[str, Any]
    folder: Path
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    conmon_pid: int = 0
    ended_at: float = 0.0  # monotonic
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def exit_file(self) -> Path:
        return self.folder / "persist" / "exit"

    def collect(self) -> bool:
        """Record the exit code once conmon has written it; whether the session ended."""
        try:
            code = int(self.exit_file.read_text().strip())
        except (OSError, ValueError):
            return False
        self.end(code)
        return True

    def end(self, code: int) -> None:
        """Record the session's exit code (and, the first time, when it ended: a session is
        forgotten FORGET_AFTER seconds later)."""
        if self.exit_code is None:
            self.ended_at = time.monotonic()
        self.running, self.exit_code = False, code

    def inspect(self) -> dict[str, Any]:
        config = self.config
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": bool(config.get("Tty")),
                "entrypoint": (config.get("Cmd") or [""])[0],
                "arguments": (config.get("Cmd") or [])[1:],
                "privileged": bool(config.get("Privileged")),
                "user": config.get("User") or "",
            },
            "OpenStdin": bool(config.get("AttachStdin")),
            "OpenStderr": bool(config.get("AttachStderr")),
            "OpenStdout": bool(config.get("AttachStdout")),
            "CanRemove": not self.running and self.started,
            "ContainerID": self.container_id,
            "DetachKeys": config.get("DetachKeys") or "",
            "Pid": self.pid,
        }


class ExecSessions:
    def __init__(self, service: ContainerService) -> None:
        self.service = service
        self._sessions: dict[str, ExecSession] = {}
        self._lock = threading.Lock()

    def create(self, ref: str, body: dict[str, Any]) -> str:
        container = self.service.get(ref)
        if not isinstance(body, dict):
            raise InvalidParameter("the body must be a JSON object")
        cmd = body.get("Cmd")
        if not cmd or not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
            raise InvalidParameter("No exec command specified")
        parse_detach_keys(body.get("DetachKeys"))
        with container.lock:
            if container.state.status.value == "paused":
                raise Conflict(
                    f"Container {container.id} is paused, unpause the container before exec"
                )
            if not container.state.status.can_exec():
                raise Conflict(f"Container {container.id} is not running")
        session_id = names.new_id()
        folder = self.service.paths(container).run / "exec" / session_id
        session = ExecSession(session_id, container.id, dict(body), folder)
        with self._lock:
            self._sessions[session_id] = session
        self.service.publish(container, f"exec_create: {' '.join(cmd)}", execID=session_id)
        return session_id

    def get(self, session_id: str) -> ExecSession:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise NotFound(f"No such exec instance: {session_id}")
        return session

    def ids_of(self, container_id: str) -> list[str]:
        with self._lock:
            return [s.id for s in self._sessions.values() if s.container_id == container_id]

    def start(
        self,
        session_id: str,
        hijack: Callable[[], socket.socket] | None,
        tty: bool | None = None,
    ) -> None:
        """Start the session; with `hijack`, take the client's connection once the process
        is ready and stream the session there until the process ends."""
        session = self.get(session_id)
        container = self.service.get(session.container_id)
        with session.lock:
            if session.started:
                raise Conflict(f"Error: Exec command {session_id} has already run")
            session.started = True
        config = session.config
        streams = AttachStreams(
            stdin=bool(config.get("AttachStdin")),
            stdout=bool(config.get("AttachStdout")),
            stderr=bool(config.get("AttachStderr")),
            tty=bool(config.get("Tty") if tty is None else tty),
            stdin_once=True,
            detach_keys=parse_detach_keys(config.get("DetachKeys")),
        )
        attached = hijack is not None and (streams.stdin or streams.stdout or streams.stderr)
        conmon_socket: list[socket.socket] = []
        hijacked: list[socket.socket] = []

        def on_attach(path: Path) -> None:
            # The answer's head goes out before the process starts, so that its first output
            # never arrives with the head (docker-py reads the stream past its HTTP buffer).
            conmon_socket.append(connect(path))
            assert hijack is not None
            hijacked.append(hijack())

        with container.lock:
            if not container.state.status.can_exec():
                raise Conflict(f"Container {container.id} is not running")
            spec = self._process_spec(container, config)
            session.folder.mkdir(parents=True, exist_ok=True)
            write_file_atomic(session.folder / "process.json", json.dumps(spec).encode())
            # the output comes from conmon's log, not the attach socket: conmon accepts an
            # exec's connection only once the process runs, when it may have printed already
            tail = ConmonLogTail(session.folder / "log")
            try:
                launched = self.service.conmon.launch(
                    self.service.runtime_of(container),
                    self._request(container, session, streams),
                    on_attach=on_attach if attached else None,
                )
            except DaemonError as error:
                failure = (
                    classify(f"cannot exec in container {container.id}", str(error))
                    if isinstance(error, ConmonFailed)  # the runtime's own words
                    else StartFailure(error, CANNOT_INVOKE_EXIT)
                )
                if not hijacked:
                    session.end(failure.exit_code)
                    raise failure.error from error
                _fail_in_stream(session, hijacked[0], streams, failure.error, failure.exit_code)
                return
        os.close(launched.sync_fd)
        session.running, session.pid = True, launched.pid
        session.conmon_pid = launched.conmon_pid
        self.service.publish(container, f"exec_start: {' '.join(config['Cmd'])}", execID=session.id)
        if hijack is None:
            return
        if not attached or not conmon_socket or not hijacked:
            hijack().close()
            return
        bridge(
            hijacked[0],
            conmon_socket[0],
            streams,
            before_close=lambda: self._await_exit(session),
            output=logged_output(tail, _exec_ended(session), streams, session.conmon_pid),
        )

    def _await_exit(self, session: ExecSession) -> None:
        """conmon closes the attach socket before it writes the exit code: wait for it, so
        that the client's inspect right after the stream ends sees the code."""
        deadline = time.monotonic() + EXIT_WAIT
        while not session.collect() and time.monotonic() < deadline:
            time.sleep(0.02)

    def _request(
        self, container: Container, session: ExecSession, streams: AttachStreams
    ) -> MonitorRequest:
        folder = session.folder
        return MonitorRequest(
            container_id=container.id,
            session_id=session.id,
            name=container.name.lstrip("/"),
            bundle=folder,
            pidfile=folder / "pid",
            conmon_pidfile=folder / "conmon.pid",
            persist=folder / "persist",
            log_path=folder / "log",
            log_size_max=1024 * 1024,
            terminal=streams.tty,
            stdin=streams.stdin,
            leave_stdin_open=False,
            exec_spec=folder / "process.json",
            exit_dir=folder / "exits",
        )

    def _process_spec(self, container: Container, config: dict[str, Any]) -> dict[str, Any]:
        paths = self.service.paths(container)
        process = json.loads((paths.bundle / "config.json").read_bytes())["process"]
        process["args"] = list(config["Cmd"])
        process["terminal"] = bool(config.get("Tty"))
        env = list(process.get("env") or [])
        for entry in config.get("Env") or []:
            name = entry.partition("=")[0]
            env = [e for e in env if e.partition("=")[0] != name] + [entry]
        process["env"] = env
        if config.get("WorkingDir"):
            process["cwd"] = config["WorkingDir"]
        if config.get("User"):
            try:
                user = resolve_user(paths.rootfs, config["User"])
            except RuntimeConfigError as error:
                raise InvalidParameter(f"unable to find user {config['User']}: {error}") from error
            process["user"] = {"uid": user.uid, "gid": user.gid}
            if user.additional_gids:
                process["user"]["additionalGids"] = list(user.additional_gids)
        if config.get("Privileged"):
            caps = list(ALL_CAPABILITIES)
            process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
        size = config.get("ConsoleSize")
        if process["terminal"] and isinstance(size, list) and len(size) == 2 and all(size):
            process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}
        return process

    def resize(self, session_id: str, height: int, width: int) -> None:
        session = self.get(session_id)
        if not session.started or session.exit_code is not None:  # started: its conmon is up
            raise Conflict(f"exec {session_id} is not running")
        resize(session.folder / "ctl", height, width)

    def tick(self) -> None:
        """Collect the exit codes of ended sessions; forget those ended long ago, as dockerd
        forgets an exec five minutes after it ended."""
        with self._lock:
            running = [s for s in self._sessions.values() if s.running]
        for session in running:
            session.collect()
        horizon = time.monotonic() - FORGET_AFTER
        with self._lock:
            old = [
                s
                for s in self._sessions.values()
                if s.exit_code is not None and s.ended_at < horizon
            ]
            for session in old:
                del self._sessions[session.id]
        for session in old:
            shutil.rmtree(session.folder, ignore_errors=True)

    def recover(self, container: Container) -> None:
        """After a porterd restart, the sessions of a running container from before it: as
        dockerd's, they are not known any more (inspect and start find no such exec, the
        container lists no ExecIDs). The folders of those that ended go; each one whose
        process still runs stays, and the log says so, since it goes on untracked until it
        ends or the container stops."""
        folder = self.service.paths(container).run / "exec"
        for session in sorted(folder.iterdir()) if folder.is_dir() else []:
            if pid_alive(read_pid(session / "conmon.pid")):
                log.warning(
                    "exec %s in container %s was started before porterd restarted: it runs on,"
                    " no longer tracked",
                    session.name,
                    container.id,
                )
            else:
                shutil.rmtree(session, ignore_errors=True)

    def forget(self, container_id: str) -> None:
        with self._lock:
            for session_id in [
                s.id for s in self._sessions.values() if s.container_id == container_id
            ]:
                del self._sessions[session_id]


def _fail_in_stream(
    session: ExecSession,
    client: socket.socket,
    streams: AttachStreams,
    error: Exception,
    exit_code: int,
) -> None:
    """The runtime refused the exec after the answer's head went out: the message goes into
    the stream (as dockerd writes it there) and the exit code is docker's 126 or 127."""
    message = f"{error}\r\n" if streams.tty else f"{error}\n"
    with contextlib.suppress(OSError):
        client.sendall(entry_chunk("stderr", message.encode(), streams))
    client.close()
    session.end(exit_code)


def _exec_ended(session: ExecSession) -> Callable[[], bool]:
    """Whether the session's conmon is gone: it has written all of the log it will (its exit
    file comes before the last output)."""
    if session.conmon_pid:
        return lambda: not pid_alive(session.conmon_pid)
    return session.exit_file.exists  # no pid file: the exit file is all there is to go by
