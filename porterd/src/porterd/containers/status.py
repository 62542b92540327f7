"""A container's status, with the guards that say which operations it allows.

The values are dockerd's `State.Status` strings. Each guard answers for one operation so that
the service asks the status rather than comparing strings (youki's `ContainerStatus`).
"""

from __future__ import annotations

import enum


class Status(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    def can_start(self) -> bool:
        return self in (Status.CREATED, Status.EXITED)

    def is_running(self) -> bool:
        """The container's process exists (paused included), as docker's `State.Running`."""
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)

    def can_stop(self) -> bool:
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)

    def can_kill(self) -> bool:
        return self in (Status.RUNNING, Status.PAUSED)

    def can_pause(self) -> bool:
        return self is Status.RUNNING

    def can_unpause(self) -> bool:
        return self is Status.PAUSED

    def can_exec(self) -> bool:
        return self is Status.RUNNING

    def can_attach(self) -> bool:
        return self is not Status.REMOVING and self is not Status.DEAD

    def can_remove(self, force: bool) -> bool:
        """Stopped containers go; running ones only with force; one being removed never twice."""
        if self in (Status.REMOVING,):
            return False
        return force or not self.is_running()

    def can_update(self) -> bool:
        return self is not Status.REMOVING and self is not Status.DEAD
