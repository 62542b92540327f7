"""A container as porterd keeps it: what was asked for (config, host config), what it runs
from (image, runtime), and its state, which changes under the container's lock.

The record is stored as one JSON document per container (`porterd.containers.store`);
`to_json`/`from_json` are that document's shape, not the API's (`porterd.containers.views`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from porterd.containers.status import Status

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class State:
    status: Status = Status.CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    oom_killed: bool = False
    conmon_pid: int = 0

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["status"] = self.status.value
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> State:
        return cls(**{**document, "status": Status(document["status"])})


@dataclass
class Container:
    """One container; change `state` and the counters only while holding `lock`."""

    id: str
    name: str
    created: str
    image: str  # as the client named it
    image_id: str
    image_config: dict[str, Any]  # the OCI image config it was created from
    lowerdirs: tuple[str, ...]  # the image's snapshots, top first
    config: dict[str, Any]  # the Engine API's Config, with the image's defaults filled in
    host_config: dict[str, Any]
    runtime: str
    state: State = field(default_factory=State)
    mounts: list[dict[str, Any]] = field(default_factory=list)  # resolved, as inspect shows
    restart_count: int = 0
    manually_stopped: bool = False
    has_been_started: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    @property
    def args(self) -> list[str]:
        return [*(self.config.get("Entrypoint") or []), *(self.config.get("Cmd") or [])]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "image": self.image,
            "image_id": self.image_id,
            "image_config": self.image_config,
            "lowerdirs": list(self.lowerdirs),
            "config": self.config,
            "host_config": self.host_config,
            "runtime": self.runtime,
            "state": self.state.to_json(),
            "mounts": self.mounts,
            "restart_count": self.restart_count,
            "manually_stopped": self.manually_stopped,
            "has_been_started": self.has_been_started,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Container:
        return cls(
            **{
                **document,
                "lowerdirs": tuple(document["lowerdirs"]),
                "state": State.from_json(document["state"]),
            }
        )


@dataclass(frozen=True)
class ContainerPaths:
    """Where a container's files live: persistent ones under the data root, the bundle and
    conmon's sockets, fifos and pid files under the exec root (gone after a reboot)."""

    data: Path  # DATA_ROOT/containers/ID
    run: Path  # EXEC_ROOT/containers/ID

    @property
    def upper(self) -> Path:
        return self.data / "upper"

    @property
    def work(self) -> Path:
        return self.data / "work"

    @property
    def json_log(self) -> Path:
        return self.data / f"{self.data.name}-json.log"

    @property
    def conmon_log(self) -> Path:
        return self.data / "conmon.log"

    @property
    def log_cursor(self) -> Path:
        return self.data / "conmon.log.cursor"

    @property
    def hostname(self) -> Path:
        return self.data / "hostname"

    @property
    def hosts(self) -> Path:
        return self.data / "hosts"

    @property
    def resolv_conf(self) -> Path:
        return self.data / "resolv.conf"

    @property
    def bundle(self) -> Path:
        return self.run / "bundle"

    @property
    def rootfs(self) -> Path:
        return self.bundle / "rootfs"

    @property
    def pidfile(self) -> Path:
        return self.run / "pid"

    @property
    def conmon_pidfile(self) -> Path:
        return self.run / "conmon.pid"

    @property
    def persist(self) -> Path:
        return self.run / "persist"

    @property
    def ctl(self) -> Path:
        return self.bundle / "ctl"
