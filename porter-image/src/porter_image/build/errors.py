"""The errors of the builder: each names where in the Dockerfile (or the build) it failed."""

from __future__ import annotations

from porter_specs.errors import PorterError


class BuildError(PorterError):
    """A build step cannot be done: `FILE:LINE: INSTRUCTION: reason`, or `build: reason`."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class RunFailedError(BuildError):
    """A RUN step's command exited non-zero (its output went to the build's output)."""

    def __init__(self, where: str, command: str, status: int) -> None:
        super().__init__(where, f"{command!r} exited with status {status}")
        self.status = status
