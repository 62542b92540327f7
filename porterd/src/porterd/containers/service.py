"""The containers backend the API calls: create, start, stop, kill, remove... one container
lock each, the records in sqlite, conmon watching every container so that it outlives porterd.

What happens when a container's process ends (log conversion, cleanup, restart policy) is the
monitor's job (`porterd.containers.monitor`); stop, kill, restart and pause are in
`porterd.containers.stopping`, removal in `porterd.containers.removal`, `update` in
`porterd.containers.update`, streams (attach, logs) in `porterd.containers.attach`, exec
sessions in `porterd.containers.execs`, files (cp, export, diff) in `porterd.containers.files`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from porter_image.errors import RuntimeConfigError
from porter_image.snapshots import unmount
from porterd.clock import now_rfc3339
from porterd.containers import names, removal, stopping, update
from porterd.containers.bundle import loopback_up, monitor_request, prepare_bundle
from porterd.containers.conmon import Conmon, ConmonFailed
from porterd.containers.create import checked_host_config, merged_config
from porterd.containers.logs import JsonFileWriter, LogOptions, LogPump
from porterd.containers.mounts import Volumes, resolve_mounts
from porterd.containers.prune import prune_containers
from porterd.containers.record import Container, ContainerPaths
from porterd.containers.runtime import OciRuntime, RuntimeFailed
from porterd.containers.start_errors import UNKNOWN_EXIT, classify
from porterd.containers.status import Status
from porterd.containers.store import ContainerStore
from porterd.errors import Conflict, DaemonError, InvalidParameter, NotFound, NotModified
from porterd.images.records import ContainerImage, ContainerUse
from porterd.network.service import container_ref
from porterd.state import Database

DEFAULT_RUNTIME = "porter-runtime"


class ImageSource(Protocol):
    """The image store: what a container needs of an image, with its snapshots leased to
    the container (`holder`) until `release(holder)`."""

    def container_image(self, name: str, holder: str) -> ContainerImage: ...

    def release(self, holder: str) -> None: ...


class EventSink(Protocol):
    def publish(
        self, type: str, action: str, actor_id: str, attributes: Mapping[str, str] | None = None
    ) -> object: ...


def default_runtimes() -> dict[str, str]:
    """porter-runtime beside this interpreter (or on PATH), and runc when it is installed."""
    beside = Path(sys.executable).parent / "porter-runtime"
    found = {DEFAULT_RUNTIME: str(beside) if beside.exists() else shutil.which(DEFAULT_RUNTIME)}
    found["runc"] = shutil.which("runc")
    return {name: path for name, path in found.items() if path}


class ContainerService:
    def __init__(
        self,
        *,
        database: Database,
        events: EventSink,
        images: ImageSource,
        volumes: Volumes | None = None,
        runtimes: Mapping[str, str] | None = None,
        exec_root: Path,
        data_root: Path,
        default_runtime: str = DEFAULT_RUNTIME,
        monitor_interval: float = 0.2,
        networks: Any = None,
    ) -> None:
        self.events = events
        self.networks = networks  # porterd.network.NetworkService; None: the runtime's netns
        self.images = images
        self.volumes = volumes
        self.exec_root = Path(exec_root)
        self.data_root = Path(data_root)
        self.store = ContainerStore(database)
        table = dict(runtimes) if runtimes else default_runtimes()
        if default_runtime not in table:
            raise InvalidParameter(f"default runtime {default_runtime!r} is not configured")
        self.default_runtime = default_runtime
        self.runtimes = {
            name: OciRuntime(name, path, self.exec_root / "runtimes" / name)
            for name, path in table.items()
        }
        self.conmon = Conmon(self.exec_root / "exits", self.exec_root / "sockets")
        self._containers: dict[str, Container] = {c.id: c for c in self.store.load_all()}
        self._table_lock = threading.Lock()
        self._changed = threading.Condition()
        self._pumps: dict[str, LogPump] = {}
        from porterd.containers.attach import AttachGates
        from porterd.containers.execs import ExecSessions
        from porterd.containers.monitor import Monitor

        self.gates = AttachGates()
        self.execs = ExecSessions(self)
        self.monitor = Monitor(self, monitor_interval)
        self.monitor.recover()
        self.monitor.start()

    # -- lookup ---------------------------------------------------------------------------

    def paths(self, container: Container) -> ContainerPaths:
        return ContainerPaths(
            self.data_root / "containers" / container.id,
            self.exec_root / "containers" / container.id,
        )

    def get(self, ref: str) -> Container:
        """A container by full id, name (with or without its slash) or unique id prefix."""
        with self._table_lock:
            if ref in self._containers:
                return self._containers[ref]
            name = ref if ref.startswith("/") else f"/{ref}"
            for container in self._containers.values():
                if container.name == name:
                    return container
            matches = [c for c in self._containers.values() if ref and c.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidParameter(f"multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def has(self, container_id: str) -> bool:
        """Whether the container (by full id) is still there, not removed."""
        with self._table_lock:
            return container_id in self._containers

    def all(self) -> list[Container]:
        with self._table_lock:
            return sorted(self._containers.values(), key=lambda c: c.created, reverse=True)

    def runtime_of(self, container: Container) -> OciRuntime:
        return self.runtimes[container.runtime]

    def containers_using(self, image_id: str) -> list[ContainerUse]:
        """For the image store: which containers stand on an image (removal is refused)."""
        return [
            ContainerUse(c.id, c.state.status.is_running())
            for c in self.all()
            if c.image_id == image_id
        ]

    # -- create ---------------------------------------------------------------------------

    def create(self, body: dict[str, Any], name: str | None = None) -> Container:
        if not isinstance(body, dict):
            raise InvalidParameter("the body must be a JSON object")
        reference = body.get("Image")
        if not reference or not isinstance(reference, str):
            raise InvalidParameter("Config.Image must be set")
        host = checked_host_config(body.get("HostConfig"))
        runtime = host.get("Runtime") or self.default_runtime
        if runtime not in self.runtimes:
            raise InvalidParameter(f"unknown or invalid runtime name: {runtime}")
        host["Runtime"] = runtime
        container_id = names.new_id()
        image = self.images.container_image(reference, container_id)
        try:
            return self._create(container_id, reference, image, body, host, runtime, name)
        except BaseException:
            self.images.release(container_id)
            raise

    def _create(
        self,
        container_id: str,
        reference: str,
        image: ContainerImage,
        body: dict[str, Any],
        host: dict[str, Any],
        runtime: str,
        name: str | None,
    ) -> Container:
        config = merged_config(body, dict(image.config))
        container = Container(
            id=container_id,
            name=self._new_name(name),
            created=now_rfc3339(),
            image=reference,
            image_id=image.id,
            image_config=dict(image.config),
            lowerdirs=tuple(str(path) for path in image.lowerdirs),
            config=config,
            host_config=host,
            runtime=runtime,
        )
        container.mounts = resolve_mounts(host, sorted(config.get("Volumes") or {}), self.volumes)
        paths = self.paths(container)
        if self.networks is not None:
            endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig")
            self.networks.register(container_ref(container), endpoints)
        elif host["NetworkMode"] not in ("none", "host", "default", "bridge"):
            raise InvalidParameter(f"network {host['NetworkMode']} not found")
        paths.data.mkdir(parents=True, exist_ok=True)
        try:
            self.store.add(container)
        except Conflict:
            shutil.rmtree(paths.data, ignore_errors=True)
            if self.networks is not None:
                self.networks.release(container.id)
            raise
        with self._table_lock:
            self._containers[container.id] = container
        self.publish(container, "create")
        return container

    def _new_name(self, name: str | None) -> str:
        if name:
            wanted = names.checked_name(name)
            if any(c.name == wanted for c in self.all()):
                raise Conflict(
                    f'Conflict. The container name "{wanted}" is already in use by container'
                    f' "{self.get(wanted).id}". You have to remove (or rename) that container to'
                    " be able to reuse that name."
                )
            return wanted
        taken = {c.name for c in self.all()}
        for retry in range(10):
            candidate = "/" + names.generated_name(retry)
            if candidate not in taken:
                return candidate
        return "/" + names.new_id()[:20]

    def publish(self, container: Container, action: str, **extra: str) -> None:
        attributes = {
            "name": container.name.lstrip("/"),
            "image": container.image,
            **{k: str(v) for k, v in (container.config.get("Labels") or {}).items()},
            **extra,
        }
        self.events.publish("container", action, container.id, attributes)

    def save(self, container: Container) -> None:
        self.store.save(container)
        with self._changed:
            self._changed.notify_all()

    # -- start ----------------------------------------------------------------------------

    def start(self, ref: str) -> None:
        container = self.get(ref)
        with container.lock:
            status = container.state.status
            if status.is_running():
                raise NotModified(f"container {container.id} is already started")
            if not status.can_start():
                raise Conflict(f"cannot start container {container.id}: it is {status.value}")
            container.manually_stopped = False
            self.start_locked(container)

    def start_locked(self, container: Container) -> None:
        """Mount the rootfs, write the bundle, have conmon create it, start it."""
        paths = self.paths(container)
        runtime = self.runtime_of(container)
        try:
            prepare_bundle(container, paths, self.networks)
            paths.json_log.touch()  # there from the start: a log follower holds it open
            self.conmon.exit_file(container.id).unlink(missing_ok=True)
            if runtime.holds(container.id):  # left by a crash between create and delete
                runtime.delete(container.id, force=True)
            request = monitor_request(container, paths, self.log_options(container))
            launched = self.conmon.launch(runtime, request)
            if (container.host_config.get("NetworkMode") or "default") != "host":
                loopback_up(launched.pid)
            self.gates.open(container.id, self.conmon.attach_path(container.id))
            runtime.start(container.id)
        except (ConmonFailed, RuntimeFailed) as error:  # the runtime's own words
            failure = classify(f"cannot start container {container.id}", str(error))
            self._fail_start(container, paths, failure.error, failure.exit_code)
            raise failure.error from error
        except DaemonError as error:
            self._fail_start(container, paths, error)
            raise
        except Exception as error:  # a snapshot, the rootfs, the user lookup...
            self._fail_start(container, paths, error)
            raise _start_error(container, error) from error
        os.close(launched.sync_fd)
        state = container.state
        state.status, state.pid, state.error = Status.RUNNING, launched.pid, ""
        state.exit_code, state.oom_killed = 0, False
        state.started_at, state.conmon_pid = now_rfc3339(), launched.conmon_pid
        container.has_been_started = True
        self.save(container)
        self.monitor.watch_new()
        self.publish(container, "start")

    def _fail_start(
        self,
        container: Container,
        paths: ContainerPaths,
        error: Exception,
        exit_code: int = UNKNOWN_EXIT,
    ) -> None:
        self.gates.close(container.id)
        if self.networks is not None:
            self.networks.stop(container.id)
        runtime = self.runtime_of(container)
        with contextlib.suppress(RuntimeFailed):
            runtime.delete(container.id, force=True)
        self.release_rootfs(paths)
        state = container.state
        state.error = str(error)
        state.exit_code = exit_code
        state.status = Status.EXITED if container.has_been_started else Status.CREATED
        self.save(container)

    def release_rootfs(self, paths: ContainerPaths) -> None:
        if os.path.ismount(paths.rootfs):
            unmount(paths.rootfs, lazy=True)

    def log_options(self, container: Container) -> LogOptions:
        return LogOptions.from_log_config(container.host_config.get("LogConfig"))

    def pump(self, container: Container) -> LogPump:
        """The converter of the container's conmon log into its json-file log."""
        with self._table_lock:
            pump = self._pumps.get(container.id)
            if pump is None:
                paths = self.paths(container)
                writer = JsonFileWriter(paths.json_log, self.log_options(container))
                pump = LogPump(paths.conmon_log, paths.log_cursor, writer)
                self._pumps[container.id] = pump
            return pump

    # -- stop, kill, wait -----------------------------------------------------------------

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        stopping.stop(self, ref, timeout, signal)

    def kill(self, ref: str, signal: str = "SIGKILL") -> None:
        stopping.kill(self, ref, signal)

    def kill_and_reap(self, container: Container) -> None:
        stopping.kill_and_reap(self, container)

    def restart(self, ref: str, timeout: int | None = None) -> None:
        stopping.restart(self, ref, timeout)

    def pause(self, ref: str) -> None:
        stopping.pause(self, ref)

    def unpause(self, ref: str) -> None:
        stopping.unpause(self, ref)

    def wait_exit(self, container: Container, generation: int, timeout: float | None) -> bool:
        """Whether the container's process ended (after `generation`) within `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self.monitor.exits(container) <= generation:
                if container.id not in self._containers:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining if remaining is not None else 1.0)
        return True

    def waiter(
        self, ref: str, condition: str = "not-running"
    ) -> Callable[[Callable[[], bool]], dict[str, Any] | None]:
        """`POST /containers/{id}/wait`: checks the request now and returns what blocks until
        the condition holds (the API sends its headers in between, as dockerd does, since
        `docker run` waits for them before it starts the container).

        As dockerd's `State.Wait`: `not-running` holds at once for a container whose process
        does not exist (created, exited), else at its next exit; `next-exit` waits for the
        next exit whatever the state is now; `removed` waits for the container to be gone.
        An exit a restart policy follows counts as one; a removal ends every wait."""
        if condition not in ("", "not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {json.dumps(condition)}")
        container = self.get(ref)
        with container.lock:
            generation = self.monitor.exits(container)
            met = condition in ("", "not-running") and not container.state.status.is_running()

        def wait(gone: Callable[[], bool] = lambda: False) -> dict[str, Any] | None:
            """The answer once the condition holds; None once `gone()` (the client left)
            before, as dockerd ends a wait whose request's context is cancelled."""
            if condition == "removed":
                with self._changed:
                    while container.id in self._containers:
                        if gone():
                            return None
                        self._changed.wait(1.0)
            elif not met:
                while not self.wait_exit(container, generation, 1.0):
                    if gone():
                        return None
            with container.lock:
                state = container.state
                error = {"Message": state.error} if state.error else None
                return {"StatusCode": state.exit_code, "Error": error}

        return wait

    def notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- remove, rename, update, prune ----------------------------------------------------

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        removal.remove(self, ref, force, volumes)

    def forget(self, container_id: str) -> LogPump | None:
        """Drop a removed container from the table; its log pump, if any, to close."""
        with self._table_lock:
            self._containers.pop(container_id, None)
            return self._pumps.pop(container_id, None)

    def rename(self, ref: str, new_name: str) -> None:
        container = self.get(ref)
        wanted = names.checked_name(new_name)
        with container.lock:
            if container.name == wanted:
                raise InvalidParameter(
                    "Renaming a container with the same name as its current name"
                )
            old = container.name
            container.name = wanted
            try:
                self.store.save(container)
            except Conflict:
                container.name = old
                raise
        self.publish(container, "rename", oldName=old)

    def update(self, ref: str, body: dict[str, Any]) -> list[str]:
        return update.update(self, ref, body)

    def prune(self, until_ns: int | None = None, labels: list[str] | None = None) -> dict[str, Any]:
        """Remove the stopped containers (created before `until_ns`, with `labels`)."""
        return prune_containers(self, until_ns, labels)

    def close(self) -> None:
        """Stop watching (containers go on under conmon); for a daemon shutting down."""
        self.monitor.stop()


def _start_error(container: Container, error: Exception) -> DaemonError:
    """What the client is told of a failed start: one line, with the status it deserves."""
    if isinstance(error, RuntimeConfigError):  # the image's or the request's user, for one
        return InvalidParameter(f"cannot start container {container.id}: {error}")
    return DaemonError(f"cannot start container {container.id}: {error}")
