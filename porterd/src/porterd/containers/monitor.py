"""What happens when a container's process ends, whether porterd saw it or not.

One thread looks at every running container a few times a second, and at once when a conmon
ends (`ExitWatch`): it converts new log lines
(`LogPump`), and when conmon has written the exit file it records the exit (code, time, OOM),
deletes the runtime's container, unmounts the rootfs and applies the restart policy. When
conmon itself is gone without an exit file (killed), the container is killed too and
recorded as exited with 137, as if killed, so the restart policy still acts.

At start-up, `recover` does the same for what happened while porterd was down, and starts
the containers whose policy says so (`always`, `unless-stopped` not stopped by hand).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from porterd.clock import now_rfc3339, time_ns
from porterd.containers.conmon import pid_alive
from porterd.containers.exit_watch import ExitWatch, wait_for_exit
from porterd.containers.health import HealthChecks
from porterd.containers.record import Container
from porterd.containers.restart import RestartPolicy, restart_delay
from porterd.containers.runtime import RuntimeFailed
from porterd.containers.status import Status
from porterd.errors import DaemonError

if TYPE_CHECKING:
    from porterd.containers.service import ContainerService

log = logging.getLogger("porterd.containers")
CONMON_KILLED_CODE = 137
CONMON_EXIT_GRACE = 5.0


def run_of(container: Container) -> tuple[int, str]:
    """Which run of the container its state is about: its conmon and when it started (a
    conmon pid alone may be reused)."""
    return container.state.conmon_pid, container.state.started_at


class Monitor:
    def __init__(self, service: ContainerService, interval: float) -> None:
        self.service = service
        self.interval = interval
        self._exits: dict[str, int] = {}
        self._restarts: dict[str, float] = {}  # id -> when (monotonic)
        self._delays: dict[str, float] = {}
        # id -> the run (`run_of`) whose exit file was seen, and when first (monotonic)
        self._exit_seen: dict[str, tuple[tuple[int, str], float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._exit_watch = ExitWatch()
        self._thread = threading.Thread(target=self._run, name="container-monitor", daemon=True)
        self.health = HealthChecks(service)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._exit_watch.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._exit_watch.close()

    def watch_new(self) -> None:
        """A container has just started: look again now, so that its conmon's pidfd is waited
        on from here on; until the next tick, its exit would be noticed up to a tick late."""
        self._exit_watch.wake()

    def exits(self, container: Container) -> int:
        """How many times this porterd saw the container's process end."""
        with self._lock:
            return self._exits.get(container.id, 0)

    def cancel_restart(self, container: Container) -> None:
        with self._lock:
            self._restarts.pop(container.id, None)
        with container.lock:
            if container.state.status is Status.RESTARTING:
                container.state.status = Status.EXITED
                container.manually_stopped = True
                self.service.save(container)

    def recover(self) -> None:
        """Find every container again after a (re)start of porterd."""
        for container in self.service.all():
            status = container.state.status
            if status.is_running() and status is not Status.RESTARTING:
                self.service.execs.recover(container)
                self.check(container)
            elif status is Status.REMOVING:
                self.service.remove(container.id, force=True)
            elif status is Status.RESTARTING or (
                status is Status.EXITED
                and container.has_been_started
                and RestartPolicy.from_host_config(container.host_config).restarts_with_daemon(
                    container.manually_stopped
                )
            ):
                self._schedule(container, 0.0)

    def _run(self) -> None:
        conmons: list[int] = []
        while not self._stop.is_set():
            self._exit_watch.wait(conmons, self.interval)
            if self._stop.is_set():
                break
            try:
                conmons = self.tick()
            except Exception:
                log.exception("container monitor")

    def tick(self) -> list[int]:
        """One look at every running container; the conmon pids to wait on until the next look."""
        watched = [
            c
            for c in self.service.all()
            if c.state.status.is_running() and c.state.status is not Status.RESTARTING
        ]
        for container in watched:
            self.service.pump(container).pump()
            self.check(container)
        self.service.execs.tick()
        now = time.monotonic()
        with self._lock:
            due = [cid for cid, when in self._restarts.items() if when <= now]
            for cid in due:
                del self._restarts[cid]
        self._forget_exits_seen(watched)
        watched += [c for c in map(self._restart, due) if c is not None]
        self.health.tick(watched)
        return [c.state.conmon_pid for c in watched if c.state.status.is_running()]

    def check(self, container: Container) -> None:
        """Record the exit of the container's current run if conmon wrote it, or if conmon is
        gone. The monitor and a stopping thread both look, without the container's lock: the
        other one may record that exit and start the container again meanwhile (stop, then
        start or restart), so what is found is recorded for the run it was found for only."""
        run = run_of(container)
        conmon_pid = run[0]
        code = self.service.conmon.exit_code(container.id)
        if code is not None:
            # conmon writes the exit file before the last output reaches its log: the exit is
            # recorded (and the log converted) once conmon is gone, or after a grace period
            if pid_alive(conmon_pid) and not self._waited_long(container.id, run):
                return
            with self._lock:
                self._exit_seen.pop(container.id, None)
            self.handle_exit(container, run, code, "")
            return
        if pid_alive(conmon_pid):
            return
        code = self.service.conmon.exit_code(container.id)  # it may have just finished
        if code is not None:
            self.handle_exit(container, run, code, "")
            return
        with container.lock:
            if container.state.status.is_running() and run_of(container) == run:
                with contextlib.suppress(RuntimeFailed):
                    self.service.runtime_of(container).kill(container.id, "SIGKILL", True)
        self.handle_exit(container, run, CONMON_KILLED_CODE, "conmon exited without an exit code")

    def reap(self, container: Container, timeout: float | None) -> bool:
        """Wait up to `timeout` for the container's conmon to end (it was just signalled),
        then record the exit in the calling thread, as the monitor would: a removal or a stop
        need not queue behind the monitor's thread, which handles exits one after another (an
        `rm -f` of 20 containers waited there for 20 runtime deletes and unmounts in a row).
        Whether conmon ended."""
        if not wait_for_exit(container.state.conmon_pid, timeout):
            return False
        status = container.state.status
        if status.is_running() and status is not Status.RESTARTING:
            self.check(container)
        return True

    def _waited_long(self, container_id: str, run: tuple[int, str]) -> bool:
        """Whether `run`'s exit file was first seen over CONMON_EXIT_GRACE ago; the grace
        starts now when it was not seen yet, for this run (a time seen for an earlier run, whose
        exit was recorded by another path, counts for nothing)."""
        now = time.monotonic()
        with self._lock:
            seen = self._exit_seen.get(container_id)
            if seen is None or seen[0] != run:
                seen = self._exit_seen[container_id] = (run, now)
        return now - seen[1] > CONMON_EXIT_GRACE

    def _forget_exits_seen(self, watched: list[Container]) -> None:
        """Drop when an exit file was seen for a run that is over, or for a container that
        is gone (`watched`: every container the monitor looks at, read in this tick). The map
        is empty on almost every tick: nothing is read then."""
        if not self._exit_seen:
            return
        runs = {c.id: run_of(c) for c in watched if c.state.status.is_running()}
        with self._lock:
            for container_id, (run, _) in list(self._exit_seen.items()):
                if runs.get(container_id) != run:
                    del self._exit_seen[container_id]

    def handle_exit(
        self, container: Container, run: tuple[int, str], code: int, error: str
    ) -> None:
        """Record the end of `run` (`run_of`); nothing once the container runs no more, or
        runs again: a late exit of an earlier run would have ended the new one."""
        service = self.service
        with container.lock:
            state = container.state
            status = state.status
            if not status.is_running() or status is Status.RESTARTING or run_of(container) != run:
                return
            paths = service.paths(container)
            service.pump(container).pump()
            with contextlib.suppress(RuntimeFailed):
                service.runtime_of(container).delete(container.id, force=True)
            service.release_rootfs(paths)
            if service.networks is not None:
                service.networks.stop(container.id)
            service.conmon.exit_file(container.id).unlink(missing_ok=True)
            started = state.started_at
            state.status, state.pid, state.conmon_pid = Status.EXITED, 0, 0
            state.exit_code, state.error = code, error
            state.oom_killed = (paths.persist / "oom").exists()
            state.finished_at = now_rfc3339()
            policy = RestartPolicy.from_host_config(container.host_config)
            again = policy.should_restart(code, container.restart_count, container.manually_stopped)
            if again:
                state.status = Status.RESTARTING
            service.save(container)
            with self._lock:
                self._exits[container.id] = self._exits.get(container.id, 0) + 1
        service.gates.close(container.id)
        service.publish(container, "die", exitCode=str(code))
        service.notify()
        if again:
            self._schedule(container, self._next_delay(container, started))
        elif container.host_config.get("AutoRemove"):
            try:  # docker run --rm takes the anonymous volumes along
                service.remove(container.id, force=True, volumes=True)
            except DaemonError:
                log.exception("auto-remove of %s", container.id)

    def _next_delay(self, container: Container, started_at: str) -> float:

        ran_for = time.time() - time_ns(started_at) / 1e9
        with self._lock:
            delay = restart_delay(self._delays.get(container.id, 0.0), ran_for)
            self._delays[container.id] = delay
        return delay

    def _schedule(self, container: Container, delay: float) -> None:
        with container.lock:
            if container.state.status is not Status.RESTARTING:
                container.state.status = Status.RESTARTING
                self.service.save(container)
        with self._lock:
            self._restarts[container.id] = time.monotonic() + delay

    def _restart(self, container_id: str) -> Container | None:
        """Start a container whose restart is due; the container when it runs again."""
        try:
            container = self.service.get(container_id)
        except DaemonError:
            return None
        with container.lock:
            if container.state.status is not Status.RESTARTING:
                return None
            container.restart_count += 1
            container.state.status = Status.EXITED
            try:
                self.service.start_locked(container)
            except DaemonError as error:
                log.warning("restart of %s failed: %s", container.id, error)
                container.state.status = Status.EXITED
                self.service.save(container)
                return None
        self.service.publish(container, "restart")
        return container
