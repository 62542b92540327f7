"""A thin ctypes binding to libseccomp, used only to turn rules into classic BPF.

libseccomp knows every architecture's syscall table and how to compare 64-bit
arguments on 32-bit ABIs; we let it build the filter and export the BPF bytes
(`seccomp_export_bpf`), and install those bytes ourselves. So the container's init
needs no library at all: only the bytes, computed before the fork.
"""

from __future__ import annotations

import ctypes
import os

from porter_runtime.seccomp.errors import SeccompError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

NR_SCMP_ERROR = -1
ATTR_CTL_NNP = 3
ATTR_CTL_OPTIMIZE = 8


class ArgCmp(ctypes.Structure):
    """struct scmp_arg_cmp"""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


_loaded: list[ctypes.CDLL] = []


def library() -> ctypes.CDLL:
    """Load libseccomp.so.2 once and declare the signatures we call.

    The soname is tried first: ctypes.util.find_library runs ldconfig in a subprocess,
    tens of milliseconds on every create with a seccomp profile."""
    if _loaded:
        return _loaded[0]
    name = "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        from ctypes.util import find_library

        name = find_library("seccomp") or name
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError as e:
            raise SeccompError("libseccomp", f"cannot load {name}: {e}") from e
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(ArgCmp),
    ]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    _loaded.append(lib)
    return lib


def arch_token(name: str) -> int:
    """libseccomp's token for an architecture name; 0 when this libseccomp lacks it."""
    return int(library().seccomp_arch_resolve_name(name.encode()))


def syscall_number(name: str) -> int | None:
    """The syscall's number (negative pseudo-numbers for other arches); None if unknown."""
    nr = library().seccomp_syscall_resolve_name(name.encode())
    return None if nr == NR_SCMP_ERROR else int(nr)


class Filter:
    """A libseccomp filter context; use as a context manager so it is always released."""

    def __init__(self, default_action: int) -> None:
        self.lib = library()
        self.ctx = self.lib.seccomp_init(default_action)
        if not self.ctx:
            raise SeccompError("defaultAction", f"libseccomp refused {default_action:#x}")
        # no_new_privs is the runtime's decision, not libseccomp's
        self.lib.seccomp_attr_set(self.ctx, ATTR_CTL_NNP, 0)
        self.lib.seccomp_attr_set(self.ctx, ATTR_CTL_OPTIMIZE, 2)  # binary tree, if known

    def __enter__(self) -> Filter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lib.seccomp_release(self.ctx)

    def add_arch(self, token: int) -> None:
        rc = self.lib.seccomp_arch_add(self.ctx, token)
        if rc < 0 and -rc != 17:  # EEXIST: the native arch is always there
            raise SeccompError("architectures", f"cannot add: {os.strerror(-rc)}")

    def add_rule(self, action: int, syscall: int, conditions: Sequence[ArgCmp]) -> int:
        """Add one rule; returns libseccomp's result (0 or -errno) for the caller to word."""
        array = (ArgCmp * len(conditions))(*conditions)
        return int(
            self.lib.seccomp_rule_add_array(self.ctx, action, syscall, len(conditions), array)
        )

    def export_bpf(self) -> bytes:
        """The filter as an array of `struct sock_filter`, ready for seccomp(2)."""
        fd = os.memfd_create("porter-seccomp", os.MFD_CLOEXEC)
        try:
            rc = self.lib.seccomp_export_bpf(self.ctx, fd)
            if rc < 0:
                raise SeccompError(
                    "export", f"libseccomp cannot export the filter: {os.strerror(-rc)}"
                )
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
