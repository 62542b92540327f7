"""C functions, integer types and structures from `_ctypes`, without the `ctypes` package.

Every create and exec calls into libc (mount, unshare, prctl, ...), and importing ctypes
costs 2 to 3 ms: it builds dozens of types and prototypes and imports struct, types and
_endian. The runtime needs a handful of integer types and two kinds of function, which
ctypes itself builds from `_ctypes` in exactly this way (its `c_int` is this `c_int`), so
they behave as the ctypes ones do. Code off the hot path (seccomp, eBPF) uses ctypes.
"""

from __future__ import annotations

from _ctypes import (
    FUNCFLAG_CDECL,
    FUNCFLAG_PYTHONAPI,
    FUNCFLAG_USE_ERRNO,
    RTLD_LOCAL,
    CFuncPtr,
    Structure,
    _SimpleCData,
    byref,
    dlopen,
    get_errno,
    sizeof,
)

__all__ = [
    "Library",
    "Structure",
    "byref",
    "c_char",
    "c_int",
    "c_int32",
    "c_long",
    "c_uint32",
    "c_uint64",
    "c_ulong",
    "get_errno",
    "sizeof",
]


# named as in ctypes, whose classes these are
class c_int(_SimpleCData):
    _type_ = "i"


c_int32 = c_int  # as in ctypes, where int is 32 bits


class c_long(_SimpleCData):
    _type_ = "l"


class c_ulong(_SimpleCData):
    _type_ = "L"


class c_uint32(_SimpleCData):
    _type_ = "I"


class c_uint64(_SimpleCData):
    _type_ = "Q"


class c_char(_SimpleCData):
    _type_ = "c"


class _Program:
    """dlopen(NULL): the interpreter and every library it links, libc included."""

    _handle = dlopen(None, RTLD_LOCAL)


class _Released(CFuncPtr):
    """Releases the GIL for the call and keeps errno (ctypes' CDLL(use_errno=True))."""

    _flags_ = FUNCFLAG_CDECL | FUNCFLAG_USE_ERRNO
    _restype_ = c_int


class _Held(CFuncPtr):
    """Keeps the GIL for the call (ctypes' PyDLL): the interpreter's own API, and calls
    that must see the interpreter exactly as it is, such as a fork."""

    _flags_ = FUNCFLAG_CDECL | FUNCFLAG_PYTHONAPI
    _restype_ = c_int


class Library:
    """Functions of the running program by name, bound on first use; each returns a C int
    unless its `restype` is set (as with ctypes.CDLL(None, use_errno=True), or PyDLL(None)
    with hold_gil)."""

    def __init__(self, hold_gil: bool = False) -> None:
        self._kind = _Held if hold_gil else _Released

    def __getattr__(self, name: str) -> CFuncPtr:
        if name.startswith("_"):
            raise AttributeError(name)
        function = self._kind((name, _Program))
        setattr(self, name, function)
        return function
