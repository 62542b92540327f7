"""A recording fake of the syscall interface: setup logic is tested without root.

Each call is appended to `calls` as a tuple (name, *arguments). Targets given as
/proc/self/fd/N (how the runtime mounts onto a checked descriptor) are recorded as the path
the descriptor points to, so tests read real paths. `fail` maps a call name to an errno to
raise, for testing error paths.
"""

from __future__ import annotations

import os

from porter_runtime.errors import SyscallError


def _real_path(path: str) -> str:
    if path.startswith("/proc/self/fd/"):
        number, _, rest = path[len("/proc/self/fd/") :].partition("/")
        real = os.readlink(f"/proc/self/fd/{number}")
        return f"{real}/{rest}" if rest else real
    return path


class RecordingSyscalls:
    def __init__(self, fail: dict[str, int] | None = None) -> None:
        self.calls: list[tuple] = []
        self.fail = dict(fail or {})

    def _record(self, name: str, *args: object) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise SyscallError(name, str(args[0]) if args else "", self.fail[name])

    def named(self, name: str) -> list[tuple]:
        """The recorded calls of one kind, in order."""
        return [c for c in self.calls if c[0] == name]

    def mount(self, source: str, target: str, fstype: str, flags: int, data: str) -> None:
        self._record("mount", _real_path(source), _real_path(target), fstype, flags, data)

    def umount2(self, target: str, flags: int) -> None:
        self._record("umount2", target, flags)

    def mount_setattr(self, fd: int, set_attrs: int, clear_attrs: int, recursive: bool) -> None:
        self._record(
            "mount_setattr", os.readlink(f"/proc/self/fd/{fd}"), set_attrs, clear_attrs, recursive
        )

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._record("pivot_root", new_root, put_old)

    def unshare(self, flags: int) -> None:
        self._record("unshare", flags)

    def setns(self, fd: int, nstype: int) -> None:
        self._record("setns", fd, nstype)

    def sethostname(self, name: str) -> None:
        self._record("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._record("setdomainname", name)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._record("capset", effective, permitted, inheritable)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        self._record("prctl", option, arg2, arg3)
        return 0

    def personality(self, persona: int) -> None:
        self._record("personality", persona)

    def ioprio_set(self, ioclass: int, priority: int) -> None:
        self._record("ioprio_set", ioclass, priority)

    def sched_setattr(
        self,
        policy: int,
        nice: int,
        priority: int,
        flags: int,
        runtime: int,
        deadline: int,
        period: int,
    ) -> None:
        self._record("sched_setattr", policy, nice, priority, flags, runtime, deadline, period)

    def join_session_keyring(self, name: str) -> int:
        self._record("join_session_keyring", name)
        return 1234

    def keyring_permissions(self, serial: int) -> int:
        self._record("keyring_permissions", serial)
        return 0x3F010000

    def set_keyring_permissions(self, serial: int, perm: int) -> None:
        self._record("set_keyring_permissions", serial, perm)

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        self._record("mknod", _real_path(path), mode, major, minor)
