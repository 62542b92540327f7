"""The runtime's errors: one class per thing that can go wrong, each carrying its object.

Every class derives from `porter_specs.errors.PorterError`; `str()` is the one line the user
sees. The CLI maps classes to exit codes in one place (`porter_runtime.cli.EXIT_CODES`).
"""

from __future__ import annotations

from porter_specs.errors import PorterError


class RuntimeFailure(PorterError):
    """Base of every porter-runtime error."""


class UsageError(RuntimeFailure):
    """The command line itself is wrong (unknown flag, missing argument)."""


class ConfigError(RuntimeFailure):
    """config.json cannot be read, violates the schema, or asks for something impossible."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why


class ContainerNotFoundError(RuntimeFailure):
    def __init__(self, container_id: str) -> None:
        super().__init__(f"container {container_id!r} does not exist")
        self.container_id = container_id


class ContainerExistsError(RuntimeFailure):
    def __init__(self, container_id: str) -> None:
        super().__init__(f"container {container_id!r} already exists")
        self.container_id = container_id


class InvalidIdError(RuntimeFailure):
    def __init__(self, container_id: str) -> None:
        super().__init__(
            f"invalid container id {container_id!r}: use letters, digits, '_', '+', '-', '.'"
        )
        self.container_id = container_id


class WrongStateError(RuntimeFailure):
    """An operation that the runtime-spec forbids in the container's current state."""

    def __init__(self, container_id: str, status: str, operation: str, allowed: str) -> None:
        super().__init__(
            f"cannot {operation} container {container_id!r}: it is {status}, must be {allowed}"
        )
        self.container_id = container_id
        self.status = status
        self.operation = operation


class SyscallError(RuntimeFailure):
    """A system call failed; carries the call, its object and errno."""

    def __init__(self, call: str, obj: str, errno: int) -> None:
        import os

        super().__init__(f"{call} {obj}: {os.strerror(errno)}")
        self.call = call
        self.obj = obj
        self.errno = errno


class ContainerSetupError(RuntimeFailure):
    """Setting up the container's process failed (reported by the init through its pipe)."""


class HookError(RuntimeFailure):
    def __init__(self, kind: str, path: str, why: str) -> None:
        super().__init__(f"{kind} hook {path}: {why}")
        self.kind = kind
        self.path = path


class CgroupsUnavailableError(RuntimeFailure):
    """An operation that needs the cgroups package (pause, update, events) without it."""
