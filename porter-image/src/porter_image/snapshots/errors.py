"""The error of the snapshot store and of overlay mounts."""

from __future__ import annotations

from porter_specs.errors import PorterError


class SnapshotError(PorterError):
    """A snapshot cannot be made, found or removed, or an overlay cannot be (un)mounted.

    `what` names the object: a chain id, a mount point.
    """

    def __init__(self, what: object, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason
