"""The one error of the seccomp package."""

from __future__ import annotations

from porter_specs.errors import PorterError


class SeccompError(PorterError):
    """A seccomp profile is invalid, or the kernel or libseccomp refused it.

    `what` names the offending part of the profile ("defaultAction",
    "syscalls[3].args[0].op", "install"), so the one-line message points at it.
    """

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"seccomp: {what}: {reason}")
        self.what = what
        self.reason = reason
