"""The runtime-spec's state of a container (runtime.md, State), and its lifecycle guards.

`Status` says which operations the spec allows in each state, as youki's `ContainerStatus`
does, so that a runtime checks one method instead of spelling out the states each time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from porter_specs.canonical import canonical_json, load_json
from porter_specs.json_model import JsonModel


class Status(enum.StrEnum):
    """The status of a container. PAUSED is runc's addition (the freezer), which the spec allows."""

    CREATING = "creating"
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    PAUSED = "paused"

    def can_start(self) -> bool:
        """`start` only runs a container that is created (runtime.md, Start)."""
        return self is Status.CREATED

    def can_kill(self) -> bool:
        """`kill` signals a created or running container (a paused one too, as runc does)."""
        return self in (Status.CREATED, Status.RUNNING, Status.PAUSED)

    def can_delete(self) -> bool:
        """`delete` only removes a stopped container (runtime.md, Delete)."""
        return self is Status.STOPPED

    def can_exec(self) -> bool:
        """A new process joins only a running container."""
        return self is Status.RUNNING

    def can_pause(self) -> bool:
        return self is Status.RUNNING

    def can_resume(self) -> bool:
        return self is Status.PAUSED

    @property
    def has_pid(self) -> bool:
        """The spec requires a pid when created or running (on Linux)."""
        return self in (Status.CREATED, Status.RUNNING, Status.PAUSED)


@dataclass(frozen=True)
class State(JsonModel):
    """The state a runtime reports (`state <id>`) and passes to hooks on stdin."""

    _what = "runtime state"

    oci_version: str
    id: str
    status: Status
    bundle: str
    pid: int | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data: bytes | str, what: str = "state") -> State:
        """Parse state JSON into the model (no schema check; see porter_specs.validate)."""
        return cls.from_json(load_json(data, what))

    def encode(self) -> bytes:
        """Canonical JSON bytes of the state."""
        return canonical_json(self.to_json())
