"""The real system calls, through `cabi` against the C library (x86_64 and aarch64)."""

from __future__ import annotations

import os

from porter_runtime.errors import SyscallError
from porter_runtime.syscalls import cabi

_libc = cabi.Library()
_libc.syscall.restype = cabi.c_long
_libc.prctl.restype = cabi.c_int

# syscall numbers the C library has no wrapper for
_NUMBERS = {
    "x86_64": {
        "pivot_root": 155,
        "ioprio_set": 251,
        "sched_setattr": 314,
        "mount_setattr": 442,
        "keyctl": 250,
    },
    "aarch64": {
        "pivot_root": 41,
        "ioprio_set": 30,
        "sched_setattr": 274,
        "mount_setattr": 442,
        "keyctl": 219,
    },
}
_SYS = _NUMBERS.get(os.uname().machine, _NUMBERS["x86_64"])
_CAP_V3 = 0x20080522
_KEYCTL_SETPERM = 5
_KEYCTL_DESCRIBE = 6
_KEYCTL_JOIN_SESSION_KEYRING = 1
_AT_EMPTY_PATH = 0x1000
_AT_RECURSIVE = 0x8000


class _CapHeader(cabi.Structure):
    _fields_ = [("version", cabi.c_uint32), ("pid", cabi.c_int)]


class _CapData(cabi.Structure):
    _fields_ = [
        ("effective", cabi.c_uint32),
        ("permitted", cabi.c_uint32),
        ("inheritable", cabi.c_uint32),
    ]


class _SchedAttr(cabi.Structure):
    _fields_ = [
        ("size", cabi.c_uint32),
        ("policy", cabi.c_uint32),
        ("flags", cabi.c_uint64),
        ("nice", cabi.c_int32),
        ("priority", cabi.c_uint32),
        ("runtime", cabi.c_uint64),
        ("deadline", cabi.c_uint64),
        ("period", cabi.c_uint64),
    ]


class _MountAttr(cabi.Structure):
    _fields_ = [
        ("attr_set", cabi.c_uint64),
        ("attr_clr", cabi.c_uint64),
        ("propagation", cabi.c_uint64),
        ("userns_fd", cabi.c_uint64),
    ]


def _check(result: int, call: str, obj: object) -> int:
    """Raise on failure; `obj` may be a callable, evaluated only then (it may read /proc,
    which after setns can be another namespace's)."""
    if result < 0:
        errno = cabi.get_errno()
        raise SyscallError(call, obj() if callable(obj) else obj, errno)
    return result


def _fd_name(fd: int) -> object:
    def name() -> str:
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return f"descriptor {fd}"

    return name


def _b(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


class LinuxSyscalls:
    """Makes each call for real; failures raise SyscallError(call, object, errno)."""

    def mount(self, source: str, target: str, fstype: str, flags: int, data: str) -> None:
        _check(
            _libc.mount(_b(source), _b(target), _b(fstype), cabi.c_ulong(flags), _b(data or None)),
            "mount",
            f"{source or fstype or 'none'} on {target}",
        )

    def umount2(self, target: str, flags: int) -> None:
        _check(_libc.umount2(_b(target), flags), "umount", target)

    def mount_setattr(self, fd: int, set_attrs: int, clear_attrs: int, recursive: bool) -> None:
        attr = _MountAttr(set_attrs, clear_attrs, 0, 0)
        flags = _AT_EMPTY_PATH | (_AT_RECURSIVE if recursive else 0)
        _check(
            _libc.syscall(
                _SYS["mount_setattr"], fd, b"", flags, cabi.byref(attr), cabi.sizeof(attr)
            ),
            "mount_setattr",
            _fd_name(fd),
        )

    def pivot_root(self, new_root: str, put_old: str) -> None:
        _check(_libc.syscall(_SYS["pivot_root"], _b(new_root), _b(put_old)), "pivot_root", new_root)

    def unshare(self, flags: int) -> None:
        _check(_libc.unshare(flags), "unshare", hex(flags))

    def setns(self, fd: int, nstype: int) -> None:
        _check(_libc.setns(fd, nstype), "setns", _fd_name(fd))

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        _check(_libc.sethostname(raw, len(raw)), "sethostname", name)

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        _check(_libc.setdomainname(raw, len(raw)), "setdomainname", name)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        header = _CapHeader(_CAP_V3, 0)
        data = (_CapData * 2)()
        for i in range(2):
            shift = 32 * i
            data[i].effective = (effective >> shift) & 0xFFFFFFFF
            data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        _check(_libc.capset(cabi.byref(header), data), "capset", "process capabilities")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        return _check(
            _libc.prctl(
                option,
                cabi.c_ulong(arg2),
                cabi.c_ulong(arg3),
                cabi.c_ulong(0),
                cabi.c_ulong(0),
            ),
            "prctl",
            f"option {option}",
        )

    def personality(self, persona: int) -> None:
        _check(_libc.personality(cabi.c_ulong(persona)), "personality", hex(persona))

    def ioprio_set(self, ioclass: int, priority: int) -> None:
        value = (ioclass << 13) | priority
        _check(
            _libc.syscall(_SYS["ioprio_set"], 1, 0, value),
            "ioprio_set",
            f"class {ioclass} priority {priority}",
        )

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
        attr = _SchedAttr(
            cabi.sizeof(_SchedAttr), policy, flags, nice, priority, runtime, deadline, period
        )
        _check(
            _libc.syscall(_SYS["sched_setattr"], 0, cabi.byref(attr), 0),
            "sched_setattr",
            f"policy {policy}",
        )

    def join_session_keyring(self, name: str) -> int:
        """keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new (or the named) session keyring."""
        if os.uname().machine not in _NUMBERS:
            raise SyscallError("keyctl", f"join session keyring {name}", 38)  # ENOSYS
        return _check(
            _libc.syscall(_SYS["keyctl"], _KEYCTL_JOIN_SESSION_KEYRING, _b(name)),
            "keyctl",
            f"join session keyring {name}",
        )

    def keyring_permissions(self, serial: int) -> int:
        """The permission mask of a key, from KEYCTL_DESCRIBE ("type;uid;gid;perm;desc")."""
        buf = (cabi.c_char * 512)()
        _check(
            _libc.syscall(_SYS["keyctl"], _KEYCTL_DESCRIBE, serial, buf, len(buf)),
            "keyctl",
            f"describe key {serial}",
        )
        return int(buf.value.split(b";")[3], 16)

    def set_keyring_permissions(self, serial: int, perm: int) -> None:
        _check(
            _libc.syscall(_SYS["keyctl"], _KEYCTL_SETPERM, serial, cabi.c_uint32(perm)),
            "keyctl",
            f"set permissions of key {serial}",
        )

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        try:
            os.mknod(path, mode, os.makedev(major, minor))
        except OSError as exc:
            raise SyscallError("mknod", path, exc.errno or 0) from exc
